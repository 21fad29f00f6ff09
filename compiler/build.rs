//! Generates the parser from `grammar/biscol.lalrpop` and embeds the code explanations from
//! `src/diagnostic/explain/*.md`, both at build time.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=../grammar/biscol.lalrpop");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    lalrpop::Configuration::new()
        .set_in_dir("../grammar")
        .set_out_dir(&out_dir)
        .process()
        .expect("the grammar must compile");
    embed_explanations(Path::new("src/diagnostic/explain"), Path::new(&out_dir));
    embed_stdlib(Path::new("../stdlib"), Path::new(&out_dir));
}

fn md_files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == ext));
    entries.sort();
    entries
}

fn embed_stdlib(dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut code = String::from("&[\n");
    for path in md_files(dir, "bsc") {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 file name");
        let text = std::fs::read_to_string(&path).expect("stdlib file exists");
        // The text itself, not an `include_str!` of an absolute path: a target folder shared by
        // two checkouts must never compile one checkout's files into the other's build.
        writeln!(code, "    ({stem:?}, {text:?}),").expect("writing to a String");
    }
    code.push_str("]\n");
    std::fs::write(out_dir.join("stdlib.rs"), code).expect("OUT_DIR is writable");
}

fn embed_explanations(dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = md_files(dir, "md");
    let mut code = String::from("/// Long explanations, by code, from `explain/*.md`.\n");
    code.push_str("pub const EXPLANATIONS: &[(&str, &str)] = &[\n");
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 file name");
        let text = std::fs::read_to_string(&path).expect("explain file exists");
        // The text itself, not an `include_str!` of an absolute path: a target folder shared by
        // two checkouts must never compile one checkout's files into the other's build.
        writeln!(code, "    ({stem:?}, {text:?}),").expect("writing to a String");
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("explanations.rs"), code).expect("OUT_DIR is writable");
}
