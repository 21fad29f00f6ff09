//! Property test: random edit sequences, sent as real `didChange` notifications with
//! requests in between, never crash the server; every edit gets its diagnostics.

use biscol_lsp::testing::TestClient;
use proptest::prelude::*;
use serde_json::json;

const START: &str = include_str!("../../examples/htlc.bsc");

const PIECES: &[&str] = &[
    "",
    "(",
    ")",
    "{",
    "}",
    ";",
    ",",
    "sig(",
    "require ",
    "\"",
    "/*",
    "*/",
    "//",
    "///",
    "é",
    "😀",
    "\n",
    "older(",
    "144 blocks",
    "&&",
    "||",
    "0x",
    "spend x() {",
    "contract",
    "@weight(",
    "[",
];

fn edits() -> impl Strategy<Value = Vec<(u32, u32, u32, usize, u8)>> {
    prop::collection::vec(
        (0u32..20, 0u32..90, 0u32..6, 0..PIECES.len(), 0u8..4),
        1..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_never_crash_the_server(script in edits()) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let uri = "file:///virtual/prop.bsc";
            let mut client = TestClient::start().await;
            client.open(uri, START).await;
            client.diagnostics_for(uri).await;
            for (version, (line, col, len, piece, request)) in script.into_iter().enumerate() {
                client
                    .change(uri, version as i64 + 2, [(line, col), (line, col + len)], PIECES[piece])
                    .await;
                let params = client.diagnostics_for(uri).await;
                assert!(params["diagnostics"].is_array());
                let at = TestClient::at(uri, line, col);
                let method = ["textDocument/hover", "textDocument/completion", "textDocument/definition", "textDocument/signatureHelp"][request as usize];
                let response = client.request(method, at).await;
                assert!(response.get("error").is_none(), "{method}: {response}");
            }
            let fmt = client
                .request("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }))
                .await;
            assert!(fmt.get("error").is_none(), "{fmt}");
            client.shutdown().await;
        });
    }
}
