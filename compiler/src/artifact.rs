//! Building the artifact of a checked contract. The format itself, reading it back and
//! instantiation live in `biscol-artifact` (re-exported here), which the runtime uses without
//! the compiler.
//!
//! In: a checked contract (HIR and IR), its Taproot compilation, the text and name of its
//! source file. Out: an [`Artifact`], serialized with stable field order. The artifact never
//! contains an absolute path, a time, or an id that depends on how files were loaded: spans
//! name their file by its index in [`Artifact::files`] (the contract's own file first, then the
//! others in name order), so the same source gives byte-identical artifacts on every machine.

use std::collections::{BTreeMap, BTreeSet};

pub use biscol_artifact::format::*;
use biscol_artifact::value::ValueType;
use biscol_taproot::compile::Compiled;
use biscol_taproot::input::SpanRef;
use bitcoin::hashes::{sha256, Hash};

use crate::diagnostic::render::SourceFiles;
use crate::hir;
use crate::ir::{self, printer};
use crate::span::{FileId, Span};
use crate::types::Ty;

/// The last component of a path, with `/` or `\` separators.
fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

/// Hex SHA-256 of a text.
pub fn sha256_hex(text: &str) -> String {
    sha256::Hash::hash(text.as_bytes()).to_string()
}

/// Builds the artifact of one contract.
///
/// `files` gives the names and texts of the files spans point into (the database's
/// [`SourceFiles`]); `own_file` is the contract's file; `sources` are the files it was
/// compiled from, its own first ([`embedded_sources`]).
pub fn build(
    hir: &hir::Contract,
    ir: &ir::Contract,
    compiled: &Compiled,
    literals: &[(String, String, String)],
    files: &SourceFiles,
    own_file: FileId,
    sources: Vec<SourceText>,
) -> Artifact {
    // The contract's own file is the first embedded source.
    let own_text = sources.first().map_or("", |s| s.text.as_str());
    let own_sha256 = sha256_hex(own_text);
    let mut taproot = biscol_taproot::artifact::from_compiled(compiled);
    // Stable file numbering: the contract's own file, then the other files spans use, by name.
    let mut used: BTreeSet<(String, u32)> = BTreeSet::new();
    for leaf in &taproot.leaves {
        for entry in &leaf.source_map {
            if entry.span.file != own_file.0 {
                used.insert((
                    files
                        .name_of(FileId(entry.span.file))
                        .unwrap_or("<unknown>")
                        .to_string(),
                    entry.span.file,
                ));
            }
        }
    }
    let own_name = files.name_of(own_file).unwrap_or("<unknown>").to_string();
    let mut names = vec![file_name(&own_name)];
    let mut index: BTreeMap<u32, u32> = BTreeMap::from([(own_file.0, 0)]);
    for (name, id) in used {
        index.insert(id, names.len() as u32);
        names.push(if name.starts_with("<stdlib>/") {
            name
        } else {
            file_name(&name)
        });
    }
    for leaf in &mut taproot.leaves {
        for entry in &mut leaf.source_map {
            entry.span = SpanRef {
                file: index.get(&entry.span.file).copied().unwrap_or(0),
                ..entry.span
            };
        }
    }
    let location = |span: Span| {
        let (line, column) = files.line_col(span.file, span.start as usize);
        Location {
            file: index.get(&span.file.0).copied().unwrap_or(0),
            line: line as u32,
            column: column as u32,
            start: span.start,
            end: span.end,
        }
    };
    let param = |p: &ir::Param| AbiParam {
        name: p.name.clone(),
        ty: p.ty.to_string(),
        default: p.default.as_ref().map(|d| default_text(d, &p.ty)),
    };
    let abi = Abi {
        params: ir.params.iter().map(param).collect(),
        paths: ir
            .paths
            .iter()
            .map(|p| AbiPath {
                name: p.name.clone(),
                weight: p.weight,
                args: p.args.iter().map(param).collect(),
                requires: p
                    .requires
                    .iter()
                    .map(|r| {
                        let mut condition = String::new();
                        printer::cond(&mut condition, &r.cond, printer::Style::default());
                        AbiRequire {
                            message: r.message.clone(),
                            condition,
                            location: location(r.span),
                        }
                    })
                    .collect(),
                proves: p.proves.len(),
                location: location(p.span),
            })
            .collect(),
        constants: literals
            .iter()
            .map(|(name, ty, hex)| AbiParam {
                name: name.clone(),
                ty: ty.clone(),
                default: Some(hex.clone()),
            })
            .collect(),
    };
    let mut ir_text = String::new();
    printer::print_contract(&mut ir_text, ir, printer::Style::default());
    Artifact {
        format: FORMAT.to_string(),
        compiler: CompilerInfo {
            name: "biscol".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        contract: hir.name.clone(),
        docs: hir.docs.clone(),
        source: SourceInfo {
            file: file_name(&own_name),
            sha256: own_sha256,
        },
        files: names,
        sources,
        abi,
        ir: ir_text,
        taproot,
    }
}

/// The [`Artifact::sources`] of a contract in the file at `own_path`, given every file it reads
/// (path, text; its own among them): its own file first, then the others by path. Paths are
/// made relative to the deepest folder that holds every file that is not a standard library
/// module, so they contain no absolute path and `use "../x.bsc"` still resolves among them.
pub fn embedded_sources(own_path: &str, files: &[(String, String)]) -> Vec<SourceText> {
    let user: Vec<&str> = files
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| !path.starts_with("<stdlib>/"))
        .collect();
    let base = common_folder(&user);
    let relative = |path: &str| -> String {
        if path.starts_with("<stdlib>/") {
            path.to_string()
        } else {
            path[base.len()..].to_string()
        }
    };
    let mut out: Vec<SourceText> = files
        .iter()
        .map(|(path, text)| SourceText {
            path: relative(path),
            text: text.clone(),
        })
        .collect();
    let own = relative(own_path);
    out.sort_by(|a, b| (a.path != own, &a.path).cmp(&(b.path != own, &b.path)));
    out.dedup_by(|a, b| a.path == b.path);
    out
}

