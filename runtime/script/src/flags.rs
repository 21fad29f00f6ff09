//! Script verification flags (`SCRIPT_VERIFY_*`).
//!
//! [`VerifyFlags`] is a bit set with Bitcoin Core's bit positions, so its raw value can be passed
//! to libbitcoinkernel unchanged for the consensus flags. Names parse and print without the
//! `SCRIPT_VERIFY_` prefix, comma-separated (`"P2SH,WITNESS"`); `""` and `"NONE"` are the empty
//! set. Unknown names are an error, never silently dropped.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Not};

/// A set of `SCRIPT_VERIFY_*` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VerifyFlags(pub u32);

macro_rules! flags {
    ($($(#[$doc:meta])* $name:ident = $bit:expr, $s:literal;)*) => {
        impl VerifyFlags {
            $($(#[$doc])* pub const $name: VerifyFlags = VerifyFlags(1 << $bit);)*
            /// Every defined flag with its name, in bit order.
            pub const NAMED: &'static [(&'static str, VerifyFlags)] = &[$(($s, VerifyFlags::$name),)*];
        }
    };
}

flags! {
    /// BIP16 pay-to-script-hash.
    P2SH = 0, "P2SH";
    /// Strict signature and public key encoding (policy).
    STRICTENC = 1, "STRICTENC";
    /// BIP66 strict DER signatures.
    DERSIG = 2, "DERSIG";
    /// Low S values in ECDSA signatures (policy).
    LOW_S = 3, "LOW_S";
    /// BIP147: the CHECKMULTISIG dummy must be empty.
    NULLDUMMY = 4, "NULLDUMMY";
    /// scriptSig must be push-only (policy).
    SIGPUSHONLY = 5, "SIGPUSHONLY";
    /// Minimal pushes and numbers (policy).
    MINIMALDATA = 6, "MINIMALDATA";
    /// Fail on OP_NOP1, OP_NOP4..OP_NOP10 (policy).
    DISCOURAGE_UPGRADABLE_NOPS = 7, "DISCOURAGE_UPGRADABLE_NOPS";
    /// Exactly one stack element after evaluation (policy; needs P2SH and WITNESS).
    CLEANSTACK = 8, "CLEANSTACK";
    /// BIP65 OP_CHECKLOCKTIMEVERIFY.
    CHECKLOCKTIMEVERIFY = 9, "CHECKLOCKTIMEVERIFY";
    /// BIP112 OP_CHECKSEQUENCEVERIFY.
    CHECKSEQUENCEVERIFY = 10, "CHECKSEQUENCEVERIFY";
    /// BIP141/143 segregated witness (needs P2SH).
    WITNESS = 11, "WITNESS";
    /// Fail on unknown witness versions (policy).
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 12, "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM";
    /// Minimal IF/NOTIF arguments in witness v0 scripts (policy).
    MINIMALIF = 13, "MINIMALIF";
    /// Failed signature checks need empty signatures (policy).
    NULLFAIL = 14, "NULLFAIL";
    /// Compressed public keys only in witness v0 (policy).
    WITNESS_PUBKEYTYPE = 15, "WITNESS_PUBKEYTYPE";
    /// No OP_CODESEPARATOR or FindAndDelete hits in legacy scripts (policy).
    CONST_SCRIPTCODE = 16, "CONST_SCRIPTCODE";
    /// BIP341/342 Taproot and Tapscript (needs WITNESS).
    TAPROOT = 17, "TAPROOT";
    /// Fail on unknown taproot leaf versions (policy).
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 18, "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION";
    /// Fail on OP_SUCCESSx (policy).
    DISCOURAGE_OP_SUCCESS = 19, "DISCOURAGE_OP_SUCCESS";
    /// Fail on unknown tapscript public key types (policy).
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 20, "DISCOURAGE_UPGRADABLE_PUBKEYTYPE";
}

/// A flag name that [`VerifyFlags::parse`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFlag(pub String);

impl fmt::Display for UnknownFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown script verification flag `{}`", self.0)
    }
}

impl std::error::Error for UnknownFlag {}

