//! Generates one test per golden fixture: `fixtures/{compile_pass,compile_fail}/<feature>/<case>.bsc`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new("fixtures");
    println!("cargo:rerun-if-changed=fixtures");
    let mut code = String::new();
    for outcome in ["compile_pass", "compile_fail"] {
        let dir = root.join(outcome);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut features: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        features.sort();
        for feature in features {
            println!("cargo:rerun-if-changed={}", feature.display());
            let mut cases: Vec<_> = std::fs::read_dir(&feature)
                .expect("feature folder is readable")
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "bsc"))
                .collect();
            cases.sort();
            for case in cases {
                let feature_name = feature
                    .file_name()
                    .and_then(|s| s.to_str())
                    .expect("utf-8 name");
                let case_name = case
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .expect("utf-8 name");
                let relative = format!("{outcome}/{feature_name}/{case_name}.bsc");
                let test_name = format!("{outcome}__{feature_name}__{case_name}").replace('-', "_");
                writeln!(
                    code,
                    "#[test]\nfn {test_name}() {{ check_fixture({relative:?}); }}\n"
                )
                .expect("writing to a String");
            }
        }
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("golden_tests.rs"), code).expect("OUT_DIR is writable");
}
