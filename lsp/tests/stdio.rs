//! The acceptance scenario over the real protocol (JSON-RPC with `Content-Length` framing, in
//! memory): three errors give three diagnostics on the right lines; hover on a parameter's use
//! shows its type; definition jumps to the parameter; formatting returns edits; a breaking
//! edit is diagnosed; a request with a bad position is answered, not fatal.

use biscol_lsp::testing::TestClient;
use serde_json::json;

const URI: &str = "file:///virtual/three.bsc";

const THREE_ERRORS: &str = "contract C(owner: PubKey, t: Blocks) {
    spend a() {
        require sig(ownr);
    }
    spend b() {
        require older(t) && sig(owner) && older(5 parsecs);
    }
    spend c() {
        require sig(nobody);
    }
}
";

#[tokio::test]
async fn the_acceptance_scenario() {
    let mut client = TestClient::start().await;
    client.open(URI, THREE_ERRORS).await;
    let params = client.diagnostics_for(URI).await;
    let diags = params["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lines: Vec<(u64, String)> = diags
        .iter()
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().unwrap_or(99),
                d["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (2, "E0020".into()),
            (5, "E0034".into()),
            (8, "E0020".into())
        ],
        "{diags:#?}"
    );
    assert!(diags[0]["codeDescription"]["href"]
        .as_str()
        .is_some_and(|h| h.ends_with("E0020.md")));

    // Hover on the use of `t` (line 5, `older(t)`).
    let col = THREE_ERRORS
        .lines()
        .nth(5)
        .and_then(|l| l.find("(t)"))
        .unwrap_or(0) as u32
        + 1;
    let hover = client
        .call("textDocument/hover", TestClient::at(URI, 5, col))
        .await;
    let text = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(text.contains("t: Blocks"), "{hover}");

    // Definition jumps to the parameter.
    let def = client
        .call("textDocument/definition", TestClient::at(URI, 5, col))
        .await;
    assert_eq!(def["uri"], json!(URI));
    assert_eq!(def["range"]["start"], json!({ "line": 0, "character": 26 }));

    // Formatting returns edits for an unformatted file.
    let ugly = "contract D(k:PubKey){spend s(){require sig(k);}}";
    client.open("file:///virtual/ugly.bsc", ugly).await;
    client.diagnostics_for("file:///virtual/ugly.bsc").await;
    let edits = client
        .call(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": "file:///virtual/ugly.bsc" }, "options": { "tabSize": 4, "insertSpaces": true } }),
        )
        .await;
    let new_text = edits[0]["newText"].as_str().unwrap_or("");
    assert!(
        new_text.starts_with("contract D(k: PubKey) {\n    spend s() {\n"),
        "{edits}"
    );

    // A breaking edit is diagnosed: delete the `;` after `sig(k)` in the ugly file.
    let semi = ugly.find(");}").unwrap_or(0) as u32 + 1;
    client
        .change(
            "file:///virtual/ugly.bsc",
            2,
            [(0, semi), (0, semi + 1)],
            "",
        )
        .await;
    let params = client.diagnostics_for("file:///virtual/ugly.bsc").await;
    let codes: Vec<&str> = params["diagnostics"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c.starts_with("E000")),
        "{params}"
    );

    // Positions past the end, unknown documents: answered, the server lives on.
    let far = client
        .request("textDocument/hover", TestClient::at(URI, 9999, 9999))
        .await;
    assert!(far.get("result").is_some(), "{far}");
    let unknown = client
        .request(
            "textDocument/definition",
            TestClient::at("file:///nowhere.bsc", 0, 0),
        )
        .await;
    assert!(unknown.get("result").is_some(), "{unknown}");
    let symbols = client
        .call(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": URI } }),
        )
        .await;
    assert_eq!(symbols[0]["name"], json!("C"));
    let tokens = client
        .call(
            "textDocument/semanticTokens/full",
            json!({ "textDocument": { "uri": URI } }),
        )
        .await;
    assert!(tokens["data"].as_array().is_some_and(|d| d.len() > 20));
    client.shutdown().await;
}
