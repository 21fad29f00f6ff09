//! `biscol fees ARTIFACT...` and `biscol build --emit fees`: what each spend path costs.
//!
//! In: artifacts (files `biscol build` wrote, or the ones a build just made) and fee rates.
//! Out: per path, the worst-case and expected witness size, the vsize of a one-input,
//! one-output spend to a P2TR address and its fee at each rate, then the cheapest and dearest
//! path; as a table, or JSON (one object per contract, in an array). The numbers come from
//! `biscol_artifact::fees`.

use std::path::PathBuf;
use std::process::ExitCode;

use biscol_artifact::fees::{costs, Costs};
use biscol_artifact::format::Artifact;
use bitcoin::FeeRate;

use crate::output::{self, Format};
use crate::session_args;

/// The rates shown when none is given, sat/vB.
pub const DEFAULT_RATES: [u32; 4] = [1, 2, 10, 50];

/// Arguments of `biscol fees`.
#[derive(Debug, clap::Args)]
pub struct FeesArgs {
    /// Artifacts written by `biscol build` (`build/<Contract>.json`).
    #[arg(required = true)]
    pub artifacts: Vec<PathBuf>,
    /// A fee rate in sat/vB to price the spends at (repeatable; default 1, 2, 10 and 50).
    #[arg(long = "fee-rate", value_parser = session_args::parse_fee_rate)]
    pub fee_rates: Vec<FeeRate>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// The rates asked for, or the defaults.
pub fn rates(given: &[FeeRate]) -> Vec<FeeRate> {
    if given.is_empty() {
        DEFAULT_RATES
            .iter()
            .map(|r| FeeRate::from_sat_per_vb_u32(*r))
            .collect()
    } else {
        given.to_vec()
    }
}

/// Runs `biscol fees`.
pub fn run(args: &FeesArgs) -> ExitCode {
    let rates = rates(&args.fee_rates);
    let mut all = Vec::with_capacity(args.artifacts.len());
    for path in &args.artifacts {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                return output::usage_error(&format!("cannot read `{}`: {e}", path.display()))
            }
        };
        match Artifact::from_json(&text) {
            Ok(artifact) => all.push(costs(&artifact, &rates)),
            Err(e) => return output::usage_error(&format!("`{}`: {e}", path.display())),
        }
    }
    print(&all, args.format);
    ExitCode::SUCCESS
}

/// Prints the costs of several contracts: JSON (an array), or one table each.
pub fn print(all: &[Costs], format: Format) {
    match format {
        Format::Json => match serde_json::to_string_pretty(all) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: cannot write JSON: {e}"),
        },
        Format::Human => {
            for (i, c) in all.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                print_table(c);
            }
        }
    }
}

fn print_table(c: &Costs) {
    println!(
        "{}: a spend with one input and one P2TR output, per path",
        c.contract
    );
    let width = c
        .paths
        .iter()
        .map(|p| p.path.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut head = format!(
        "  {:<width$}  {:>13}  {:>16}  {:>9}  {:>12}",
        "path", "witness worst", "witness expected", "vB worst", "vB expected"
    );
    for rate in &c.fee_rates {
        head.push_str(&format!("  {:>14}", format!("fee @{rate} sat/vB")));
    }
    println!("{head}");
    for p in &c.paths {
        let mut line = format!(
            "  {:<width$}  {:>10} WU  {:>13.3} vB  {:>9}  {:>12.3}",
            p.path, p.witness_worst, p.witness_expected_vbytes, p.vsize_worst, p.vsize_expected
        );
        for fee in &p.fees {
            line.push_str(&format!("  {:>14}", format!("{} sat", fee.worst)));
        }
        println!("{line}");
    }
    if let (Some(cheap), Some(dear)) = (&c.cheapest, &c.dearest) {
        println!("  cheapest: {cheap}; dearest: {dear} (fees at the worst-case size, what a spend pays at most)");
    }
}
