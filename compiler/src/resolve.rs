//! Name resolution of items: which consts, fns and contracts a file can see.
//!
//! In: a file's AST and the ASTs of the files it `use`s (found by [`crate::db`]). Out: an
//! [`ItemScope`] mapping each visible item name to where it is defined, and the errors found
//! (duplicates, names that shadow built-ins, `use`s that lead nowhere). Local names inside
//! expressions (parameters, spend arguments) are resolved by [`crate::typeck`], which asks
//! this module for item names and for suggestions.
//!
//! Rules: a `use` imports every item *defined* in the target file (not what that file imports
//! itself). A file's own items shadow imported ones; two imports that bring the same name are
//! an error at the second `use`.

use std::collections::BTreeMap;

use crate::builtins;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::suggest::did_you_mean;
use crate::syntax::ast;

/// The kinds of item a name can refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A `const`.
    Const,
    /// A `fn`.
    Fn,
    /// A `contract`.
    Contract,
}

/// Where an item is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ItemRef {
    /// The file.
    pub file: FileId,
    /// Its index in that file's `items`.
    pub index: usize,
    /// What it is.
    pub kind: ItemKind,
    /// Where its name is written.
    pub name_span: Span,
}

/// The items visible in one file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ItemScope {
    /// By name.
    pub items: BTreeMap<String, ItemRef>,
}

impl ItemScope {
    /// The item named `name`.
    pub fn get(&self, name: &str) -> Option<&ItemRef> {
        self.items.get(name)
    }
}

/// The names of built-in functions; user items may not reuse them. The table itself is
/// [`crate::builtins::BUILTINS`]; this name stays for callers that only need the names.
pub use crate::builtins::NAMES as BUILTINS;

/// A resolution problem.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResolveError {
    /// A name used in an expression is not defined.
    UnknownName {
        /// The name.
        name: String,
        /// Where.
        span: Span,
        /// A close name in scope.
        suggestion: Option<String>,
    },
    /// A type name is not defined.
    UnknownType {
        /// The name.
        name: String,
        /// Where.
        span: Span,
        /// A close type name.
        suggestion: Option<String>,
    },
    /// A name is defined twice in one namespace.
    Duplicate {
        /// What kind of thing (`parameter`, `spend path`, ...).
        what: &'static str,
        /// The name.
        name: String,
        /// The second definition.
        span: Span,
        /// The first definition.
        first: Span,
    },
    /// An item reuses the name of a built-in function.
    ShadowsBuiltin {
        /// The name.
        name: String,
        /// Where.
        span: Span,
    },
    /// A `use` whose target does not exist.
    UnresolvedUse {
        /// The target as written.
        target: String,
        /// Where.
        span: Span,
        /// A close stdlib module name.
        suggestion: Option<String>,
    },
    /// A const whose value depends on itself, or a recursive fn.
    Cycle {
        /// The name.
        name: String,
        /// Where it is used inside its own definition.
        span: Span,
        /// The definition.
        definition: Span,
    },
    /// An attribute other than `@weight`.
    UnknownAttribute {
        /// The name.
        name: String,
        /// Where.
        span: Span,
        /// A close attribute name.
        suggestion: Option<String>,
    },
    /// A call to a function that does not exist.
    UnknownFunction {
        /// The name.
        name: String,
        /// Where.
        span: Span,
        /// A close function name.
        suggestion: Option<String>,
    },
}

impl ResolveError {
    /// The diagnostic for this error (all resolution messages are written here).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let with_suggestion = |d: Diagnostic, s: &Option<String>| match s {
            Some(s) => d.with_help(format!("a name with a similar spelling exists: `{s}`")),
            None => d,
        };
        match self {
            ResolveError::UnknownName { name, span, suggestion } => with_suggestion(
                Diagnostic::error("E0020", format!("cannot find `{name}` in this scope"), *span)
                    .with_label("not found in this scope"),
                suggestion,
            ),
            ResolveError::UnknownType { name, span, suggestion } => with_suggestion(
                Diagnostic::error("E0021", format!("cannot find type `{name}`"), *span)
                    .with_label("unknown type")
                    .with_note(format!("the types are: {}", crate::types::Ty::NAMES.join(", "))),
                suggestion,
            ),
            ResolveError::Duplicate { what, name, span, first } => Diagnostic::error(
                "E0022",
                format!("the {what} `{name}` is defined more than once"),
                *span,
            )
            .with_label(format!("`{name}` redefined here"))
            .with_secondary(*first, format!("`{name}` first defined here"))
            .with_help(format!("rename one of the two definitions of `{name}`")),
            ResolveError::ShadowsBuiltin { name, span } => Diagnostic::error(
                "E0022",
                format!("`{name}` is the name of a built-in function"),
                *span,
            )
            .with_label("this would hide the built-in")
            .with_help("choose another name"),
            ResolveError::UnresolvedUse { target, span, suggestion } => with_suggestion(
                Diagnostic::error("E0023", format!("cannot find `{target}` to import"), *span)
                    .with_label("no such module or file")
                    .with_note(
                        "`use stdlib::NAME;` imports a standard module; `use \"file.bsc\";` \
                         imports a file relative to this one",
                    ),
                suggestion,
            ),
            ResolveError::Cycle { name, span, definition } => Diagnostic::error(
                "E0024",
                format!("`{name}` is defined in terms of itself"),
                *span,
            )
            .with_label(format!("`{name}` used here while it is being defined"))
            .with_secondary(*definition, "the definition")
            .with_note("constants must have a value and functions are inlined, so neither may refer to itself"),
            ResolveError::UnknownAttribute { name, span, suggestion } => with_suggestion(
                Diagnostic::error("E0025", format!("unknown attribute `@{name}`"), *span)
                    .with_label("unknown attribute")
                    .with_note("spend paths accept `@weight(N)`"),
                suggestion,
            ),
            ResolveError::UnknownFunction { name, span, suggestion } => with_suggestion(
                Diagnostic::error("E0026", format!("cannot find function `{name}`"), *span)
                    .with_label("not a function in scope"),
                suggestion,
            ),
        }
    }
}