/// The longest folder prefix (ending in `/`, or empty) shared by every path.
fn common_folder(paths: &[&str]) -> String {
    let Some(first) = paths.first() else {
        return String::new();
    };
    let mut base = match first.rfind('/') {
        Some(i) => &first[..=i],
        None => "",
    };
    for path in &paths[1..] {
        while !path.starts_with(base) {
            base = match base[..base.len() - 1].rfind('/') {
                Some(i) => &base[..=i],
                None => "",
            };
        }
    }
    base.to_string()
}

/// A default value in the form `instantiate` parses.
fn default_text(literal: &ir::Literal, ty: &Ty) -> String {
    match (literal, ty) {
        (ir::Literal::Int(n), Ty::Duration) => format!("{n}s"),
        (ir::Literal::Int(n), _) => n.to_string(),
        (ir::Literal::Bytes(hex), _) => hex.clone(),
        (ir::Literal::Array(items), Ty::Array(elem, _)) => items
            .iter()
            .map(|i| default_text(i, elem))
            .collect::<Vec<_>>()
            .join(","),
        (ir::Literal::Array(items), _) => items
            .iter()
            .map(|i| default_text(i, ty))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The instantiation type of a BiSCOL type written as text (`PubKey`, `[PubKey; 3]`).
pub fn value_type(text: &str) -> Option<ValueType> {
    ValueType::from_abi(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_paths_are_relative_to_the_shared_folder() {
        let files = [
            ("/home/a/p/lib/x.bsc".to_string(), "x".to_string()),
            ("/home/a/p/contracts/c.bsc".to_string(), "c".to_string()),
            ("<stdlib>/htlc.bsc".to_string(), "h".to_string()),
        ];
        let sources = embedded_sources("/home/a/p/contracts/c.bsc", &files);
        let paths: Vec<&str> = sources.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["contracts/c.bsc", "<stdlib>/htlc.bsc", "lib/x.bsc"]);
        let alone = embedded_sources("c.bsc", &[("c.bsc".to_string(), "c".to_string())]);
        assert_eq!(alone[0].path, "c.bsc");
    }

    /// The ABI writes types with `Ty`'s names; `biscol-artifact` reads them without the
    /// compiler, so both must know the same names.
    #[test]
    fn every_type_name_has_a_value_type() {
        for name in Ty::NAMES {
            assert_eq!(
                Ty::from_name(name).is_some(),
                value_type(name).is_some(),
                "{name}"
            );
        }
        assert!(value_type("[PubKey; 3]").is_some());
    }
}
