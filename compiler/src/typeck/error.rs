//! The type checker's errors and warnings, and the one place their messages are written.
//!
//! In: a [`TypeError`] built where a check fails, carrying the spans, names, types and numbers
//! the message needs. Out: its [`Diagnostic`] from [`TypeError::to_diagnostic`]. Every code,
//! message, label, note and help text of the type checker is in this file; the checks only say
//! which problem they found. Name-resolution problems found while checking are
//! [`crate::resolve::ResolveError`]s, written in that module.

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::BinOp;
use crate::types::Ty;

use super::limits::{MAX_COND_DEPTH, SEQUENCE_UNIT_SECONDS};

/// A problem the type checker found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeError {
    // ---- types ---------------------------------------------------------------------------
    /// `Commitment<...>` with an argument other than `u64`.
    CommitmentArgument {
        /// The type expression.
        span: Span,
    },
    /// Generic arguments on a type that takes none.
    UnexpectedGenericArguments {
        /// The type named.
        ty: Ty,
        /// The type expression.
        span: Span,
    },
    /// An array length outside 1..=1000.
    ArrayLength {
        /// The length.
        len: u64,
        /// The length expression.
        span: Span,
    },
    /// A `Commitment<u64>` declared anywhere but a `confidential` declaration.
    CommitmentOutsideConfidential {
        /// The type expression.
        span: Span,
    },
    /// A `confidential` value of a type other than `Commitment<u64>`.
    ConfidentialType {
        /// The declared type.
        ty: Ty,
        /// The type expression.
        span: Span,
    },

    // ---- values --------------------------------------------------------------------------
    /// An expression of the wrong type where a type is expected.
    Mismatch {
        /// The type expected.
        expected: Ty,
        /// The type found.
        found: Ty,
        /// The number, when the expression is an integer literal without a unit.
        literal: Option<u64>,
        /// The expression.
        span: Span,
    },
    /// A value that must be fixed at compile time depends on a parameter or argument.
    NotConstant {
        /// What must be constant (`a weight`, ``the value of `X` ``).
        what: String,
        /// The expression.
        span: Span,
    },
    /// An integer literal that does not fit in 64 bits.
    LiteralTooLarge {
        /// The literal.
        span: Span,
    },
    /// A number with a unit that does not fit in 64 bits once converted.
    UnitValueTooLarge {
        /// The literal.
        span: Span,
    },
    /// Constant arithmetic that leaves 0..2^64.
    ArithmeticOverflow {
        /// The expression.
        span: Span,
    },
    /// A unit other than the known ones.
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// A close unit name.
        suggestion: Option<String>,
        /// The unit.
        span: Span,
    },
    /// A hex literal with an odd number of digits or a non-hex digit.
    InvalidHex {
        /// The literal.
        span: Span,
    },
    /// A key literal of the wrong length.
    KeyLiteralLength {
        /// Its length in bytes.
        len: usize,
        /// The literal.
        span: Span,
    },
    /// A byte literal whose length does not match its fixed-size type.
    ByteLiteralLength {
        /// The type expected.
        ty: Ty,
        /// The type's length in bytes.
        want: usize,
        /// The literal's length in bytes.
        len: usize,
        /// The literal.
        span: Span,
    },
    /// A hex literal with no typed context and a length that names no type.
    UntypedHex {
        /// Its length in bytes.
        len: usize,
        /// The literal.
        span: Span,
    },
    /// An item that is not a value used as one.
    NotAValue {
        /// `function` or `contract`.
        what: &'static str,
        /// The name.
        name: String,
        /// The use.
        span: Span,
        /// The item's name in its definition.
        definition: Span,
    },
    /// A call of something that is not a function.
    NotAFunction {
        /// The name.
        name: String,
        /// The callee.
        span: Span,
        /// Where the name is defined.
        definition: Span,
    },
    /// A call with the wrong number of arguments.
    Arity {
        /// The function.
        name: String,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        found: usize,
        /// The call.
        span: Span,
    },

    // ---- indexing and operators ----------------------------------------------------------
    /// Indexing into a value that is not an array.
    NotIndexable {
        /// The value's type.
        ty: Ty,
        /// The indexed expression.
        span: Span,
    },
    /// A constant index past the end of an array.
    IndexOutOfBounds {
        /// The index.
        index: u64,
        /// The array's length.
        len: u32,
        /// The index expression.
        span: Span,
    },
    /// A comparison of two values of different types.
    CompareMismatch {
        /// The left type.
        lhs: Ty,
        /// The right type.
        rhs: Ty,
        /// The left operand.
        lhs_span: Span,
        /// The right operand.
        rhs_span: Span,
        /// The comparison.
        span: Span,
    },
    /// A comparison that Script cannot evaluate as a spending condition.
    NotACondition {
        /// The operator.
        op: BinOp,
        /// The operands' type.
        ty: Ty,
        /// The comparison.
        span: Span,
    },
    /// Arithmetic on operand types it does not apply to.
    Operands {
        /// The operator.
        op: BinOp,
        /// The left type.
        lhs: Ty,
        /// The right type.
        rhs: Ty,
        /// The expression.
        span: Span,
    },
    /// Arithmetic in a proof on operand types proofs do not support.
    ProofOperands {
        /// The operator.
        op: BinOp,
        /// The left type.
        lhs: Ty,
        /// The right type.
        rhs: Ty,
        /// The expression.
        span: Span,
    },

    // ---- built-in calls ------------------------------------------------------------------
    /// `older` of something that is not a relative lock.
    OlderArgument {
        /// The argument's type.
        ty: Ty,
        /// The number, when the argument is a plain integer.
        literal: Option<u64>,
        /// The argument.
        span: Span,
    },
    /// `after` of something that is not an absolute lock.
    AfterArgument {
        /// The argument's type.
        ty: Ty,
        /// The argument.
        span: Span,
    },
    /// A hash function applied to something other than a spend argument.
    HashOfNonArgument {
        /// The hash function's name.
        func: &'static str,
        /// The argument.
        span: Span,
    },
    /// A `threshold` item that is neither a key nor a condition.
    ThresholdItem {
        /// The item's type.
        ty: Ty,
        /// The item.
        span: Span,
    },
    /// `threshold(k, x)` with one item that is not an array.
    ThresholdSingleItem {
        /// The item's type.
        ty: Ty,
        /// The item.
        span: Span,
    },
    /// A threshold outside 1..=n.
    ThresholdRange {
        /// The threshold.
        k: u64,
        /// The number of items.
        n: u64,
        /// The threshold expression.
        span: Span,
        /// The first item.
        items: Span,
    },

    // ---- timelock ranges -----------------------------------------------------------------
    /// A relative block count outside BIP68's 16 bits.
    BlocksRange {
        /// The count.
        blocks: u64,
        /// The value.
        span: Span,
    },
    /// A relative duration outside BIP68's 16 bits of 512-second units.
    DurationRange {
        /// The duration in seconds.
        seconds: u64,
        /// The value.
        span: Span,
    },
    /// A relative duration that is not a whole number of 512-second units (a warning).
    DurationRounded {
        /// The duration in seconds.
        seconds: u64,
        /// The value.
        span: Span,
    },
    /// A height outside BIP65's heights.
    HeightRange {
        /// The height.
        height: u64,
        /// The value.
        span: Span,
    },
    /// A time outside BIP65's times (and Miniscript's 2^31 limit).
    TimeRange {
        /// The time.
        time: u64,
        /// The value.
        span: Span,
    },

    // ---- keys ----------------------------------------------------------------------------
    /// A second `key` declaration.
    SecondKey {
        /// The second declaration.
        span: Span,
        /// The first.
        first: Span,
    },
    /// A `musig` argument that is not a key.
    MusigArgument {
        /// The argument's type.
        ty: Ty,
        /// The argument.
        span: Span,
    },
    /// `musig` of one key.
    MusigOneKey {
        /// The `musig(...)` expression.
        span: Span,
    },
    /// A key expression of a type other than `PubKey`.
    NotAKey {
        /// Its type.
        ty: Ty,
        /// The expression.
        span: Span,
    },
    /// `musig(...)` outside a `key` declaration.
    MusigOutsideKey {
        /// The call.
        span: Span,
    },
    /// `musig(...)` inside a key expression but not the whole of it.
    MusigNotWhole {
        /// The call.
        span: Span,
    },

    // ---- contracts and spend paths -------------------------------------------------------
    /// A default value on a spend argument.
    SpendArgumentDefault {
        /// The default.
        span: Span,
    },
    /// A contract without a `spend`.
    NoSpendPath {
        /// The contract's name.
        contract: String,
        /// The name.
        span: Span,
    },
    /// A second `@weight` on a spend path.
    SecondWeight {
        /// The second attribute.
        span: Span,
        /// The first.
        first: Span,
    },
    /// `@weight` without exactly one argument.
    WeightArguments {
        /// How many were given.
        count: usize,
        /// The attribute.
        span: Span,
    },
    /// A weight outside 1..=1000000.
    WeightRange {
        /// The weight.
        weight: u64,
        /// The argument.
        span: Span,
    },
    /// A condition deeper than [`MAX_COND_DEPTH`] after inlining.
    ConditionTooDeep {
        /// The condition.
        span: Span,
    },
    /// A contract parameter that nothing reads (a warning).
    UnusedParameter {
        /// The name.
        name: String,
        /// The parameter.
        span: Span,
    },
    /// A spend argument that nothing reads (a warning).
    UnusedArgument {
        /// The name.
        name: String,
        /// The argument.
        span: Span,
    },
    /// A spend path without a `require` (a warning).
    NoRequire {
        /// The path's name.
        path: String,
        /// The name.
        span: Span,
    },

    // ---- confidential values and proofs --------------------------------------------------
    /// A confidential value read outside `prove`.
    ConfidentialOutsideProve {
        /// The name.
        name: String,
        /// The use.
        span: Span,
    },
    /// A comparison of confidential values outside `prove`.
    ConfidentialComparison {
        /// The comparison.
        span: Span,
    },
    /// Arithmetic on confidential values outside `prove`.
    ConfidentialArithmetic {
        /// The expression.
        span: Span,
    },
    /// A spend path with a `prove` but no signature that a verifier gives.
    ProveWithoutSignature {
        /// The path's name.
        path: String,
        /// The first `prove`.
        span: Span,
    },
}

