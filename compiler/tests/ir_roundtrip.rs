//! The IR text form loses nothing: `parse(print(ir)) == ir`, with and without spans.

use biscol_compiler::db::{self, Database};
use biscol_compiler::ir::{self, parser, printer};

const EXAMPLES: &[(&str, &str)] = &[
    ("htlc.bsc", include_str!("../../examples/htlc.bsc")),
    ("vault.bsc", include_str!("../../examples/vault.bsc")),
    (
        "inheritance.bsc",
        include_str!("../../examples/inheritance.bsc"),
    ),
    (
        "zk.bsc",
        r#"
const LIMIT: Amount = 1000 sats;
contract Escrow(buyer: PubKey, seller: PubKey, arbiter: PubKey, keys: [PubKey; 3], h: Hash160, at: Height, fee: Amount) {
    key musig(buyer, keys);
    confidential amount: Commitment<u64>;
    @weight(5)
    spend release(p: Bytes32) {
        require threshold(2, [sig(buyer), sig(seller), sig(arbiter) && older(7 days)]), "two of three \"parties\"";
        require hash160(p) == h || after(at) || after(1700000000);
        prove amount + fee <= LIMIT && amount * 2 >= fee;
    }
    spend recover() { require threshold(2, keys) && older(1024 seconds) && after(800000); }
}
"#,
    ),
];

fn lower(path: &str, text: &str) -> ir::Module {
    let mut database = Database::new();
    let file = database.set_file(path, text.to_string());
    let diagnostics = db::diagnostics(&database, file);
    assert!(
        diagnostics.iter().all(|d| !d.is_error()),
        "{path}: {diagnostics:#?}"
    );
    db::lower(&database, file)
        .clone()
        .expect("no errors, so IR")
}

#[test]
fn printing_then_parsing_gives_the_same_ir() {
    for (path, text) in EXAMPLES {
        let module = lower(path, text);
        let with_spans = printer::print(&module, printer::Style { with_spans: true });
        let parsed =
            parser::parse(&with_spans).unwrap_or_else(|e| panic!("{path}: {e}\n{with_spans}"));
        assert_eq!(parsed, module, "{path}: round trip with spans");
        assert_eq!(
            printer::print(&parsed, printer::Style { with_spans: true }),
            with_spans
        );

        let plain = printer::print(&module, printer::Style::default());
        let reparsed = parser::parse(&plain).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            printer::print(&reparsed, printer::Style::default()),
            plain,
            "{path}: round trip without spans"
        );
    }
}

#[test]
fn the_ir_text_of_a_contract_reads_as_expected() {
    let module = lower("zk.bsc", EXAMPLES[3].1);
    insta::assert_snapshot!(printer::print(&module, printer::Style::default()));
}

#[test]
fn malformed_ir_text_is_an_error_with_a_position() {
    let cases = [
        "contract",
        "contract A { path p weight x { } }",
        "contract A { key musig(a, }",
        "\"open",
    ];
    for text in cases {
        let error = parser::parse(text).expect_err(text);
        assert!(error.pos <= text.len(), "{text}: {error}");
    }
    let deep = format!(
        "contract A {{ path p weight 1 {{ require {}true{} }} }}",
        "and(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(
        parser::parse(&deep).is_err(),
        "nesting beyond the limit is an error, not an overflow"
    );
}
