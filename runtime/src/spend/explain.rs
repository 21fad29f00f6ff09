//! Human-readable numbers for refusals and plan steps: dates in RFC 3339 (UTC), durations,
//! shortened hex, and the timelock checks with their explanations.
//!
//! In: consensus values (BIP68 nSequence values, BIP65 nLockTime values), the coin's
//! confirmation data and the chain state. Out: whether the next block accepts the lock, and a
//! sentence with the numbers either way. The rules are consensus's, so that what this module
//! accepts the embedded chain accepts too:
//!
//! * `older(n)` in blocks: the spend goes into the next block (`chain.height + 1`), which must
//!   be at least `n` blocks above the coin's block;
//! * `older(n)` in time: the tip's median time past minus the median time past of the block
//!   before the coin's block must be at least `n × 512` seconds;
//! * `after(h)` with a height: `h` must be below the next block's height;
//! * `after(t)` with a time: `t` must be below the tip's median time past (BIP113).
//!
//! An unconfirmed coin never satisfies `older`.

use super::{ChainState, Coin};

/// The BIP68 flag that makes a relative lock time-based.
const SEQUENCE_TYPE_FLAG: u32 = 1 << 22;
/// The BIP68 value mask.
const SEQUENCE_MASK: u32 = 0xffff;
/// BIP68's time granularity in seconds.
const SEQUENCE_GRANULARITY: u64 = 512;
/// nLockTime values from this one on are unix times (BIP65/BIP113).
pub(crate) const LOCKTIME_THRESHOLD: u32 = 500_000_000;

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y, m as u32, d as u32)
}

