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

use biscol_artifact::units::{format_date_time, format_duration, LOCK_TIME_THRESHOLD};

use super::{ChainState, Coin};

/// The BIP68 flag that makes a relative lock time-based.
const SEQUENCE_TYPE_FLAG: u32 = 1 << 22;
/// The BIP68 value mask.
const SEQUENCE_MASK: u32 = 0xffff;
/// BIP68's time granularity in seconds.
const SEQUENCE_GRANULARITY: u64 = 512;

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
                format_duration(secs),
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
                    format_duration(has)
                ))
            } else {
                let target = i64::from(base) + needed as i64;
                Err(format!(
                    "needs {} of median time past since the coin confirmed; the coin has {}; \
                     the median time past must reach {} ({} to go)",
                    lock.describe(),
                    format_duration(has),
                    format_date_time(target),
                    format_duration(needed - has)
                ))
            }
        }
    }
}

/// Whether the next block accepts a transaction with nLockTime `v` (`after(v)`); either way a
/// sentence with numbers.
pub(crate) fn check_after(v: u32, chain: &ChainState) -> Result<String, String> {
    if v < LOCK_TIME_THRESHOLD {
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
                format_date_time(i64::from(v)),
                format_date_time(i64::from(mtp))
            ))
        } else {
            let to_go = u64::from(v) + 1 - u64::from(mtp);
            Err(format!(
                "needs the median time past to pass {}; it is {} ({} to go)",
                format_date_time(i64::from(v)),
                format_date_time(i64::from(mtp)),
                format_duration(to_go)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations() {
        assert_eq!(format_date_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_date_time(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(format_date_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(90_061), "1d 1h 1m 1s");
        assert_eq!(format_duration(3600), "1h");
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
        assert!(check_after(LOCK_TIME_THRESHOLD, &chain).is_err());
        let late = ChainState {
            height: 1,
            median_time_past: LOCK_TIME_THRESHOLD + 1,
        };
        assert!(check_after(LOCK_TIME_THRESHOLD, &late).is_ok());
        assert!(check_after(LOCK_TIME_THRESHOLD + 1, &late).is_err());
    }
}