fn plural_arguments(n: usize) -> &'static str {
    if n == 1 {
        "argument"
    } else {
        "arguments"
    }
}

impl TypeError {
    /// The diagnostic for this problem.
    pub fn to_diagnostic(&self) -> Diagnostic {
        use TypeError as E;
        match self {
            E::CommitmentArgument { span } => {
                Diagnostic::error("E0055", "a commitment must be `Commitment<u64>`", *span)
                    .with_label("unsupported commitment type")
            }
            E::UnexpectedGenericArguments { ty, span } => Diagnostic::error(
                "E0021",
                format!("type `{ty}` takes no generic arguments"),
                *span,
            )
            .with_label("unexpected `<...>`"),
            E::ArrayLength { len, span } => Diagnostic::error(
                "E0035",
                format!("an array must have 1 to 1000 elements, not {len}"),
                *span,
            )
            .with_label("invalid length"),
            E::CommitmentOutsideConfidential { span } => Diagnostic::error(
                "E0055",
                "`Commitment<u64>` is only for `confidential` declarations",
                *span,
            )
            .with_label("not allowed here")
            .with_help("declare it in the contract: `confidential NAME: Commitment<u64>;`"),
            E::ConfidentialType { ty, span } => Diagnostic::error(
                "E0055",
                format!("a confidential value must be a `Commitment<u64>`, not `{ty}`"),
                *span,
            )
            .with_label("expected `Commitment<u64>`"),
            E::Mismatch {
                expected,
                found,
                literal,
                span,
            } => {
                let d = Diagnostic::error(
                    "E0030",
                    format!("expected `{expected}`, found `{found}`"),
                    *span,
                )
                .with_label(format!("expected `{expected}`"));
                match (literal, expected) {
                    (Some(n), Ty::Blocks) => d.with_help(format!("write the unit: `{n} blocks`")),
                    (Some(n), Ty::Duration) => {
                        d.with_help(format!("write the unit: `{n} days`, `{n} hours`, ..."))
                    }
                    _ => d,
                }
            }
            E::NotConstant { what, span } => Diagnostic::error(
                "E0037",
                format!("{what} must be known at compile time"),
                *span,
            )
            .with_label("depends on a parameter or argument")
            .with_note("weights, thresholds, array lengths, indices, defaults and constants are fixed when the contract is compiled"),
            E::LiteralTooLarge { span } => {
                Diagnostic::error("E0036", "integer literal is too large", *span)
                    .with_label("does not fit in 64 bits")
            }
            E::UnitValueTooLarge { span } => Diagnostic::error("E0036", "value is too large", *span)
                .with_label("does not fit in 64 bits"),
            E::ArithmeticOverflow { span } => {
                Diagnostic::error("E0036", "constant arithmetic overflows", *span)
                    .with_label("the result is below 0 or does not fit in 64 bits")
            }
            E::UnknownUnit {
                unit,
                suggestion,
                span,
            } => {
                let d = Diagnostic::error("E0034", format!("unknown unit `{unit}`"), *span)
                    .with_label("not a unit")
                    .with_note("units: blocks; seconds, minutes, hours, days, weeks; sats, btc");
                match suggestion {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d,
                }
            }
            E::InvalidHex { span } => Diagnostic::error("E0035", "invalid hex literal", *span)
                .with_label("expected an even number of hex digits after `0x`"),
            E::KeyLiteralLength { len, span } => Diagnostic::error(
                "E0035",
                format!(
                    "a public key is 32 bytes (x-only) or 33 bytes (compressed), not {len}"
                ),
                *span,
            )
            .with_label("invalid key literal"),
            E::ByteLiteralLength {
                ty,
                want,
                len,
                span,
            } => Diagnostic::error(
                "E0035",
                format!("a `{ty}` is {want} bytes, this literal has {len}"),
                *span,
            )
            .with_label(format!("expected {want} bytes")),
            E::UntypedHex { len, span } => Diagnostic::error(
                "E0035",
                format!("cannot tell what a {len}-byte hex literal is"),
                *span,
            )
            .with_label("give it a typed context, e.g. a `const` with a type"),
            E::NotAValue {
                what,
                name,
                span,
                definition,
            } => Diagnostic::error(
                "E0030",
                format!("expected a value, found {what} `{name}`"),
                *span,
            )
            .with_label(format!("this is a {what}"))
            .with_secondary(*definition, "defined here"),
            E::NotAFunction {
                name,
                span,
                definition,
            } => Diagnostic::error("E0026", format!("`{name}` is not a function"), *span)
                .with_label("called here")
                .with_secondary(*definition, "defined here"),
            E::Arity {
                name,
                expected,
                found,
                span,
            } => Diagnostic::error(
                "E0032",
                format!(
                    "`{name}` takes {expected} {}, {found} given",
                    plural_arguments(*expected)
                ),
                *span,
            )
            .with_label(format!(
                "expected {expected} {}",
                plural_arguments(*expected)
            )),
            E::NotIndexable { ty, span } => Diagnostic::error(
                "E0039",
                format!("cannot index into a value of type `{ty}`"),
                *span,
            )
            .with_label("not an array"),
            E::IndexOutOfBounds { index, len, span } => Diagnostic::error(
                "E0038",
                format!("index {index} is out of bounds for an array of {len}"),
                *span,
            )
            .with_label(format!("valid indices are 0 to {}", len - 1)),
            E::CompareMismatch {
                lhs,
                rhs,
                lhs_span,
                rhs_span,
                span,
            } => {
                let d = Diagnostic::error(
                    "E0031",
                    format!("cannot compare `{lhs}` with `{rhs}`"),
                    *span,
                )
                .with_label("values of different types")
                .with_secondary(*lhs_span, format!("this is `{lhs}`"))
                .with_secondary(*rhs_span, format!("this is `{rhs}`"));
                if (lhs.is_hash() && *rhs == Ty::PubKey) || (*lhs == Ty::PubKey && rhs.is_hash()) {
                    d.with_help("to require a key's signature write `sig(key)`; to check a preimage compare its hash with a hash parameter")
                } else {
                    d
                }
            }
            E::NotACondition { op, ty, span } => Diagnostic::error(
                "E0039",
                format!(
                    "`{}` is not a spending condition on `{ty}` values",
                    op.as_str()
                ),
                *span,
            )
            .with_label("Script cannot compare these")
            .with_note("conditions compare a hash of a spend argument with a hash (`sha256(x) == h`), or confidential values inside `prove`"),
            E::Operands { op, lhs, rhs, span } => {
                operands(*op, lhs, rhs, *span).with_label("unsupported operand types")
            }
            E::ProofOperands { op, lhs, rhs, span } => operands(*op, lhs, rhs, *span)
                .with_label("unsupported in a proof")
                .with_note(
                    "proofs add commitments and numbers, and multiply a commitment by a number",
                ),
            E::OlderArgument { ty, literal, span } => {
                let d = Diagnostic::error(
                    "E0030",
                    format!("`older` takes `Blocks` or `Duration`, found `{ty}`"),
                    *span,
                )
                .with_label("expected `Blocks` or `Duration`");
                match literal {
                    Some(n) => d.with_help(format!(
                        "write the unit: `older({n} blocks)` or `older({n} days)`"
                    )),
                    None => d,
                }
            }
            E::AfterArgument { ty, span } => Diagnostic::error(
                "E0030",
                format!("`after` takes `Height` or `Time`, found `{ty}`"),
                *span,
            )
            .with_label("expected `Height` or `Time`")
            .with_note("relative delays (`Blocks`, `Duration`) go in `older(...)`"),
            E::HashOfNonArgument { func, span } => Diagnostic::error(
                "E0033",
                format!("`{func}` must hash a spend argument"),
                *span,
            )
            .with_label("this is not provided by the spender")
            .with_note("a hash lock checks a preimage the spender reveals in the witness; declare it as an argument of the spend path")
            .with_help(format!(
                "e.g. `spend claim(preimage: Bytes32) {{ require {func}(preimage) == hash; }}`"
            )),
            E::ThresholdItem { ty, span } => Diagnostic::error(
                "E0030",
                format!("`threshold` counts keys or conditions, found `{ty}`"),
                *span,
            )
            .with_label("expected `PubKey` or `Cond`"),
            E::ThresholdSingleItem { ty, span } => Diagnostic::error(
                "E0030",
                format!("`threshold(k, ...)` needs several keys or conditions, found one `{ty}`"),
                *span,
            )
            .with_label("expected an array or a list")
            .with_help("write `threshold(k, keys)` with an array, or `threshold(k, a, b, c)`"),
            E::ThresholdRange { k, n, span, items } => Diagnostic::error(
                "E0042",
                format!("threshold {k} is out of range for {n} items"),
                *span,
            )
            .with_label(format!("must be from 1 to {n}"))
            .with_secondary(*items, format!("{n} items here")),
            E::BlocksRange { blocks, span } => Diagnostic::error(
                "E0040",
                format!("a relative timelock of {blocks} blocks is out of range"),
                *span,
            )
            .with_label("must be from 1 to 65535 blocks")
            .with_note("BIP68 encodes relative block counts in 16 bits"),
            E::DurationRange { seconds, span } => Diagnostic::error(
                "E0040",
                format!("a relative timelock of {seconds} seconds is out of range"),
                *span,
            )
            .with_label("must be from 512 seconds to 65535 × 512 seconds (about 388 days)")
            .with_note("BIP68 counts relative time in 16 bits of 512-second units"),
            E::DurationRounded { seconds, span } => {
                let units = seconds.div_ceil(SEQUENCE_UNIT_SECONDS);
                Diagnostic::warning(
                    "W0001",
                    format!(
                        "{seconds} seconds is not a multiple of 512; it is rounded up to {} seconds",
                        units * SEQUENCE_UNIT_SECONDS
                    ),
                    *span,
                )
                .with_label(format!("becomes {units} units of 512 seconds"))
                .with_note("BIP68 measures relative time in units of 512 seconds")
            }
            E::HeightRange { height, span } => {
                Diagnostic::error("E0041", format!("height {height} is out of range"), *span)
                    .with_label("heights are from 1 to 499999999")
                    .with_note(
                        "BIP65: lock times of 500000000 and above are unix times, not heights",
                    )
            }
            E::TimeRange { time, span } => {
                Diagnostic::error("E0041", format!("time {time} is out of range"), *span)
                    .with_label("times are unix timestamps from 500000000 to 2147483647")
                    .with_note("BIP65: lock times below 500000000 are block heights")
            }
            E::SecondKey { span, first } => {
                Diagnostic::error("E0050", "a contract has at most one `key`", *span)
                    .with_label("second `key` declaration")
                    .with_secondary(*first, "first `key` declaration")
                    .with_help("to require several keys on the key path, aggregate them: `key musig(a, b);`")
            }
            E::MusigArgument { ty, span } => Diagnostic::error(
                "E0052",
                format!("`musig` takes public keys, found `{ty}`"),
                *span,
            )
            .with_label("not a `PubKey`"),
            E::MusigOneKey { span } => {
                Diagnostic::error("E0052", "`musig` needs at least two keys", *span)
                    .with_label("one key")
                    .with_help("for a single key write `key NAME;`")
            }
            E::NotAKey { ty, span } => Diagnostic::error(
                "E0052",
                format!("a key must be a `PubKey` or `musig(...)`, found `{ty}`"),
                *span,
            )
            .with_label("not a key")
            .with_help("write `key NAME;` with a `PubKey` parameter, or `key musig(a, b);`"),
            E::MusigOutsideKey { span } => Diagnostic::error(
                "E0053",
                "`musig(...)` can only be used in a `key` declaration",
                *span,
            )
            .with_label("MuSig2 aggregates are for the key path")
            .with_help("in a spend path, require each signature: `sig(a) && sig(b)`, or `threshold(k, keys)`"),
            E::MusigNotWhole { span } => {
                Diagnostic::error("E0052", "`musig(...)` must be the whole key expression", *span)
                    .with_label("write `key musig(a, b);`")
            }
            E::SpendArgumentDefault { span } => {
                Diagnostic::error("E0005", "spend arguments cannot have default values", *span)
                    .with_label("default not allowed here")
                    .with_help("the spender provides every argument in the witness")
            }
            E::NoSpendPath { contract, span } => Diagnostic::error(
                "E0051",
                format!("contract `{contract}` has no spend path"),
                *span,
            )
            .with_label("no `spend` in this contract")
            .with_help("add a path, e.g. `spend recover() { require sig(owner); }`"),
            E::SecondWeight { span, first } => {
                Diagnostic::error("E0043", "a spend path has at most one `@weight`", *span)
                    .with_label("second weight")
                    .with_secondary(*first, "first weight")
            }
            E::WeightArguments { count, span } => {
                Diagnostic::error("E0043", "`@weight` takes one number", *span)
                    .with_label(format!("{count} arguments given"))
                    .with_help("write `@weight(N)` with N from 1 to 1000000")
            }
            E::WeightRange { weight, span } => {
                Diagnostic::error("E0043", format!("weight {weight} is out of range"), *span)
                    .with_label("must be from 1 to 1000000")
                    .with_note("weights are relative spending frequencies; a weight of 0 would mean the path is never used")
            }
            E::ConditionTooDeep { span } => Diagnostic::error(
                "E0008",
                "condition nests too deeply after inlining",
                *span,
            )
            .with_label(format!(
                "more than {} levels once `fn`s are inlined",
                MAX_COND_DEPTH
            ))
            .with_help("flatten it, or use fewer nested `fn` calls"),
            E::UnusedParameter { name, span } => Diagnostic::warning(
                "W0002",
                format!("parameter `{name}` is never used"),
                *span,
            )
            .with_label("unused parameter")
            .with_help(format!(
                "remove it, or name it `_{name}` if it is kept on purpose"
            )),
            E::UnusedArgument { name, span } => Diagnostic::warning(
                "W0003",
                format!("spend argument `{name}` is never used"),
                *span,
            )
            .with_label("unused argument")
            .with_help(format!("remove it, or name it `_{name}`")),
            E::NoRequire { path, span } => Diagnostic::warning(
                "W0004",
                format!("spend path `{path}` has no `require`"),
                *span,
            )
            .with_label("anyone can spend through this path")
            .with_help("add a condition, e.g. `require sig(owner);`"),
            E::ConfidentialOutsideProve { name, span } => Diagnostic::error(
                "E0056",
                format!("confidential value `{name}` used outside `prove`"),
                *span,
            )
            .with_label("Bitcoin Script cannot see a confidential value")
            .with_help(format!(
                "state the condition as a proof: `prove {name} ...;`"
            )),
            E::ConfidentialComparison { span } => Diagnostic::error(
                "E0056",
                "comparison of confidential values outside `prove`",
                *span,
            )
            .with_label("Bitcoin Script cannot evaluate this")
            .with_help("write it as `prove ...;`"),
            E::ConfidentialArithmetic { span } => Diagnostic::error(
                "E0056",
                "arithmetic on confidential values outside `prove`",
                *span,
            )
            .with_label("only a proof can use this"),
            E::ProveWithoutSignature { path, span } => Diagnostic::error(
                "E0054",
                format!("spend path `{path}` proves a statement but requires no signature"),
                *span,
            )
            .with_label("nobody who verifies this proof signs the spend")
            .with_note("Bitcoin Script cannot check a proof; the parties who verify it must co-sign")
            .with_help("add `require sig(verifier);` for the party that checks the proof"),
        }
    }
}

/// The start of an "operator does not apply" diagnostic.
fn operands(op: BinOp, lhs: &Ty, rhs: &Ty, span: Span) -> Diagnostic {
    Diagnostic::error(
        "E0039",
        format!("cannot apply `{}` to `{lhs}` and `{rhs}`", op.as_str()),
        span,
    )
}
