//! Bitcoin Core (libbitcoinkernel) as an oracle for `biscol-script`.
//!
//! In: transactions with their spent outputs, an input index and consensus flags. Out: the
//! accept/reject decision of our engine and of Core's own validation code for the same input,
//! so tests, the fuzzer and the benchmark can compare them. Also loads the taproot-ref cases
//! from `../tests/data` (the crate's own copy of the vectors).
//!
//! libbitcoinkernel only accepts the seven consensus flags and only valid combinations of them;
//! the helpers here never pass anything else.

use biscol_script::{verify_input_with, PrecomputedTx, VerifyFlags};
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::{ScriptBuf, Transaction, TxOut, Witness};
use bitcoinkernel::{KernelError, ScriptVerifyError};

/// A scriptSig and witness for the tested input.
#[derive(Debug, Clone)]
pub struct Spend {
    /// The scriptSig bytes.
    pub script_sig: Vec<u8>,
    /// The witness stack.
    pub witness: Vec<Vec<u8>>,
}

/// One taproot-ref case (Bitcoin Core's `script_assets_test.json` format).
#[derive(Debug, Clone)]
pub struct Case {
    /// `category/name`.
    pub comment: String,
    /// The transaction (the tested input's scriptSig/witness are replaced by a spend).
    pub tx: Transaction,
    /// The outputs spent by every input.
    pub prevouts: Vec<TxOut>,
    /// The tested input.
    pub index: usize,
    /// The case's flags.
    pub flags: VerifyFlags,
    /// Whether `success` must verify under every flag combination.
    pub fin: bool,
    /// A spend that must verify.
    pub success: Spend,
    /// A spend that must fail, when present.
    pub failure: Option<Spend>,
}

fn spend(v: &serde_json::Value) -> Spend {
    Spend {
        script_sig: hex::decode(v["scriptSig"].as_str().unwrap_or("")).unwrap_or_default(),
        witness: v["witness"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|w| hex::decode(w.as_str().unwrap_or("")).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Path of a file in `runtime/script/tests/data`.
pub fn data_path(name: &str) -> String {
    format!("{}/../tests/data/{}", env!("CARGO_MANIFEST_DIR"), name)
}

/// Loads the 2,760 taproot-ref cases.
pub fn load_taproot_ref() -> Vec<Case> {
    let text = std::fs::read_to_string(data_path("script_assets_test.taproot-ref.json"))
        .expect("taproot-ref data");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    v.as_array()
        .expect("array")
        .iter()
        .map(|c| Case {
            comment: c["comment"].as_str().unwrap_or("").to_string(),
            tx: deserialize(&hex::decode(c["tx"].as_str().unwrap()).unwrap()).unwrap(),
            prevouts: c["prevouts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| deserialize(&hex::decode(p.as_str().unwrap()).unwrap()).unwrap())
                .collect(),
            index: c["index"].as_u64().unwrap() as usize,
            flags: VerifyFlags::parse(c["flags"].as_str().unwrap()).unwrap(),
            fin: c.get("final").and_then(|f| f.as_bool()).unwrap_or(false),
            success: spend(&c["success"]),
            failure: c.get("failure").map(spend),
        })
        .collect()
}

/// `tx` with `s` placed in input `index`.
pub fn with_spend(tx: &Transaction, index: usize, s: &Spend) -> Transaction {
    let mut tx = tx.clone();
    if let Some(i) = tx.input.get_mut(index) {
        i.script_sig = ScriptBuf::from_bytes(s.script_sig.clone());
        i.witness = Witness::from_slice(&s.witness);
    }
    tx
}

/// Every valid combination of the seven consensus flags (64).
pub fn consensus_combinations() -> Vec<VerifyFlags> {
    let bits: Vec<VerifyFlags> = VerifyFlags::NAMED
        .iter()
        .map(|(_, f)| *f)
        .filter(|f| VerifyFlags::CONSENSUS.contains(*f))
        .collect();
    (0u32..1 << bits.len())
        .map(|m| {
            bits.iter()
                .enumerate()
                .filter(|(i, _)| m & (1 << i) != 0)
                .fold(VerifyFlags::NONE, |a, (_, b)| a | *b)
        })
        .filter(|f| f.is_valid_combination())
        .collect()
}

/// A transaction prepared once for both engines.
pub struct Prepared {
    tx: Transaction,
    ours: PrecomputedTx,
    ktx: bitcoinkernel::Transaction,
    kdata: bitcoinkernel::PrecomputedTransactionData,
    kspks: Vec<(bitcoinkernel::ScriptPubkey, i64)>,
}

/// Why a transaction could not be prepared for the kernel.
#[derive(Debug)]
pub struct PrepareError(pub String);

impl Prepared {
    /// Prepares `tx` spending `prevouts` (one per input, amounts below 2^63).
    pub fn new(tx: &Transaction, prevouts: &[TxOut]) -> Result<Prepared, PrepareError> {
        if prevouts.len() != tx.input.len() {
            return Err(PrepareError("prevout count".into()));
        }
        let ktx = bitcoinkernel::Transaction::new(&serialize(tx))
            .map_err(|e| PrepareError(format!("{e:?}")))?;
        let mut kspks = Vec::new();
        let mut kouts = Vec::new();
        for p in prevouts {
            let amount =
                i64::try_from(p.value.to_sat()).map_err(|_| PrepareError("amount".into()))?;
            let spk = bitcoinkernel::ScriptPubkey::new(p.script_pubkey.as_bytes())
                .map_err(|e| PrepareError(format!("{e:?}")))?;
            kouts.push(bitcoinkernel::TxOut::new(&spk, amount));
            kspks.push((spk, amount));
        }
        let kdata = bitcoinkernel::PrecomputedTransactionData::new(&ktx, &kouts)
            .map_err(|e| PrepareError(format!("{e:?}")))?;
        Ok(Prepared {
            tx: tx.clone(),
            ours: PrecomputedTx::new(tx, prevouts),
            ktx,
            kdata,
            kspks,
        })
    }

    /// Our engine's decision.
    pub fn ours(&self, index: usize, flags: VerifyFlags) -> bool {
        verify_input_with(&self.tx, index, &self.ours, flags, None).is_ok()
    }

    /// Our engine's error, if any.
    pub fn ours_error(&self, index: usize, flags: VerifyFlags) -> Option<String> {
        verify_input_with(&self.tx, index, &self.ours, flags, None)
            .err()
            .map(|e| e.to_string())
    }

    /// Bitcoin Core's decision. Panics if the kernel refuses the call itself (bad flags or
    /// index), which the callers rule out.
    pub fn kernel(&self, index: usize, flags: VerifyFlags) -> bool {
        let (spk, amount) = &self.kspks[index];
        match bitcoinkernel::verify(
            spk,
            Some(*amount),
            &self.ktx,
            index,
            Some(flags.0),
            &self.kdata,
        ) {
            Ok(()) => true,
            Err(KernelError::ScriptVerify(ScriptVerifyError::Invalid)) => false,
            Err(e) => panic!("kernel refused the call: {e:?} (flags {flags})"),
        }
    }
}
