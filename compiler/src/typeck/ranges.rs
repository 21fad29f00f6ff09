//! The ranges of constant timelocks (BIP65, BIP68, BIP112), and the rounding of durations.
//!
//! In: a constant value and its type (arrays are checked element by element). Out: nothing;
//! an out-of-range `Blocks`, `Duration`, `Height` or `Time` is reported as an error, and a
//! `Duration` that is not a whole number of 512-second units as a warning, since BIP68 rounds
//! it up.

use crate::hir::Value;
use crate::span::Span;
use crate::types::Ty;

use super::checker::Checker;
use super::error::TypeError;
use super::limits::{LOCKTIME_THRESHOLD, MAX_ABSOLUTE_LOCK, SEQUENCE_UNIT_SECONDS};

/// BIP68 counts relative locks in 16 bits.
const MAX_RELATIVE: u64 = 65_535;

impl Checker<'_, '_> {
    /// Range checks on constant timelock values and rounding warnings.
    pub(super) fn check_value_range(&mut self, v: &Value, ty: &Ty, span: Span) {
        let Value::Int(n) = v else {
            if let (Value::Array(items), Ty::Array(elem, _)) = (v, ty) {
                for item in items {
                    self.check_value_range(item, elem, span);
                }
            }
            return;
        };
        let n = *n;
        let problem = match ty {
            Ty::Blocks if !(1..=MAX_RELATIVE).contains(&n) => {
                Some(TypeError::BlocksRange { blocks: n, span })
            }
            Ty::Duration if !(1..=MAX_RELATIVE).contains(&n.div_ceil(SEQUENCE_UNIT_SECONDS)) => {
                Some(TypeError::DurationRange { seconds: n, span })
            }
            Ty::Duration if n % SEQUENCE_UNIT_SECONDS != 0 => {
                Some(TypeError::DurationRounded { seconds: n, span })
            }
            Ty::Height if !(1..LOCKTIME_THRESHOLD).contains(&n) => {
                Some(TypeError::HeightRange { height: n, span })
            }
            Ty::Time if !(LOCKTIME_THRESHOLD..=MAX_ABSOLUTE_LOCK).contains(&n) => {
                Some(TypeError::TimeRange { time: n, span })
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.report(problem);
        }
    }
}