/// Builds the item scope of `file` from its own items and the items of the files it imports (each with the
/// span of the `use` that brought it). Imported files that failed to load are not listed; the
/// caller reports those `use`s.
pub fn item_scope(
    file: FileId,
    items: &[&ast::Item],
    imports: &[(Span, FileId, Vec<&ast::Item>)],
) -> (ItemScope, Vec<ResolveError>) {
    let mut errors = Vec::new();
    let mut own: BTreeMap<String, ItemRef> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        let Some((kind, name)) = item_name(item) else {
            continue;
        };
        if builtins::is_builtin(&name.name) {
            errors.push(ResolveError::ShadowsBuiltin {
                name: name.name.clone(),
                span: name.span,
            });
            continue;
        }
        let entry = ItemRef {
            file,
            index,
            kind,
            name_span: name.span,
        };
        if let Some(first) = own.get(&name.name) {
            errors.push(ResolveError::Duplicate {
                what: "item",
                name: name.name.clone(),
                span: name.span,
                first: first.name_span,
            });
        } else {
            own.insert(name.name.clone(), entry);
        }
    }
    let mut imported: BTreeMap<String, (ItemRef, Span)> = BTreeMap::new();
    for (use_span, import_file, import) in imports {
        for (index, item) in import.iter().enumerate() {
            let Some((kind, name)) = item_name(item) else {
                continue;
            };
            if own.contains_key(&name.name) || builtins::is_builtin(&name.name) {
                continue;
            }
            match imported.get(&name.name) {
                Some((previous, _)) if previous.file != *import_file => {
                    errors.push(ResolveError::Duplicate {
                        what: "imported item",
                        name: name.name.clone(),
                        span: *use_span,
                        first: previous.name_span,
                    });
                }
                Some(_) => {}
                None => {
                    let entry = ItemRef {
                        file: *import_file,
                        index,
                        kind,
                        name_span: name.span,
                    };
                    imported.insert(name.name.clone(), (entry, *use_span));
                }
            }
        }
    }
    let mut items = own;
    for (name, (entry, _)) in imported {
        items.insert(name, entry);
    }
    (ItemScope { items }, errors)
}

fn item_name(item: &ast::Item) -> Option<(ItemKind, &ast::Ident)> {
    match item {
        ast::Item::Const(c) => Some((ItemKind::Const, &c.name)),
        ast::Item::Fn(f) => Some((ItemKind::Fn, &f.name)),
        ast::Item::Contract(c) => Some((ItemKind::Contract, &c.name)),
        ast::Item::Use(_) | ast::Item::Error(_) => None,
    }
}

/// A close match for `name` among `candidates`, owned.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(str::to_string)
}

/// Joins a relative `use` path onto the importing file's path, lexically (no file system):
/// `contracts/a.bsc` + `../lib/b.bsc` = `lib/b.bsc`. Returns `None` for a path that climbs
/// above the root of a relative importer.
pub fn join_use_path(importer: &str, target: &str) -> Option<String> {
    let absolute =
        target.starts_with('/') || (importer.starts_with('/') && !target.starts_with('/'));
    let mut parts: Vec<&str> = Vec::new();
    if !target.starts_with('/') {
        let dir = importer.rsplit_once('/').map_or("", |(dir, _)| dir);
        parts.extend(dir.split('/').filter(|p| !p.is_empty() && *p != "."));
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    Some(if absolute {
        format!("/{joined}")
    } else {
        joined
    })
}

#[cfg(test)]
mod tests {
    use super::join_use_path;

    #[test]
    fn joins_paths_lexically() {
        assert_eq!(
            join_use_path("a/b.bsc", "c.bsc").as_deref(),
            Some("a/c.bsc")
        );
        assert_eq!(
            join_use_path("a/b.bsc", "../c.bsc").as_deref(),
            Some("c.bsc")
        );
        assert_eq!(
            join_use_path("/x/a/b.bsc", "./lib/c.bsc").as_deref(),
            Some("/x/a/lib/c.bsc")
        );
        assert_eq!(join_use_path("b.bsc", "../c.bsc"), None);
    }
}
