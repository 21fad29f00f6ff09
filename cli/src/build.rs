//! `biscol build`: compile contracts to artifacts, or print one stage of the pipeline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use biscol_compiler::build::{self, BuildOutput};
use biscol_compiler::ir::printer::{self, Style};

use crate::check;
use crate::output::{self, Format};
use biscol_compiler::tree_view::{self, leaf_name};

/// A stage of the pipeline to print instead of writing artifacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// The contract IR (condition trees).
    Ir,
    /// The Miniscript of every leaf, with its depth and witness size.
    Miniscript,
    /// The descriptor template (`tr(KEY,{...})` over parameters) and the BIP388 wallet policy.
    Descriptor,
    /// The script tree as text; with `-o FILE.svg`, also as an SVG picture.
    Tree,
    /// What each spend path costs, as a table (`biscol fees` also writes it as JSON).
    Fees,
}

/// Arguments of `biscol build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Files or folders to build (folders are searched for `.bsc` files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Where to write artifacts (`<Contract>.json`), or with `--emit tree`, an `.svg` file.
    #[arg(short, long, default_value = "build")]
    pub out: PathBuf,
    /// Print this stage instead of writing artifacts.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// With `--emit fees`: a fee rate in sat/vB (repeatable; default 1, 2, 10 and 50).
    #[arg(long = "fee-rate", value_parser = crate::session_args::parse_fee_rate)]
    pub fee_rates: Vec<bitcoin::FeeRate>,
    /// Output format of diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs the command.
/// The most source text the artifacts of one build may embed together. Every artifact embeds
/// the full text of its file and the files it imports (so that anyone can check it against its
/// source), so a file with many contracts is embedded once per contract: 17,000 contracts in a
/// 1 MiB file would take 17 GB, in memory and on disk. A build over this bound is refused before
/// anything is compiled.
const MAX_EMBEDDED_SOURCE_BYTES: usize = 256 * 1024 * 1024;

/// How many bytes of source the artifacts of `file` embed: its contracts times the text of the
/// file and its imports.
fn embedded_source_bytes(
    database: &biscol_compiler::db::Database,
    file: biscol_compiler::db::SourceFile,
) -> usize {
    use biscol_compiler::db;
    let per_artifact: usize = db::import_closure(database, file)
        .values()
        .map(|f| f.text(database).len())
        .sum();
    db::contract_items(database, file)
        .len()
        .saturating_mul(per_artifact)
}

pub fn run(args: &BuildArgs) -> ExitCode {
    let (database, files) = match check::load(&args.paths) {
        Ok(loaded) => loaded,
        Err(message) => return output::usage_error(&message),
    };
    let embedded: usize = files
        .iter()
        .map(|f| embedded_source_bytes(&database, *f))
        .fold(0, usize::saturating_add);
    if embedded > MAX_EMBEDDED_SOURCE_BYTES {
        return output::usage_error(&format!(
            "this build would embed {embedded} bytes of source in its artifacts (each artifact carries the full text of its file and imports, once per contract), more than the limit of {MAX_EMBEDDED_SOURCE_BYTES} bytes (256 MiB): put the contracts in smaller files"
        ));
    }
    let mut diagnostics = Vec::new();
    let mut outputs: Vec<BuildOutput> = Vec::new();
    for file in &files {
        let out = build::build(&database, *file);
        diagnostics.extend(out.diagnostics.iter().cloned());
        outputs.push(out);
    }
    output::print_diagnostics(args.format, &database.source_files(), &diagnostics);
    if diagnostics.iter().any(|d| d.is_error()) {
        return ExitCode::from(1);
    }
    let contracts = outputs.iter().flat_map(|o| &o.contracts);
    match args.emit {
        None => {
            if let Err(e) = std::fs::create_dir_all(&args.out) {
                return output::usage_error(&format!(
                    "cannot create `{}`: {e}",
                    args.out.display()
                ));
            }
            for c in contracts {
                let Some(artifact) = &c.artifact else {
                    continue;
                };
                let path = args.out.join(format!("{}.json", artifact.contract));
                if let Err(e) = write_atomically(&path, artifact.to_json().as_bytes()) {
                    return output::usage_error(&format!("cannot write `{}`: {e}", path.display()));
                }
                if args.format == Format::Human {
                    eprintln!("wrote {}", path.display());
                }
            }
        }
        Some(Emit::Ir) => {
            for c in contracts {
                let mut text = String::new();
                printer::print_contract(&mut text, &c.ir, Style::default());
                print!("{text}");
            }
        }
        Some(Emit::Miniscript) => {
            for c in contracts {
                let Some(a) = &c.artifact else { continue };
                println!("contract {}", a.contract);
                println!("  key {}", a.taproot.key_path.template);
                for leaf in &a.taproot.leaves {
                    println!(
                        "  {} (depth {}, worst witness {} vB): {}",
                        leaf_name(&leaf.path, leaf.branch),
                        leaf.depth,
                        leaf.witness.vbytes,
                        leaf.template
                    );
                }
            }
        }
        Some(Emit::Descriptor) => {
            for c in contracts {
                let Some(a) = &c.artifact else { continue };
                let tree = a
                    .taproot
                    .tree
                    .as_deref()
                    .map(|t| format!(",{t}"))
                    .unwrap_or_default();
                println!("{}: tr({}{tree})", a.contract, a.taproot.key_path.template);
                println!(
                    "  BIP388 wallet policy: {}",
                    a.taproot.wallet_policy.template
                );
                for (i, key) in a.taproot.wallet_policy.keys.iter().enumerate() {
                    let key = match key {
                        biscol_taproot::policy388::WalletKey::Param { name } => name.as_str(),
                        biscol_taproot::policy388::WalletKey::Nums => {
                            "the NUMS point (unspendable)"
                        }
                    };
                    println!("    @{i} = {key}");
                }
            }
        }
        Some(Emit::Fees) => {
            let rates = crate::fees_cmd::rates(&args.fee_rates);
            let all: Vec<_> = contracts
                .filter_map(|c| c.artifact.as_ref())
                .map(|a| biscol_artifact::fees::costs(a, &rates))
                .collect();
            // Like the other stages, a table; `biscol fees --format json` gives it as JSON.
            crate::fees_cmd::print(&all, Format::Human);
        }
        Some(Emit::Tree) => {
            let mut svgs = Vec::new();
            for c in contracts {
                let (Some(a), Some(compiled)) = (&c.artifact, &c.compiled) else {
                    continue;
                };
                print!("{}", tree_view::text(a, compiled));
                svgs.push(tree_view::svg(a, compiled));
            }
            if args.out.extension().is_some_and(|e| e == "svg") {
                let joined = svgs.join("\n");
                if let Err(e) = write_atomically(&args.out, joined.as_bytes()) {
                    return output::usage_error(&format!(
                        "cannot write `{}`: {e}",
                        args.out.display()
                    ));
                }
                eprintln!("wrote {}", args.out.display());
            }
        }
    }
    ExitCode::SUCCESS
}

/// Writes a file through a temporary file and a rename, so a reader never sees half of it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
