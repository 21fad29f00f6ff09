//! The built-in functions: the one table that every part of the toolchain reads.
//!
//! In: nothing (a constant table). Out: for each built-in its name, its parameters and result
//! as shown to users, its documentation, and the [`BuiltinKind`] that the type checker
//! dispatches a call on. Name resolution reads the names (user items may not reuse them), the
//! type checker reads the kinds, and the language server reads the signatures and docs for
//! completion, hover and signature help.
//!
//! Invariants: names are unique; the table's order is the order completion lists them in;
//! every [`BuiltinKind`] appears once, except [`BuiltinKind::Hash`], once per [`HashFn`].

use crate::hir::HashFn;

/// What a call of a built-in is checked as: the type checker matches on this, never on the
/// name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinKind {
    /// `sig(k)`: a signature for a key.
    Sig,
    /// `older(d)`: a relative timelock.
    Older,
    /// `after(t)`: an absolute timelock.
    After,
    /// `threshold(k, ...)`: k of n keys or conditions.
    Threshold,
    /// `sha256(x)` and the other hash functions of a hash lock.
    Hash(HashFn),
    /// `musig(...)`: a MuSig2 aggregate key, only in a `key` declaration.
    MuSig,
}

/// One built-in function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Builtin {
    /// The name it is called by.
    pub name: &'static str,
    /// Its parameters as shown to users, one per entry (`k: PubKey`).
    pub params: &'static [&'static str],
    /// Its result type as shown to users.
    pub returns: &'static str,
    /// What it means, in Markdown.
    pub doc: &'static str,
    /// How a call of it is checked.
    pub kind: BuiltinKind,
}

impl Builtin {
    /// The signature shown to users: `sig(k: PubKey) -> Cond`.
    pub fn signature(&self) -> String {
        format!(
            "{}({}) -> {}",
            self.name,
            self.params.join(", "),
            self.returns
        )
    }
}

/// Every built-in function, in the order completion lists them.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "sig",
        params: &["k: PubKey"],
        returns: "Cond",
        doc: "A valid Schnorr signature for the key `k`.",
        kind: BuiltinKind::Sig,
    },
    Builtin {
        name: "older",
        params: &["d: Blocks | Duration"],
        returns: "Cond",
        doc: "A relative timelock (BIP68, `OP_CHECKSEQUENCEVERIFY`): `d` blocks (1 to 65535) or \
              a duration in 512-second units (1 to 65535) since the coin was confirmed.",
        kind: BuiltinKind::Older,
    },
    Builtin {
        name: "after",
        params: &["t: Height | Time"],
        returns: "Cond",
        doc: "An absolute timelock (BIP65, `OP_CHECKLOCKTIMEVERIFY`): a block height below \
              500000000 or a Unix time from 500000000.",
        kind: BuiltinKind::After,
    },
    Builtin {
        name: "threshold",
        params: &["k: Int", "items: [PubKey; N] | [Cond; N] | Cond..."],
        returns: "Cond",
        doc: "At least `k` of the items hold: k-of-n signatures for an array of keys \
              (Miniscript `multi_a`), or k of the conditions (`thresh`).",
        kind: BuiltinKind::Threshold,
    },
    Builtin {
        name: "sha256",
        params: &["x: Bytes32"],
        returns: "Sha256",
        doc: "SHA-256 of a spend argument; compare it with `==` to a `Sha256` for a hash lock.",
        kind: BuiltinKind::Hash(HashFn::Sha256),
    },
    Builtin {
        name: "hash256",
        params: &["x: Bytes32"],
        returns: "Hash256",
        doc: "Double SHA-256 of a spend argument; compare it with `==` to a `Hash256`.",
        kind: BuiltinKind::Hash(HashFn::Hash256),
    },
    Builtin {
        name: "ripemd160",
        params: &["x: Bytes32"],
        returns: "Ripemd160",
        doc: "RIPEMD-160 of a spend argument; compare it with `==` to a `Ripemd160`.",
        kind: BuiltinKind::Hash(HashFn::Ripemd160),
    },
    Builtin {
        name: "hash160",
        params: &["x: Bytes32"],
        returns: "Hash160",
        doc: "RIPEMD-160 of SHA-256 of a spend argument; compare it with `==` to a `Hash160`.",
        kind: BuiltinKind::Hash(HashFn::Hash160),
    },
    Builtin {
        name: "musig",
        params: &["keys: PubKey | [PubKey; N]..."],
        returns: "PubKey",
        doc: "The MuSig2 (BIP327) aggregate of the keys, in the order written; only in `key`.",
        kind: BuiltinKind::MuSig,
    },
];

/// The names of the built-ins, in table order.
pub const NAMES: &[&str] = &names();

const fn names() -> [&'static str; BUILTINS.len()] {
    let mut out = [""; BUILTINS.len()];
    let mut i = 0;
    while i < BUILTINS.len() {
        out[i] = BUILTINS[i].name;
        i += 1;
    }
    out
}

/// The built-in called `name`, if any.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Whether `name` is the name of a built-in (user items may not reuse it).
pub fn is_builtin(name: &str) -> bool {
    lookup(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::{lookup, BuiltinKind, BUILTINS, NAMES};
    use crate::hir::HashFn;

    #[test]
    fn names_are_unique_and_in_table_order() {
        let mut seen = std::collections::BTreeSet::new();
        for (b, name) in BUILTINS.iter().zip(NAMES) {
            assert_eq!(b.name, *name);
            assert!(seen.insert(b.name), "{} listed twice", b.name);
        }
        assert_eq!(NAMES.len(), BUILTINS.len());
    }

    #[test]
    fn hash_builtins_are_named_like_their_function() {
        for b in BUILTINS {
            if let BuiltinKind::Hash(func) = b.kind {
                assert_eq!(func.name(), b.name);
                assert_eq!(HashFn::from_name(b.name), Some(func));
                assert_eq!(func.output().to_string(), b.returns);
            }
        }
    }

    #[test]
    fn signatures_read_as_users_write_them() {
        let sig = lookup("sig").map(|b| b.signature());
        assert_eq!(sig.as_deref(), Some("sig(k: PubKey) -> Cond"));
        let threshold = lookup("threshold").map(|b| b.signature());
        assert_eq!(
            threshold.as_deref(),
            Some("threshold(k: Int, items: [PubKey; N] | [Cond; N] | Cond...) -> Cond")
        );
        assert!(lookup("nope").is_none());
    }
}
