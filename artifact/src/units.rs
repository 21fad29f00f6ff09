//! Bitcoin units: the one home of the lock-time threshold, compact sizes, amounts, durations
//! and dates, for the compiler, the runtime and the command line alike.
//!
//! In: numbers and the text people write (`0.1btc`, `7d`, `2027-01-01T00:00:00Z`). Out:
//! rust-bitcoin values ([`bitcoin::Amount`]), seconds and unix times, or the same numbers as
//! text for messages.
//!
//! - The lock-time threshold is rust-bitcoin's [`LOCK_TIME_THRESHOLD`] (BIP65/BIP113: nLockTime
//!   values from 500000000 on are unix times, below it block heights).
//! - Compact sizes are rust-bitcoin's [`bitcoin::VarInt`] (its consensus encoding).
//! - Amounts: `0.1btc`, `1000sat`, `1000 sats` (case-insensitive, one space allowed), or bare
//!   satoshis where [`AmountSyntax::UnitOptional`] allows them; parsed by rust-bitcoin. No
//!   amount above [`MAX_MONEY`] (21,000,000 BTC, rust-bitcoin's `Amount::MAX_MONEY`) is one.
//! - Durations: a number and a unit (`s`, `m`, `h`, `d`, `w`, or the words), e.g. `7d`,
//!   `10h`, `3600s`, `2 weeks`.
//! - Dates: RFC 3339 date-times with `Z` or an offset, or a plain date meaning midnight UTC,
//!   parsed and printed by `jiff`.

use bitcoin::{Amount, Denomination};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use bitcoin::absolute::LOCK_TIME_THRESHOLD;

/// The most any amount can be: 21,000,000 BTC, every bitcoin there will ever be.
pub const MAX_MONEY: Amount = Amount::MAX_MONEY;

/// Bytes of the Bitcoin `CompactSize` encoding of `n`.
pub fn compact_size_len(n: usize) -> usize {
    bitcoin::VarInt::from(n).size()
}

/// Whether an amount may be written without a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountSyntax {
    /// A bare integer is satoshis (contract arguments).
    UnitOptional,
    /// `btc` or `sat`/`sats` must follow the number (command-line flags, where a bare number
    /// is too easy to get wrong by a factor of 10^8).
    UnitRequired,
}

/// Why a text is not an amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// It is not written like an amount (or needs a unit it lacks).
    Malformed,
    /// It is an amount, but above [`MAX_MONEY`].
    AboveMaxMoney,
}

/// Parses an amount: a number followed by `btc` or `sat`/`sats` (any case, no space or
/// one), or bare satoshis when `syntax` allows it. `None` when it is not an amount, also when
/// it is above [`MAX_MONEY`] ([`parse_amount_checked`] says which).
pub fn parse_amount(text: &str, syntax: AmountSyntax) -> Option<Amount> {
    parse_amount_checked(text, syntax).ok()
}

/// [`parse_amount`], saying why a text is not an amount.
pub fn parse_amount_checked(text: &str, syntax: AmountSyntax) -> Result<Amount, AmountError> {
    let t = text.trim().to_ascii_lowercase();
    let amount = if let Some(btc) = t.strip_suffix("btc") {
        let btc = btc.trim();
        // rust-bitcoin refuses what does not fit in 64 bits as above its maximum: above
        // 21 million BTC too.
        match Amount::from_str_in(btc, Denomination::Bitcoin) {
            Ok(a) => Some(a),
            Err(bitcoin::amount::ParseAmountError::OutOfRange(e)) if e.is_above_max() => {
                return Err(AmountError::AboveMaxMoney)
            }
            Err(_) => None,
        }
    } else if let Some(sat) = t.strip_suffix("sats").or_else(|| t.strip_suffix("sat")) {
        parse_satoshis(sat.trim())?
    } else {
        match syntax {
            AmountSyntax::UnitOptional => parse_satoshis(&t)?,
            AmountSyntax::UnitRequired => None,
        }
    };
    match amount {
        Some(a) if a > MAX_MONEY => Err(AmountError::AboveMaxMoney),
        Some(a) => Ok(a),
        None => Err(AmountError::Malformed),
    }
}

/// Satoshis as digits: `Ok(None)` when it is not digits, `AboveMaxMoney` when the digits do not
/// fit in 64 bits.
fn parse_satoshis(s: &str) -> Result<Option<Amount>, AmountError> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    match s.parse::<u64>() {
        Ok(n) => Ok(Some(Amount::from_sat(n))),
        Err(_) => Err(AmountError::AboveMaxMoney),
    }
}

/// An unsigned decimal integer made of digits only (no sign, no spaces).
pub fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a duration such as `7d`, `10h`, `30m`, `3600s` or `2 weeks` into seconds. `None`
/// when the text is not a duration or the seconds do not fit in 64 bits.
pub fn parse_duration_seconds(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n = parse_digits(number)?;
    let seconds_per_unit = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    n.checked_mul(seconds_per_unit)
}

