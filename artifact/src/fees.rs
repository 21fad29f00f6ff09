//! What each spend path of an artifact costs: witness sizes, the size of a spend transaction,
//! and its fee at given fee rates.
//!
//! In: an [`Artifact`] and fee rates. Out: one [`PathCost`] per spend path, in source order,
//! then the key path when there is one (`key`), and the cheapest and dearest of them.
//!
//! The transaction is the one the runtime builds: version 2, one input (the contract's coin,
//! empty scriptSig) and one output to a P2TR address (43 bytes), so its non-witness part is 94
//! bytes (376 weight units) and the segwit marker and flag add 2. A path's worst case is its
//! heaviest leaf's worst-case witness (control block and script included), as the compiler
//! computed it; its expected size weighs its leaves by their share of the path. The key path's
//! witness is one 64-byte BIP340 signature (66 bytes with the item count and length). Fees are
//! `ceil(rate × vsize)`, what the runtime pays at that rate; the expected fee is for the
//! expected size, rounded up too. Nothing here depends on the arguments: sizes are the same for
//! every instance of the artifact.

use bitcoin::FeeRate;
use serde::Serialize;

use crate::format::Artifact;
use crate::taproot::KeyPathKind;

/// Weight of the spend transaction without its witness: 94 non-witness bytes × 4, plus the
/// segwit marker and flag.
pub const BASE_WEIGHT: u64 = 94 * 4 + 2;
/// The key path's witness: one item of a 64-byte signature.
pub const KEY_PATH_WITNESS: u64 = 1 + 1 + 64;
/// The name the key path has among the paths.
pub const KEY_PATH: &str = "key";

/// The cost of one path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathCost {
    /// The path's name, or [`KEY_PATH`].
    pub path: String,
    /// Its worst-case witness in bytes (= weight units).
    pub witness_worst: u64,
    /// Its expected witness in virtual bytes.
    pub witness_expected_vbytes: f64,
    /// The spend transaction's virtual size with the worst-case witness.
    pub vsize_worst: u64,
    /// The same with the expected witness.
    pub vsize_expected: f64,
    /// The fee at each rate asked for.
    pub fees: Vec<Fee>,
}

/// A path's fee at one rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fee {
    /// The rate, sat/vB.
    pub rate: f64,
    /// The fee with the worst-case witness, in satoshis: what the runtime pays at most.
    pub worst: u64,
    /// The fee with the expected witness, in satoshis.
    pub expected: u64,
}

/// The costs of an artifact's paths.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Costs {
    /// The contract.
    pub contract: String,
    /// The rates asked for, sat/vB.
    pub fee_rates: Vec<f64>,
    /// The script paths in source order, then the key path.
    pub paths: Vec<PathCost>,
    /// The path with the smallest worst-case size (the first of equals).
    pub cheapest: Option<String>,
    /// The path with the largest worst-case size (the first of equals).
    pub dearest: Option<String>,
}

/// The costs of `artifact`'s paths at `rates`.
pub fn costs(artifact: &Artifact, rates: &[FeeRate]) -> Costs {
    let mut paths: Vec<PathCost> = artifact
        .taproot
        .paths
        .iter()
        .map(|p| cost(&p.name, p.worst.weight, p.expected_vbytes, rates))
        .collect();
    if artifact.taproot.key_path.kind != KeyPathKind::Nums {
        paths.push(cost(
            KEY_PATH,
            KEY_PATH_WITNESS,
            KEY_PATH_WITNESS as f64 / 4.0,
            rates,
        ));
    }
    let by_size = |pick: fn(u64, u64) -> bool| {
        paths
            .iter()
            .fold(None::<&PathCost>, |best, p| match best {
                Some(b) if !pick(p.vsize_worst, b.vsize_worst) => Some(b),
                _ => Some(p),
            })
            .map(|p| p.path.clone())
    };
    Costs {
        contract: artifact.contract.clone(),
        fee_rates: rates.iter().map(|r| sat_per_vb(*r)).collect(),
        cheapest: by_size(|a, b| a < b),
        dearest: by_size(|a, b| a > b),
        paths,
    }
}

fn cost(
    path: &str,
    witness_worst: u64,
    witness_expected_vbytes: f64,
    rates: &[FeeRate],
) -> PathCost {
    let vsize_worst = (BASE_WEIGHT + witness_worst).div_ceil(4);
    let vsize_expected = round3(BASE_WEIGHT as f64 / 4.0 + witness_expected_vbytes);
    PathCost {
        path: path.to_string(),
        witness_worst,
        witness_expected_vbytes,
        vsize_worst,
        vsize_expected,
        fees: rates
            .iter()
            .map(|&rate| {
                let per_kwu = rate.to_sat_per_kwu();
                Fee {
                    rate: sat_per_vb(rate),
                    worst: per_kwu.saturating_mul(vsize_worst * 4).div_ceil(1000),
                    expected: (per_kwu as f64 * vsize_expected * 4.0 / 1000.0).ceil() as u64,
                }
            })
            .collect(),
    }
}

/// A fee rate in sat/vB (it is kept in sat/kWU: 250 per sat/vB).
fn sat_per_vb(rate: FeeRate) -> f64 {
    rate.to_sat_per_kwu() as f64 / 250.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_path_spend_is_111_vbytes() {
        // 376 + 2 + 66 = 444 weight units: Bitcoin Core estimates 111 vB for the same spend.
        let rates = [
            FeeRate::from_sat_per_vb_u32(1),
            FeeRate::from_sat_per_vb_u32(3),
        ];
        let c = cost(KEY_PATH, KEY_PATH_WITNESS, 16.5, &rates);
        assert_eq!(c.vsize_worst, 111);
        assert_eq!(c.vsize_expected, 111.0);
        assert_eq!(
            c.fees[1],
            Fee {
                rate: 3.0,
                worst: 333,
                expected: 333
            }
        );
    }

    #[test]
    fn vsize_rounds_up_and_fees_follow() {
        // 378 + 103 = 481 weight units: 120.25 vB, so 121.
        // 2.5 sat/vB is 625 sat/kWU: 121 vB pay 302.5, so 303.
        let rates = [
            FeeRate::from_sat_per_vb_u32(2),
            FeeRate::from_sat_per_kwu(625),
        ];
        let c = cost("claim", 103, 25.75, &rates);
        assert_eq!(c.vsize_worst, 121);
        assert_eq!(c.vsize_expected, 120.25);
        assert_eq!(
            c.fees[0],
            Fee {
                rate: 2.0,
                worst: 242,
                expected: 241
            }
        );
        assert_eq!(
            c.fees[1],
            Fee {
                rate: 2.5,
                worst: 303,
                expected: 301
            }
        );
    }
}
