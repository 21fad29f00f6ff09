//! `biscol debug verify`: verify one transaction input with the script engine.
//!
//! In: the spending transaction (hex), every spent output (hex `CTxOut`: 8-byte little-endian
//! amount, then the compact-size-prefixed scriptPubKey), the input index, optional flags
//! (default: all consensus flags), `--trace`, `--format human|json`. Out: exit 0 when the input
//! is valid, 1 when it is not (Core's error name in the output, `"error"` in JSON), 2 when the
//! arguments cannot be used (bad hex, not a transaction, index out of range, wrong number of
//! spent outputs, unknown flag). Never panics on input.

use std::process::ExitCode;

use biscol_script::opcodes::{op_name, to_asm};
use biscol_script::{
    check_transaction, PrecomputedTx, ScriptTrace, SigVersion, Trace, VerifyError, VerifyFlags,
};
use bitcoin::consensus::deserialize;
use bitcoin::{Transaction, TxOut};
use serde_json::{json, Value};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Human,
    /// One JSON object on stdout.
    Json,
}

/// Arguments of `biscol debug verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The spending transaction, hex (segwit serialization allowed).
    #[arg(long)]
    pub tx: String,
    /// The outputs spent by every input, in input order, comma-separated hex: 8-byte
    /// little-endian amount followed by the compact-size-prefixed scriptPubKey.
    #[arg(long, value_delimiter = ',', required = true)]
    pub prevouts: Vec<String>,
    /// The input to verify.
    #[arg(long)]
    pub index: usize,
    /// Comma-separated SCRIPT_VERIFY_* names (e.g. P2SH,WITNESS,TAPROOT); `NONE` for none,
    /// `ALL` for every policy flag too. Default: all consensus flags.
    #[arg(long)]
    pub flags: Option<String>,
    /// Print every script step with its stacks.
    #[arg(long)]
    pub trace: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

struct Input {
    tx: Transaction,
    prevouts: Vec<TxOut>,
    flags: VerifyFlags,
}

fn decode_hex(what: &str, s: &str) -> Result<Vec<u8>, String> {
    hex::decode(s.trim()).map_err(|e| format!("{what}: invalid hex ({e})"))
}

fn parse(args: &VerifyArgs) -> Result<Input, String> {
    let tx: Transaction = deserialize(&decode_hex("--tx", &args.tx)?)
        .map_err(|e| format!("--tx: not a valid transaction ({e})"))?;
    let mut prevouts = Vec::with_capacity(args.prevouts.len());
    for (i, p) in args.prevouts.iter().enumerate() {
        let out: TxOut = deserialize(&decode_hex(&format!("--prevouts[{i}]"), p)?)
            .map_err(|e| format!("--prevouts[{i}]: not a serialized output ({e})"))?;
        prevouts.push(out);
    }
    if args.index >= tx.input.len() {
        return Err(format!(
            "--index {} is out of range: the transaction has {} input(s)",
            args.index,
            tx.input.len()
        ));
    }
    if prevouts.len() != tx.input.len() {
        return Err(format!(
            "--prevouts gives {} output(s) but the transaction has {} input(s); give the spent output of every input",
            prevouts.len(),
            tx.input.len()
        ));
    }
    let flags = match &args.flags {
        None => VerifyFlags::CONSENSUS,
        Some(s) => VerifyFlags::parse(s).map_err(|e| format!("--flags: {e}"))?,
    };
    Ok(Input {
        tx,
        prevouts,
        flags,
    })
}

fn sigversion_name(sv: SigVersion) -> &'static str {
    match sv {
        SigVersion::Base => "base",
        SigVersion::WitnessV0 => "witness_v0",
        SigVersion::Taproot => "taproot",
        SigVersion::Tapscript => "tapscript",
    }
}

fn hexes(v: &[Vec<u8>]) -> Vec<String> {
    v.iter().map(hex::encode).collect()
}