/// Seconds as days, hours, minutes and seconds, e.g. `3d 4h 5m 6s`, `0s`.
pub fn format_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let parts = [
        (seconds / 86_400, "d"),
        ((seconds % 86_400) / 3600, "h"),
        ((seconds % 3600) / 60, "m"),
        (seconds % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses an RFC 3339 date-time (with `Z` or an offset) or a plain date (midnight UTC) into a
/// unix time. A leap second (`:60`) counts as the second before it.
pub fn parse_date_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts.as_second());
    }
    let date: Date = t.parse().ok()?;
    // A plain date only: `Date` also accepts a date-time without an offset, which is refused.
    if t.len() != 10 {
        return None;
    }
    let midnight = date.to_zoned(TimeZone::UTC).ok()?;
    Some(midnight.timestamp().as_second())
}

/// A unix time as RFC 3339 in UTC to the second, e.g. `2027-01-01T00:00:00Z`; the number
/// itself when it is outside the years jiff covers (-9999 to 9999).
pub fn format_date_time(unix: i64) -> String {
    match Timestamp::from_second(unix) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => unix.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_bip65s() {
        assert_eq!(LOCK_TIME_THRESHOLD, 500_000_000);
    }

    #[test]
    fn compact_sizes() {
        for (n, len) in [
            (0, 1),
            (0xfc, 1),
            (0xfd, 3),
            (0xffff, 3),
            (0x1_0000, 5),
            (0xffff_ffff, 5),
            (0x1_0000_0000, 9),
        ] {
            assert_eq!(compact_size_len(n), len, "{n}");
        }
    }

    #[test]
    fn amounts() {
        let opt = AmountSyntax::UnitOptional;
        let req = AmountSyntax::UnitRequired;
        assert_eq!(
            parse_amount("0.1btc", opt),
            Some(Amount::from_sat(10_000_000))
        );
        assert_eq!(parse_amount("1000sat", opt), Some(Amount::from_sat(1000)));
        assert_eq!(parse_amount("5000 sats", req), Some(Amount::from_sat(5000)));
        assert_eq!(
            parse_amount("0.01BTC", req),
            Some(Amount::from_sat(1_000_000))
        );
        assert_eq!(parse_amount("12", opt), Some(Amount::from_sat(12)));
        assert_eq!(parse_amount("12", req), None);
        assert_eq!(parse_amount("-1sat", opt), None);
        assert_eq!(parse_amount("0.000000001btc", opt), None);
        assert_eq!(parse_amount("1.5sat", opt), None);
    }

    #[test]
    fn amounts_above_max_money_are_refused() {
        let req = AmountSyntax::UnitRequired;
        assert_eq!(parse_amount("21000000btc", req), Some(MAX_MONEY));
        assert_eq!(
            parse_amount_checked("2100000000000000sat", req),
            Ok(MAX_MONEY)
        );
        for text in [
            "21000001btc",
            "21000000.00000001btc",
            "2100000000000001sat",
            "18446744073709551615sat",
            "18446744073709551616sat",
            "99999999999999999999999999sat",
            "184467440737.09551615btc",
            "999999999999999999999btc",
            "2100000000000001",
        ] {
            assert_eq!(
                parse_amount_checked(text, AmountSyntax::UnitOptional),
                Err(AmountError::AboveMaxMoney),
                "{text}"
            );
            assert_eq!(
                parse_amount(text, AmountSyntax::UnitOptional),
                None,
                "{text}"
            );
        }
        assert_eq!(
            parse_amount_checked("-1btc", req),
            Err(AmountError::Malformed)
        );
        assert_eq!(parse_amount_checked("", req), Err(AmountError::Malformed));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_seconds("7d"), Some(604_800));
        assert_eq!(parse_duration_seconds("2 weeks"), Some(1_209_600));
        assert_eq!(parse_duration_seconds("7 parsecs"), None);
        assert_eq!(parse_duration_seconds("d"), None);
        assert_eq!(format_duration(0), "0s");
        assert_eq!(
            format_duration(3 * 86_400 + 4 * 3600 + 5 * 60 + 6),
            "3d 4h 5m 6s"
        );
    }

    #[test]
    fn dates() {
        // `value::tests::times` has the accepted forms.
        assert_eq!(
            parse_date_time("2027-01-01T00:00:00.5z"),
            Some(1_798_761_600)
        );
        assert_eq!(parse_date_time("2027-02-30"), None);
        assert_eq!(parse_date_time("2027-01-01T00:00:00"), None);
        assert_eq!(format_date_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_date_time(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(format_date_time(951_782_400), "2000-02-29T00:00:00Z");
    }
}
