//! In-memory tests of the editor features. Snapshots draw the source with the cursor (`↑`)
//! and the returned ranges (`^^^`) under each line; code actions are shown as BEFORE/AFTER.

use biscol_compiler::{Database, Span};
use biscol_lsp::analysis;

const VAULT: &str = r#"const DAY: Blocks = 144 blocks;

fn delayed(k: PubKey, d: Blocks) -> Cond { sig(k) && older(d) }

/// A vault.
contract Vault(
    /// Day-to-day key.
    hot: PubKey,
    cold: PubKey,
    delay: Blocks = DAY,
) {
    key cold;
    /// Withdraw after a delay.
    @weight(3)
    spend withdraw() {
        require delayed(hot, delay) && older(2 * DAY);
    }
    spend recover() {
        require sig(cold) || older(1 hour);
    }
}
"#;

/// `source` with `$0` removed, and the cursor's offset.
fn cursor(source: &str) -> (String, usize) {
    let at = source
        .find("$0")
        .expect("the source marks the cursor with $0");
    (source.replacen("$0", "", 1), at)
}

/// Puts `text` at `/w/main.bsc` (and `lib` at `/w/lib.bsc`) in a fresh database.
fn db_with(text: &str, lib: Option<&str>) -> (Database, biscol_compiler::db::SourceFile) {
    let mut db = Database::new();
    if let Some(lib) = lib {
        db.set_file("/w/lib.bsc", lib.to_string());
    }
    let file = db.set_file("/w/main.bsc", text.to_string());
    (db, file)
}

/// Draws `text` with the cursor and the spans (of file `file`) marked under each line.
fn draw(
    text: &str,
    file: biscol_compiler::FileId,
    cursor: Option<usize>,
    spans: &[Span],
) -> String {
    let mut out = String::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        out.push_str(line.trim_end_matches('\n'));
        out.push('\n');
        let mut marks: Vec<char> = vec![' '; line.len() + 1];
        let mut any = false;
        for s in spans.iter().filter(|s| s.file == file) {
            for at in (s.start as usize).max(line_start)..(s.end as usize).min(line_end) {
                marks[at - line_start] = '^';
                any = true;
            }
        }
        if let Some(c) = cursor {
            if c >= line_start && c < line_end {
                marks[c - line_start] = '↑';
                any = true;
            }
        }
        if any {
            let m: String = marks.into_iter().collect();
            out.push_str(m.trim_end());
            out.push('\n');
        }
        line_start = line_end;
    }
    out
}

fn hover_snapshot(source: &str) -> String {
    let (text, at) = cursor(source);
    let (db, file) = db_with(&text, None);
    match analysis::hover(&db, file, at) {
        Some((md, span)) => format!(
            "{}\n----- HOVER\n{md}\n",
            draw(&text, file.id(&db), Some(at), &[span])
        ),
        None => format!(
            "{}\n----- NO HOVER\n",
            draw(&text, file.id(&db), Some(at), &[])
        ),
    }
}

#[test]
fn hover_on_a_parameter_use_shows_its_type_and_docs() {
    insta::assert_snapshot!(hover_snapshot(
        &VAULT.replace("delayed(hot,", "delayed(h$0ot,")
    ));
}

#[test]
fn hover_on_a_spend_path_shows_its_compiled_form() {
    insta::assert_snapshot!(hover_snapshot(
        &VAULT.replace("spend withdraw", "spend with$0draw")
    ));
}

#[test]
fn hover_on_a_builtin_shows_its_signature() {
    insta::assert_snapshot!(hover_snapshot(&VAULT.replace("older(2", "ol$0der(2")));
}

#[test]
fn hover_on_an_error_shows_the_code_explanation() {
    let src = "contract C(k: PubKey) { spend s() { require sig(k$0x); } }";
    let out = hover_snapshot(src);
    assert!(out.contains("# E0020"), "{out}");
    assert!(out.contains("k: PubKey"), "{out}");
}

fn definition_snapshot(source: &str, lib: Option<&str>) -> String {
    let (text, at) = cursor(source);
    let (db, file) = db_with(&text, lib);
    let def = analysis::definition(&db, file, at);
    let mut out = draw(&text, file.id(&db), Some(at), def.as_slice());
    if let (Some(d), Some(lib)) = (def, lib) {
        if d.file != file.id(&db) {
            out.push_str("----- /w/lib.bsc\n");
            out.push_str(&draw(lib, d.file, None, &[d]));
        }
    }
    out
}

#[test]
fn definition_of_a_parameter_use() {
    insta::assert_snapshot!(definition_snapshot(
        &VAULT.replace("delayed(hot,", "delayed(ho$0t,"),
        None
    ));
}

#[test]
fn definition_of_a_const_and_a_fn() {
    insta::assert_snapshot!(definition_snapshot(
        &VAULT.replace("2 * DAY", "2 * D$0AY"),
        None
    ));
    insta::assert_snapshot!(definition_snapshot(
        &VAULT.replace("require delayed", "require dela$0yed"),
        None
    ));
}

#[test]
fn definition_across_a_used_file() {
    let lib = "/// One day.\nconst DAY: Blocks = 144 blocks;\n";
    let main = "use \"lib.bsc\";\ncontract C(k: PubKey) {\n    spend s() {\n        require sig(k) && older(D$0AY);\n    }\n}\n";
    insta::assert_snapshot!(definition_snapshot(main, Some(lib)));
}