fn script_json(s: &ScriptTrace) -> Value {
    json!({
        "kind": s.kind.name(),
        "sigversion": sigversion_name(s.sigversion),
        "script": hex::encode(&s.script),
        "asm": to_asm(&s.script),
        "initial_stack": hexes(&s.initial_stack),
        "steps": s.steps.iter().map(|st| json!({
            "pos": st.pos,
            "opcode": st.opcode_name(),
            "executed": st.executed,
            "stack": hexes(&st.stack),
            "altstack": hexes(&st.altstack),
            "snapshot_omitted": st.snapshot_omitted,
        })).collect::<Vec<_>>(),
        "failure": s.failure.map(|f| json!({
            "pos": f.pos,
            "opcode": f.opcode.map(op_name),
            "error": f.error.name(),
        })),
    })
}

fn print_trace_human(t: &Trace) {
    for s in &t.scripts {
        println!(
            "== {} ({}) {}",
            s.kind.name(),
            sigversion_name(s.sigversion),
            to_asm(&s.script)
        );
        println!("   start  stack=[{}]", hexes(&s.initial_stack).join(" "));
        for st in &s.steps {
            let mark = if st.executed { " " } else { "-" };
            if st.snapshot_omitted {
                println!(
                    "  {mark}{:5} {:<24} (stacks omitted)",
                    st.pos,
                    st.opcode_name()
                );
            } else {
                println!(
                    "  {mark}{:5} {:<24} stack=[{}] alt=[{}]",
                    st.pos,
                    st.opcode_name(),
                    hexes(&st.stack).join(" "),
                    hexes(&st.altstack).join(" ")
                );
            }
        }
        if let Some(f) = &s.failure {
            match f.opcode {
                Some(op) => println!("   FAILED at byte {} ({}): {}", f.pos, op_name(op), f.error),
                None => println!("   FAILED: {}", f.error),
            }
        }
    }
}

/// Runs the command and returns its exit code.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let input = match parse(args) {
        Ok(i) => i,
        Err(msg) => {
            if args.format == Format::Json {
                println!(
                    "{}",
                    json!({"valid": Value::Null, "error": "BAD_INPUT", "message": msg})
                );
            }
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    };
    let index = args.index;
    let mut trace = Trace::new();
    let result: Result<(), VerifyError> = match check_transaction(&input.tx) {
        Err(reason) => Err(VerifyError::BadTx(reason)),
        Ok(()) => {
            let txdata = PrecomputedTx::new(&input.tx, &input.prevouts);
            biscol_script::verify_input_with(
                &input.tx,
                index,
                &txdata,
                input.flags,
                args.trace.then_some(&mut trace),
            )
        }
    };
    let failure = trace.failure().map(|(s, f)| (s.kind, *f));
    match args.format {
        Format::Json => {
            let mut out = json!({
                "valid": result.is_ok(),
                "error": result.as_ref().err().map(|e| e.name()),
                "input": index,
                "txid": input.tx.compute_txid().to_string(),
                "flags": input.flags.to_string(),
            });
            if let Some((kind, f)) = failure {
                out["failed_at"] = json!({
                    "script": kind.name(),
                    "pos": f.pos,
                    "opcode": f.opcode.map(op_name),
                });
            }
            if args.trace {
                out["trace"] = Value::Array(trace.scripts.iter().map(script_json).collect());
            }
            println!("{out}");
        }
        Format::Human => {
            if args.trace {
                print_trace_human(&trace);
            }
            match &result {
                Ok(()) => println!("input {index}: valid (flags {})", input.flags),
                Err(e) => {
                    let at = match failure {
                        Some((kind, f)) => match f.opcode {
                            Some(op) => {
                                format!(" in {} at byte {} ({})", kind.name(), f.pos, op_name(op))
                            }
                            None => format!(" in {}", kind.name()),
                        },
                        None => String::new(),
                    };
                    println!("input {index}: invalid: {e}{at} (flags {})", input.flags)
                }
            }
        }
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
