//! Every artifact the compiler writes matches `schemas/artifact.schema.json`.
//!
//! The schema uses a small subset of JSON Schema (type, const, required, properties,
//! additionalProperties: false, items), which the validator below implements exactly.

use std::path::Path;

use biscol_compiler::build;
use biscol_compiler::db::{Database, STDLIB};
use serde_json::Value;

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// Errors of `v` against `schema`, with JSON paths.
fn validate(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(c) = schema.get("const") {
        if c != v {
            errors.push(format!("{at}: expected {c}, found {v}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let ok = match t {
            Value::String(name) => type_matches(name, v),
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .any(|n| type_matches(n, v)),
            _ => false,
        };
        if !ok {
            errors.push(format!("{at}: expected type {t}, found {v}"));
            return;
        }
    }
    if let (Some(obj), Some(props)) = (
        v.as_object(),
        schema.get("properties").and_then(Value::as_object),
    ) {
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = req.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                errors.push(format!("{at}: missing `{key}`"));
            }
        }
        for (key, value) in obj {
            match props.get(key) {
                Some(sub) => validate(sub, value, &format!("{at}.{key}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: unexpected `{key}`"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema_items)) = (v.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(schema_items, item, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn artifacts_match_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schemas/artifact.schema.json")).unwrap(),
    )
    .unwrap();
    let mut sources: Vec<(String, String)> = STDLIB
        .iter()
        .map(|(n, t)| (format!("{n}.bsc"), t.to_string()))
        .collect();
    for dir in [
        "examples",
        "tests/fixtures/compile_pass/keys",
        "tests/fixtures/compile_pass/timelocks",
        "tests/fixtures/compile_pass/threshold",
        "tests/fixtures/compile_pass/hashlocks",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "bsc") {
                sources.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let mut checked = 0;
    for (name, text) in sources {
        let mut database = Database::new();
        let file = database.set_file(&name, text);
        for contract in build::build(&database, file).contracts {
            let Some(artifact) = contract.artifact else {
                continue;
            };
            let value: Value = serde_json::from_str(&artifact.to_json()).unwrap();
            let mut errors = Vec::new();
            validate(&schema, &value, "$", &mut errors);
            assert!(errors.is_empty(), "{name}: {errors:#?}");
            checked += 1;
        }
    }
    println!("{checked} artifacts match the schema");
    assert!(checked >= 10, "only {checked} artifacts checked");
}