#[test]
fn references_of_a_parameter() {
    let (text, at) = cursor(&VAULT.replace("    delay: Blocks", "    del$0ay: Blocks"));
    let (db, file) = db_with(&text, None);
    let refs = analysis::references(&db, file, at, true);
    insta::assert_snapshot!(draw(&text, file.id(&db), Some(at), &refs));
}

#[test]
fn rename_a_const_everywhere() {
    let (text, at) = cursor(&VAULT.replace("const DAY", "const D$0AY"));
    let (db, file) = db_with(&text, None);
    let spans = analysis::rename(&db, file, at, "ONE_DAY").expect("valid rename");
    insta::assert_snapshot!(draw(&text, file.id(&db), Some(at), &spans));
    assert!(analysis::rename(&db, file, at, "spend").is_err());
    assert!(analysis::rename(&db, file, at, "sig").is_err());
}

#[test]
fn completion_offers_keywords_builtins_and_names_in_scope() {
    let (text, at) = cursor(&VAULT.replace("require sig(cold)", "require sig($0cold)"));
    let (db, file) = db_with(&text, None);
    let items = analysis::completion(&db, file, at);
    let listed: Vec<String> = items
        .iter()
        .map(|c| format!("{:<12} {:?}  {}", c.label, c.kind, c.detail))
        .collect();
    insta::assert_snapshot!(format!(
        "{}\n----- COMPLETION\n{}\n",
        draw(&text, file.id(&db), Some(at), &[]),
        listed.join("\n")
    ));
    let (text, at) = cursor("contract C(k: Pub$0) {}");
    let (db, file) = db_with(&text, None);
    let items = analysis::completion(&db, file, at);
    assert!(items.iter().any(|c| c.label == "PubKey"));
    assert!(items
        .iter()
        .all(|c| c.kind == analysis::CompletionKind::Type));
}

#[test]
fn signature_help_for_builtins_and_fns() {
    let (text, at) = cursor(&VAULT.replace("delayed(hot, delay)", "delayed(hot, $0delay)"));
    let (db, file) = db_with(&text, None);
    let (label, params, active, _) =
        analysis::signature_help(&db, file, at).expect("inside a call");
    assert_eq!(label, "fn delayed(k: PubKey, d: Blocks) -> Cond");
    assert_eq!(params, vec!["k: PubKey", "d: Blocks"]);
    assert_eq!(active, 1);
    let (text, at) = cursor("contract C(k: PubKey) { spend s() { require threshold(1, $0");
    let (db, file) = db_with(&text, None);
    let (label, _, active, _) = analysis::signature_help(&db, file, at).expect("inside a call");
    assert!(label.starts_with("threshold(k: Int"));
    assert_eq!(active, 1);
}

#[test]
fn document_symbols_outline() {
    let (db, file) = db_with(VAULT, None);
    let mut out = String::new();
    fn walk(out: &mut String, syms: &[analysis::Symbol], depth: usize) {
        for s in syms {
            out.push_str(&format!(
                "{}{:?} {} — {}\n",
                "  ".repeat(depth),
                s.kind,
                s.name,
                s.detail
            ));
            walk(out, &s.children, depth + 1);
        }
    }
    walk(&mut out, &analysis::document_symbols(&db, file), 0);
    insta::assert_snapshot!(out);
}

#[test]
fn inlay_hints_resolve_timelocks() {
    let (db, file) = db_with(VAULT, None);
    let mut text = VAULT.to_string();
    for (at, label) in analysis::inlay_hints(&db, file).into_iter().rev() {
        text.insert_str(at, &format!("⟨{label}⟩"));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn semantic_tokens_classify_names() {
    let (db, file) = db_with(VAULT, None);
    let tokens = analysis::semantic_tokens(&db, file);
    let line: Vec<String> = tokens
        .iter()
        .filter(|(s, _, _, _)| {
            let l = VAULT.find("require delayed").unwrap_or(0);
            *s >= l && *s < l + 46
        })
        .map(|(s, e, ty, m)| {
            format!(
                "{}:{}/{}",
                &VAULT[*s..*e],
                analysis::TOKEN_TYPES[*ty as usize],
                m
            )
        })
        .collect();
    insta::assert_snapshot!(line.join("\n"));
}

fn apply(text: &str, edits: &[(Span, String)]) -> String {
    let mut out = text.to_string();
    let mut edits = edits.to_vec();
    edits.sort_by_key(|(s, _)| std::cmp::Reverse(s.start));
    for (s, t) in edits {
        out.replace_range(s.start as usize..s.end as usize, &t);
    }
    out
}

fn actions_snapshot(source: &str) -> String {
    let (text, at) = cursor(source);
    let (db, file) = db_with(&text, None);
    let mut out = format!("----- BEFORE\n{}", draw(&text, file.id(&db), Some(at), &[]));
    for a in analysis::code_actions(&db, file, at, at) {
        out.push_str(&format!(
            "----- ACTION {} (fixes {})\n----- AFTER\n{}",
            a.title,
            a.fixes
                .map_or("nothing".to_string(), |d| d.code.to_string()),
            apply(&text, &a.edits)
        ));
    }
    out
}

#[test]
fn code_action_did_you_mean() {
    insta::assert_snapshot!(actions_snapshot(
        "contract C(owner: PubKey) {\n    spend s() {\n        require sig(ow$0ner2);\n    }\n}\n"
    ));
}

#[test]
fn code_action_missing_sig() {
    insta::assert_snapshot!(actions_snapshot(
        "contract C(owner: PubKey, h: Sha256) {\n    spend s(p: Bytes32) {\n        require sha256(p) == h$0;\n    }\n}\n"
    ));
}