impl VerifyFlags {
    /// No flags.
    pub const NONE: VerifyFlags = VerifyFlags(0);
    /// The consensus flags as of Taproot: P2SH, DERSIG, NULLDUMMY, CHECKLOCKTIMEVERIFY,
    /// CHECKSEQUENCEVERIFY, WITNESS, TAPROOT.
    pub const CONSENSUS: VerifyFlags = VerifyFlags(
        VerifyFlags::P2SH.0
            | VerifyFlags::DERSIG.0
            | VerifyFlags::NULLDUMMY.0
            | VerifyFlags::CHECKLOCKTIMEVERIFY.0
            | VerifyFlags::CHECKSEQUENCEVERIFY.0
            | VerifyFlags::WITNESS.0
            | VerifyFlags::TAPROOT.0,
    );
    /// Every defined flag.
    pub const ALL: VerifyFlags = VerifyFlags((1 << 21) - 1);
    /// Bitcoin Core's standard (policy) flags: every defined flag.
    pub const STANDARD: VerifyFlags = VerifyFlags::ALL;

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: VerifyFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub fn intersects(self, other: VerifyFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Removes the flags of `other`.
    pub fn without(self, other: VerifyFlags) -> VerifyFlags {
        VerifyFlags(self.0 & !other.0)
    }

    /// Whether the combination is one Bitcoin Core accepts: WITNESS needs P2SH, CLEANSTACK
    /// needs WITNESS, TAPROOT needs WITNESS.
    pub fn is_valid_combination(self) -> bool {
        (!self.contains(VerifyFlags::WITNESS) || self.contains(VerifyFlags::P2SH))
            && (!self.contains(VerifyFlags::CLEANSTACK) || self.contains(VerifyFlags::WITNESS))
            && (!self.contains(VerifyFlags::TAPROOT) || self.contains(VerifyFlags::WITNESS))
    }

    /// Parses comma-separated names, with or without the `SCRIPT_VERIFY_` prefix. `""` and
    /// `"NONE"` give the empty set.
    pub fn parse(s: &str) -> Result<VerifyFlags, UnknownFlag> {
        let mut out = VerifyFlags::NONE;
        for word in s.split(',') {
            let word = word.trim();
            let word = word.strip_prefix("SCRIPT_VERIFY_").unwrap_or(word);
            if word.is_empty() || word.eq_ignore_ascii_case("NONE") {
                continue;
            }
            if word.eq_ignore_ascii_case("CONSENSUS") {
                out |= VerifyFlags::CONSENSUS;
                continue;
            }
            if word.eq_ignore_ascii_case("ALL") {
                out |= VerifyFlags::ALL;
                continue;
            }
            match VerifyFlags::NAMED
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(word))
            {
                Some((_, f)) => out |= *f,
                None => return Err(UnknownFlag(word.to_string())),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for VerifyFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, flag) in VerifyFlags::NAMED {
            if self.contains(*flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("NONE")?;
        }
        Ok(())
    }
}

impl BitOr for VerifyFlags {
    type Output = VerifyFlags;
    fn bitor(self, rhs: VerifyFlags) -> VerifyFlags {
        VerifyFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for VerifyFlags {
    fn bitor_assign(&mut self, rhs: VerifyFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for VerifyFlags {
    type Output = VerifyFlags;
    fn bitand(self, rhs: VerifyFlags) -> VerifyFlags {
        VerifyFlags(self.0 & rhs.0)
    }
}

impl Not for VerifyFlags {
    type Output = VerifyFlags;
    fn not(self) -> VerifyFlags {
        VerifyFlags(!self.0 & VerifyFlags::ALL.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_round_trip() {
        let f = VerifyFlags::parse("P2SH,WITNESS").unwrap();
        assert_eq!(f, VerifyFlags::P2SH | VerifyFlags::WITNESS);
        assert_eq!(f.to_string(), "P2SH,WITNESS");
        assert_eq!(VerifyFlags::parse("").unwrap(), VerifyFlags::NONE);
        assert_eq!(VerifyFlags::parse("NONE").unwrap(), VerifyFlags::NONE);
        assert!(VerifyFlags::parse("P2SH,BOGUS").is_err());
        assert_eq!(VerifyFlags::CONSENSUS.0, 0x20e15);
    }
}
