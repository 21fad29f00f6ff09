//! `biscol instantiate`: bind an artifact's parameters and print what a funder needs.

use std::path::PathBuf;
use std::process::ExitCode;

use biscol_artifact::value::parse_network;

use crate::output::{self, Format};
use biscol_compiler::tree_view::leaf_name;

/// Arguments of `biscol instantiate`.
#[derive(Debug, clap::Args)]
pub struct InstantiateArgs {
    /// The artifact written by `biscol build` (`build/<Contract>.json`).
    pub artifact: PathBuf,
    /// A parameter value, `NAME=VALUE`: keys as hex (x-only or compressed) or an xpub with a
    /// derivation path, hashes as hex, `Blocks`/`Height` as integers, `Duration` like `7d`,
    /// `Time` as a unix timestamp or an RFC 3339 date, arrays comma-separated.
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    pub args: Vec<String>,
    /// The network whose address to print.
    #[arg(long, default_value = "mainnet", value_parser = ["mainnet", "bitcoin", "testnet", "testnet4", "signet", "regtest"])]
    pub network: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Splits `NAME=VALUE`.
pub fn split_arg(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`--arg {arg}`: expected NAME=VALUE")),
    }
}

/// Runs the command.
pub fn run(args: &InstantiateArgs) -> ExitCode {
    let artifact = match crate::verify::read_verified(&args.artifact) {
        Ok(a) => a,
        Err(message) => return output::usage_error(&message),
    };
    let mut pairs = Vec::new();
    for a in &args.args {
        match split_arg(a) {
            Ok(pair) => pairs.push(pair),
            Err(message) => return output::usage_error(&message),
        }
    }
    let network = match parse_network(&args.network) {
        Ok(n) => n,
        Err(e) => return output::usage_error(&e.to_string()),
    };
    let instance = match artifact.instantiate(&pairs, network) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {}", biscol_artifact::redact::scrub(&e.to_string()));
            return ExitCode::from(1);
        }
    };
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&instance).unwrap_or_default()
        ),
        Format::Human => {
            println!("contract      {}", artifact.contract);
            println!("descriptor    {}", instance.descriptor);
            println!(
                "address       {} ({})",
                instance.address,
                instance.network.to_core_arg()
            );
            println!("scriptPubKey  {}", instance.script_pubkey.to_hex_string());
            println!(
                "internal key  {} ({})",
                instance.internal_key,
                instance.key_path.kind()
            );
            println!("output key    {}", instance.output_key);
            println!(
                "merkle root   {}",
                instance
                    .merkle_root
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "(none)".into())
            );
            for leaf in &instance.leaves {
                println!(
                    "leaf {} (depth {})",
                    leaf_name(&leaf.path, leaf.branch),
                    leaf.depth
                );
                println!("  miniscript     {}", leaf.miniscript);
                println!("  script         {}", leaf.script.to_hex_string());
                println!(
                    "  control block  {}",
                    hex::encode(leaf.control_block.serialize())
                );
            }
        }
    }
    ExitCode::SUCCESS
}
