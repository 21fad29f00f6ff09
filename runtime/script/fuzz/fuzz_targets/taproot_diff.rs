//! Differential fuzz target: mutate a taproot-ref case (witness bytes and items, annex,
//! scriptSig, amounts, spent scripts, version, locktime, sequence, flags) and require our
//! engine and Bitcoin Core (libbitcoinkernel) to make the same accept/reject decision.

#![no_main]

use std::sync::OnceLock;

use biscol_script::VerifyFlags;
use biscol_script_oracle::{consensus_combinations, load_taproot_ref, with_spend, Case, Prepared};
use bitcoin::{Amount, ScriptBuf, Sequence};
use libfuzzer_sys::fuzz_target;

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a.to_vec()
    }
}

fn flip(v: &mut [u8], r: &mut Bytes) {
    if !v.is_empty() {
        let pos = r.u16() as usize % v.len();
        v[pos] ^= r.u8() | 1;
    }
}

const MAX_MONEY: u64 = 21_000_000 * 100_000_000;

fuzz_target!(|data: &[u8]| {
    static CASES: OnceLock<(Vec<Case>, Vec<VerifyFlags>)> = OnceLock::new();
    let (cases, combos) = CASES.get_or_init(|| (load_taproot_ref(), consensus_combinations()));
    let mut r = Bytes(data);
    let case = &cases[r.u16() as usize % cases.len()];
    let sel = r.u8();
    let mut spend = match (&case.failure, sel & 1) {
        (Some(f), 1) => f.clone(),
        _ => case.success.clone(),
    };
    let flags = combos[(sel >> 1) as usize % combos.len()];
    let mut tx = case.tx.clone();
    let mut prevouts = case.prevouts.clone();
    let index = case.index;
    let rounds = r.u8() % 6;
    for _ in 0..rounds {
        let w = &mut spend.witness;
        match r.u8() % 12 {
            0 | 1 => {
                if !w.is_empty() {
                    let i = r.u8() as usize % w.len();
                    flip(&mut w[i], &mut r);
                }
            }
            2 => {
                if !w.is_empty() {
                    let i = r.u8() as usize % w.len();
                    let len = w[i].len();
                    w[i].truncate(r.u16() as usize % (len + 1));
                }
            }
            3 => {
                if !w.is_empty() {
                    let i = r.u8() as usize % w.len();
                    w.remove(i);
                }
            }
            4 => {
                let i = r.u8() as usize % (w.len() + 1);
                let n = r.u8() as usize;
                let item = r.take(n);
                w.insert(i, item);
            }
            5 => {
                let mut annex = vec![0x50];
                let n = r.u8() as usize % 40;
                annex.extend(r.take(n));
                w.push(annex);
            }
            6 => {
                if w.len() >= 2 {
                    let a = r.u8() as usize % w.len();
                    let b = r.u8() as usize % w.len();
                    w.swap(a, b);
                }
            }
            7 => {
                let k = r.u8() as usize % prevouts.len();
                let v = prevouts[k].value.to_sat();
                let nv = match r.u8() % 3 {
                    0 => v ^ 1,
                    1 => v.saturating_add(r.u16() as u64),
                    _ => r.u32() as u64 % (MAX_MONEY + 1),
                };
                prevouts[k].value = Amount::from_sat(nv);
            }
            8 => {
                let k = r.u8() as usize % prevouts.len();
                let mut spk = prevouts[k].script_pubkey.to_bytes();
                flip(&mut spk, &mut r);
                prevouts[k].script_pubkey = ScriptBuf::from_bytes(spk);
            }
            9 => {
                if spend.script_sig.is_empty() || r.u8() & 1 == 0 {
                    let n = r.u8() as usize % 40;
                    spend.script_sig = r.take(n);
                } else {
                    flip(&mut spend.script_sig, &mut r);
                }
            }
            10 => match r.u8() % 3 {
                0 => tx.version = bitcoin::transaction::Version(r.u32() as i32),
                1 => tx.lock_time = bitcoin::absolute::LockTime::from_consensus(r.u32()),
                _ => {
                    let k = r.u8() as usize % tx.input.len();
                    tx.input[k].sequence = Sequence(r.u32());
                }
            },
            _ => {
                // Mutate inside the leaf script (second-to-last item) of a script-path spend.
                if w.len() >= 2 {
                    let i = w.len() - 2;
                    flip(&mut w[i], &mut r);
                }
            }
        }
    }
    let tx = with_spend(&tx, index, &spend);
    let Ok(p) = Prepared::new(&tx, &prevouts) else {
        return;
    };
    let ours = p.ours(index, flags);
    let core = p.kernel(index, flags);
    assert_eq!(
        ours,
        core,
        "disagreement on {} with flags {flags}: ours {ours} ({:?}), core {core}",
        case.comment,
        p.ours_error(index, flags)
    );
});