/// A unix time as RFC 3339 in UTC, e.g. `2027-01-01T00:00:00Z`.
pub fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// A duration in seconds, e.g. `3d 4h 5m 6s`, `0s`.
pub(crate) fn duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let parts = [
        (secs / 86_400, "d"),
        ((secs % 86_400) / 3600, "h"),
        ((secs % 3600) / 60, "m"),
        (secs % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first 8 hex digits of `hex` followed by `…` (the whole text when short).
pub(crate) fn short_hex(hex: &str) -> String {
    match hex.get(..8) {
        Some(head) if hex.len() > 12 => format!("{head}…"),
        _ => hex.to_string(),
    }
}

/// Plural suffix.
fn s(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A relative lock (`older`), decoded from its consensus value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relative {
    /// Blocks since the coin's block.
    Blocks(u64),
    /// Seconds of median time past since the block before the coin's block (a multiple of 512).
    Seconds(u64),
}

impl Relative {
    /// Decodes a BIP68 value (the `older` argument, which is also the nSequence it needs).
    pub(crate) fn from_consensus(v: u32) -> Relative {
        let n = u64::from(v & SEQUENCE_MASK);
        if v & SEQUENCE_TYPE_FLAG != 0 {
            Relative::Seconds(n * SEQUENCE_GRANULARITY)
        } else {
            Relative::Blocks(n)
        }
    }

    /// The lock in words, e.g. `144 blocks` or `7d (1181 × 512 s)`.
    pub(crate) fn describe(self) -> String {
        match self {
            Relative::Blocks(n) => format!("{n} block{}", s(n)),
            Relative::Seconds(secs) => format!(
                "{} ({} × 512 s)",
                duration(secs),
                secs / SEQUENCE_GRANULARITY
            ),
        }
    }
}

/// Whether the next block accepts `older(v)` for `coin`; either way a sentence with numbers.
pub(crate) fn check_older(v: u32, coin: &Coin, chain: &ChainState) -> Result<String, String> {
    let lock = Relative::from_consensus(v);
    let Some(coin_height) = coin.height else {
        return Err(format!(
            "needs {} since the coin confirmed; the coin is unconfirmed (mine it into a block \
             first, then wait)",
            lock.describe()
        ));
    };
    match lock {
        Relative::Blocks(n) => {
            // The spend goes into the next block; a coin in the tip block has 1 confirmation.
            let has = (u64::from(chain.height) + 1).saturating_sub(u64::from(coin_height));
            if has >= n {
                Ok(format!(
                    "needs {} since the coin confirmed; the coin has {has} in the next block",
                    lock.describe()
                ))
            } else {
                let more = n - has;
                Err(format!(
                    "needs {} since the coin confirmed; the coin has {has} ({more} more block{} \
                     must be mined)",
                    lock.describe(),
                    s(more)
                ))
            }
        }
        Relative::Seconds(needed) => {
            let Some(base) = coin.mtp_before else {
                return Err(format!(
                    "needs {} of median time past since the coin confirmed; the median time \
                     past before the coin's block is unknown",
                    lock.describe()
                ));
            };
            let has = u64::from(chain.median_time_past).saturating_sub(u64::from(base));
            if has >= needed {
                Ok(format!(
                    "needs {} of median time past since the coin confirmed; the coin has {}",
                    lock.describe(),
                    duration(has)
                ))
            } else {
                let target = i64::from(base) + needed as i64;
                Err(format!(
                    "needs {} of median time past since the coin confirmed; the coin has {}; \
                     the median time past must reach {} ({} to go)",
                    lock.describe(),
                    duration(has),
                    rfc3339(target),
                    duration(needed - has)
                ))
            }
        }
    }
}

/// Whether the next block accepts a transaction with nLockTime `v` (`after(v)`); either way a
/// sentence with numbers.
pub(crate) fn check_after(v: u32, chain: &ChainState) -> Result<String, String> {
    if v < LOCKTIME_THRESHOLD {
        let next = u64::from(chain.height) + 1;
        if u64::from(v) < next {
            Ok(format!(
                "needs a block height above {v}; the next block is {next}"
            ))
        } else {
            let more = u64::from(v) + 1 - next;
            Err(format!(
                "needs a block height above {v}; the next block is {next} ({more} more block{} \
                 must be mined)",
                s(more)
            ))
        }
    } else {
        let mtp = chain.median_time_past;
        if v < mtp {
            Ok(format!(
                "needs the median time past to pass {}; it is {}",
                rfc3339(i64::from(v)),
                rfc3339(i64::from(mtp))
            ))
        } else {
            let to_go = u64::from(v) + 1 - u64::from(mtp);
            Err(format!(
                "needs the median time past to pass {}; it is {} ({} to go)",
                rfc3339(i64::from(v)),
                rfc3339(i64::from(mtp)),
                duration(to_go)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(90_061), "1d 1h 1m 1s");
        assert_eq!(duration(3600), "1h");
        assert_eq!(short_hex("0123456789abcdef"), "01234567…");
        assert_eq!(short_hex("0123"), "0123");
    }

    #[test]
    fn timelocks_follow_consensus() {
        let chain = ChainState {
            height: 200,
            median_time_past: 1_000_000,
        };
        let coin = |height| Coin {
            outpoint: bitcoin::OutPoint::null(),
            txout: bitcoin::TxOut::NULL,
            height,
            mtp_before: Some(1_000_000 - 1024),
        };
        // 200 + 1 - 58 = 143 blocks.
        assert!(check_older(144, &coin(Some(58)), &chain).is_err());
        assert!(check_older(144, &coin(Some(57)), &chain).is_ok());
        assert!(check_older(1, &coin(None), &chain).is_err());
        assert!(check_older(SEQUENCE_TYPE_FLAG | 2, &coin(Some(1)), &chain).is_ok());
        assert!(check_older(SEQUENCE_TYPE_FLAG | 3, &coin(Some(1)), &chain).is_err());
        assert!(check_after(200, &chain).is_ok());
        assert!(check_after(201, &chain).is_err());
        assert!(check_after(999_999, &chain).is_err());
        assert!(check_after(LOCKTIME_THRESHOLD, &chain).is_err());
        let late = ChainState {
            height: 1,
            median_time_past: LOCKTIME_THRESHOLD + 1,
        };
        assert!(check_after(LOCKTIME_THRESHOLD, &late).is_ok());
        assert!(check_after(LOCKTIME_THRESHOLD + 1, &late).is_err());
    }
}
