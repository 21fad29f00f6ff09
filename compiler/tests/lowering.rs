//! The IR → Taproot lowering, tested as text: IR text in, Miniscript and tree text out.
//!
//! Each fixture `tests/lowering/<case>.ir` is a module in the IR's text form (the one
//! `biscol_compiler::ir::printer` writes and `ir::parser` reads). The test parses it, lowers
//! and compiles every contract with [`biscol_compiler::taproot::compile_contract`], and checks
//! the snapshot `snapshots/lowering__<case>.snap`, whose sections are:
//!
//! * `----- IR`: the fixture, as read;
//! * `----- DIAGNOSTICS`: what the lowering and the back end's analysis reported, one line
//!   each (`error E0100: …`), or `(none)`;
//! * `----- MINISCRIPT`: the key path, then per leaf (in tree order) its name, depth, script
//!   size, worst-case witness size and Miniscript template;
//! * `----- TREE`: the tree's shape as a descriptor tree of leaf names (`{a,{b,c}}`).
//!
//! A fixture that fails to parse fails the test, so a fixture cannot silently test nothing.

use std::fmt::Write as _;
use std::path::Path;

use biscol_compiler::diagnostic::Severity;
use biscol_compiler::ir::parser;
use biscol_compiler::taproot::compile_contract;
use biscol_compiler::tree_view::leaf_name;
use biscol_taproot::compile::{template_text, Compiled};
use biscol_taproot::input::KeyPath;
use biscol_taproot::tree::TreeNode;

/// The key path as the artifact prints it.
fn key_path_text(key_path: &KeyPath) -> String {
    match key_path {
        KeyPath::Single(k) => k.to_string(),
        KeyPath::MuSig(keys) => {
            let names: Vec<String> = keys.iter().map(ToString::to_string).collect();
            format!("musig({})", names.join(","))
        }
        KeyPath::Nums => "nums".to_string(),
    }
}

/// The name of leaf `i`: its path, with the branch of a split path.
fn leaf_label(compiled: &Compiled, i: usize) -> String {
    let leaf = &compiled.leaves[i];
    leaf_name(&compiled.paths[leaf.path].name, leaf.branch)
}

/// The tree as a descriptor tree of leaf names.
fn tree_text(compiled: &Compiled, node: &TreeNode) -> String {
    match node {
        TreeNode::Leaf(i) => leaf_label(compiled, *i),
        TreeNode::Branch(l, r) => {
            format!("{{{},{}}}", tree_text(compiled, l), tree_text(compiled, r))
        }
    }
}

/// The snapshot text of one fixture.
fn render(case: &str, text: &str) -> String {
    let module = parser::parse(text).unwrap_or_else(|e| panic!("{case}.ir: {e}"));
    assert!(
        !module.contracts.is_empty(),
        "{case}.ir holds no contract to lower"
    );
    let mut out = String::from("----- IR\n");
    out.push_str(text);
    for contract in &module.contracts {
        let output = compile_contract(contract);
        out.push_str("----- DIAGNOSTICS\n");
        if output.diagnostics.is_empty() {
            out.push_str("(none)\n");
        }
        for d in &output.diagnostics {
            let severity = match d.severity {
                Severity::Bug => "bug",
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(out, "{severity} {}: {}", d.code, d.message);
        }
        let Some(compiled) = &output.compiled else {
            continue;
        };
        out.push_str("----- MINISCRIPT\n");
        let _ = writeln!(out, "key {}", key_path_text(&compiled.key_path));
        for (i, leaf) in compiled.leaves.iter().enumerate() {
            let _ = writeln!(
                out,
                "{} (depth {}, script {} B, worst witness {} vB): {}",
                leaf_label(compiled, i),
                leaf.depth,
                leaf.script_size,
                leaf.witness.vbytes,
                template_text(&leaf.template, &compiled.timelocks)
            );
        }
        out.push_str("----- TREE\n");
        match &compiled.tree {
            Some(tree) => {
                let _ = writeln!(out, "{}", tree_text(compiled, tree));
            }
            None => out.push_str("(no script paths)\n"),
        }
    }
    out
}

#[test]
fn every_lowering_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lowering");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/lowering is readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "the lowering fixtures are present");
    for path in cases {
        let case = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name")
            .to_string();
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let snapshot = render(&case, &text);
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("lowering__{case}"), snapshot);
        });
    }
}
