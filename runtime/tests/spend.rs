//! The spend engine: every path of every standard library contract (refused before its
//! timelock with the `require` and the numbers, accepted after it and verified by
//! `biscol-script`), wrong preimages, missing keys, thresholds, time locks, split paths, the
//! key paths (single and in-process MuSig2), argument errors, and spends on the embedded chain.

use std::path::Path;

use biscol_artifact::format::Artifact;
use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::{ChainBackend, TxStatus};
use biscol_runtime::keystore::Keystore;
use biscol_runtime::spend::{
    prepare, ChainState, Coin, Contract, PreparedSpend, Refusal, SpendError, SpendRequest,
};
use biscol_runtime::wallet::{Wallet, DEFAULT_FEE_RATE};
use bitcoin::hashes::{hash160, sha256, Hash};
use bitcoin::{Amount, FeeRate, OutPoint, ScriptBuf, TxOut, Txid};

const PREIMAGE: [u8; 32] = [7u8; 32];
const VALUE: u64 = 100_000;

// ----- Helpers

#[path = "common/artifacts.rs"]
mod artifacts;

use artifacts::artifact_of;

fn keystore(dir: &Path, names: &[&str]) -> Keystore {
    let ks = Keystore::open(dir).unwrap();
    for n in names {
        ks.create(n).unwrap();
    }
    ks
}

/// A keystore in `dir` holding copies of some keys of `from`.
fn partial(from: &Keystore, dir: &Path, names: &[&str]) -> Keystore {
    let ks = Keystore::open(dir).unwrap();
    for n in names {
        std::fs::copy(
            from.path().join(format!("{n}.key")),
            dir.join(format!("{n}.key")),
        )
        .unwrap();
    }
    assert_eq!(ks.list().unwrap().len(), names.len());
    ks
}

fn pk(ks: &Keystore, name: &str) -> String {
    ks.show(name).unwrap().public_key.to_string()
}

fn contract(artifact: Artifact, args: &[(&str, String)]) -> Contract {
    let args: Vec<(String, String)> = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Contract::instantiate(artifact, &args, bitcoin::Network::Regtest).unwrap()
}

fn coin(c: &Contract, height: Option<u32>, mtp_before: Option<u32>) -> Coin {
    Coin {
        outpoint: OutPoint {
            txid: Txid::from_byte_array([9u8; 32]),
            vout: 1,
        },
        txout: TxOut {
            value: Amount::from_sat(VALUE),
            script_pubkey: c.instance.script_pubkey.clone(),
        },
        height,
        mtp_before,
    }
}

fn chain(height: u32, median_time_past: u32) -> ChainState {
    ChainState {
        height,
        median_time_past,
    }
}

fn destination() -> ScriptBuf {
    let secp = bitcoin::secp256k1::Secp256k1::new();
    let sk = bitcoin::secp256k1::SecretKey::from_slice(&[0x42; 32]).unwrap();
    ScriptBuf::new_p2tr(&secp, sk.x_only_public_key(&secp).0, None)
}

fn request(path: &str, args: &[(&str, String)]) -> SpendRequest {
    SpendRequest {
        path: path.into(),
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        destination: destination(),
        fee_rate: FeeRate::from_sat_per_vb(2).unwrap(),
    }
}

/// Prepares a spend of `coin` of `c` along `path` with `args`, at `chain`, with the keys of
/// `ks` (to [`destination`] at 2 sat/vB, as [`request`] asks).
fn spend(
    c: &Contract,
    coin: &Coin,
    chain: &ChainState,
    ks: &Keystore,
    path: &str,
    args: &[(&str, String)],
) -> Result<PreparedSpend, SpendError> {
    prepare(c, coin, chain, ks, &request(path, args))
}

/// [`spend`], which must succeed, checked by [`check_spend`].
fn checked_spend(
    c: &Contract,
    coin: &Coin,
    chain: &ChainState,
    ks: &Keystore,
    path: &str,
    args: &[(&str, String)],
) -> PreparedSpend {
    let s = spend(c, coin, chain, ks, path, args).unwrap();
    check_spend(coin, &s);
    s
}

/// Checks a prepared spend: verified by the engine, exact fee, one output, the locks.
fn check_spend(coin: &Coin, s: &PreparedSpend) {
    biscol_script::verify_input(
        &s.tx,
        0,
        std::slice::from_ref(&coin.txout),
        biscol_script::VerifyFlags::STANDARD,
    )
    .unwrap();
    assert_eq!(s.tx.version, bitcoin::transaction::Version::TWO);
    assert_eq!(s.tx.input.len(), 1);
    assert_eq!(s.tx.input[0].previous_output, coin.outpoint);
    assert_eq!(s.tx.input[0].sequence, s.n_sequence);
    assert_eq!(s.tx.lock_time, s.lock_time);
    assert_eq!(s.tx.output.len(), 1);
    assert_eq!(s.tx.output[0].script_pubkey, destination());
    let vsize = s.tx.weight().to_vbytes_ceil();
    assert_eq!(s.vsize, vsize);
    assert_eq!(s.fee.to_sat(), 2 * vsize, "2 sat/vB of the signed size");
    assert_eq!(s.tx.output[0].value.to_sat() + s.fee.to_sat(), VALUE);
    assert_eq!(s.witness_bytes, s.tx.input[0].witness.size());
    assert!(!s.signers.is_empty());
    assert!(s.steps.iter().any(|st| st.contains("verified")));
}

fn refusals(r: Result<PreparedSpend, SpendError>) -> Vec<Refusal> {
    match r {
        Err(SpendError::Refused(v)) => {
            assert!(!v.is_empty());
            v
        }
        Err(e) => panic!("expected a refusal, got {e}"),
        Ok(s) => panic!("expected a refusal, got a spend: {:?}", s.steps),
    }
}

/// Asserts one refusal with this require (file, line, message) whose text contains `needle`.
fn assert_refusal(v: &[Refusal], file: &str, line: u32, message: &str, needle: &str) {
    let hit = v.iter().find(|r| {
        r.require.as_ref().is_some_and(|q| {
            q.file == file && q.line == line && q.message.as_deref() == Some(message)
        }) && r.reason.contains(needle)
    });
    assert!(
        hit.is_some(),
        "no refusal of {file}:{line} ({message}) containing {needle:?} in:\n{}",
        v.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn htlc(dir: &Path) -> (Keystore, Contract) {
    let ks = keystore(dir, &["alice", "bob"]);
    let c = contract(
        artifact_of("htlc.bsc", include_str!("../../stdlib/htlc.bsc")),
        &[
            ("sender", pk(&ks, "alice")),
            ("receiver", pk(&ks, "bob")),
            ("hash", sha256::Hash::hash(&PREIMAGE).to_string()),
        ],
    );
    (ks, c)
}

// ----- Htlc

#[test]
fn htlc_claim_reveals_the_preimage() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, c) = htlc(dir.path());
    let coin = coin(&c, Some(100), Some(1_700_000_000));
    let s = checked_spend(
        &c,
        &coin,
        &chain(102, 1_700_000_600),
        &ks,
        "claim",
        &[("preimage", hex::encode(PREIMAGE))],
    );
    assert_eq!(s.path, "claim");
    assert_eq!(s.signers, vec!["bob".to_string()]);
    assert_eq!(c.instance.leaves[s.leaf.unwrap()].path, "claim");
    assert_eq!(s.n_sequence, bitcoin::Sequence(0xffff_fffd));
    assert_eq!(s.lock_time.to_consensus_u32(), 102, "anti fee sniping");
    // The witness: signature, preimage, script, control block.
    let w: Vec<&[u8]> = s.tx.input[0].witness.iter().collect();
    assert_eq!(w.len(), 4);
    assert_eq!(w[0], &PREIMAGE[..]);
    assert_eq!(w[1].len(), 64);
    assert!(s.steps.iter().any(|st| st.contains("reveals `preimage`")));
    assert!(s
        .steps
        .iter()
        .any(|st| st.contains("`bob` signs for `receiver`")));
}

#[test]
fn htlc_claim_with_a_wrong_preimage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, c) = htlc(dir.path());
    let coin = coin(&c, Some(100), None);
    let wrong = [8u8; 32];
    let v = refusals(spend(
        &c,
        &coin,
        &chain(102, 0),
        &ks,
        "claim",
        &[("preimage", hex::encode(wrong))],
    ));
    assert_eq!(v.len(), 1, "only the preimage is missing");
    let got = sha256::Hash::hash(&wrong).to_string();
    let want = sha256::Hash::hash(&PREIMAGE).to_string();
    assert_refusal(
        &v,
        "htlc.bsc",
        10,
        "wrong preimage",
        &format!(
            "sha256(preimage) is {}…, the contract's `hash` is {}…",
            &got[..8],
            &want[..8]
        ),
    );
    let text = SpendError::Refused(v).to_string();
    assert!(text.starts_with(
        "require sha256(preimage) == hash at htlc.bsc:10:9 failed (\"wrong preimage\"): "
    ));
}

#[test]
fn htlc_refund_waits_for_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, c) = htlc(dir.path());
    let coin = coin(&c, Some(100), None);
    let v = refusals(spend(&c, &coin, &chain(102, 0), &ks, "refund", &[]));
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0].to_string(),
        "require older(timeout: Blocks) at htlc.bsc:16:9 failed (\"refund only after the \
         timeout\"): needs 144 blocks since the coin confirmed; the coin has 3 (141 more blocks \
         must be mined)"
    );
    // One block short: 242 + 1 - 100 = 143.
    let v = refusals(spend(&c, &coin, &chain(242, 0), &ks, "refund", &[]));
    assert!(v[0]
        .reason
        .contains("the coin has 143 (1 more block must be mined)"));
    // Exactly enough.
    let s = checked_spend(&c, &coin, &chain(243, 0), &ks, "refund", &[]);
    assert_eq!(s.n_sequence, bitcoin::Sequence(144));
    assert_eq!(s.signers, vec!["alice".to_string()]);
    assert!(s.steps.iter().any(|st| st.starts_with("nSequence 144")));
    // An unconfirmed coin never satisfies `older`.
    let unconfirmed = self::coin(&c, None, None);
    let v = refusals(spend(&c, &unconfirmed, &chain(1000, 0), &ks, "refund", &[]));
    assert!(v[0].reason.contains("unconfirmed"), "{}", v[0]);
}

#[test]
fn htlc_musig_key_path_with_fresh_nonces() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, c) = htlc(dir.path());
    assert_eq!(c.instance.key_path.kind(), "musig");
    let coin = coin(&c, None, None);
    let one = spend(&c, &coin, &chain(102, 0), &ks, "key", &[]).unwrap();
    let two = spend(&c, &coin, &chain(102, 0), &ks, "key", &[]).unwrap();
    for s in [&one, &two] {
        check_spend(&coin, s);
        assert_eq!(s.leaf, None);
        assert_eq!(s.path, "key");
        assert_eq!(s.signers, vec!["alice".to_string(), "bob".to_string()]);
        assert_eq!(s.tx.input[0].witness.len(), 1);
        assert_eq!(s.witness_bytes, 66);
    }
    assert_eq!(one.tx.output, two.tx.output);
    assert_ne!(
        one.tx.input[0].witness.to_vec(),
        two.tx.input[0].witness.to_vec(),
        "a fresh nonce for every session"
    );
}

#[test]
fn missing_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (full, c) = htlc(&dir.path().join("full"));
    let ks = partial(&full, &dir.path().join("alice_only"), &["alice"]);
    let coin = coin(&c, Some(100), None);
    let v = refusals(spend(
        &c,
        &coin,
        &chain(102, 0),
        &ks,
        "claim",
        &[("preimage", hex::encode(PREIMAGE))],
    ));
    assert_eq!(v.len(), 1);
    let bob = full.show("bob").unwrap().x_only().to_string();
    assert_refusal(
        &v,
        "htlc.bsc",
        11,
        "the receiver must sign",
        &format!("no key in the keystore for `receiver` ({}…)", &bob[..8]),
    );
    // The key path names the missing key and suggests script paths.
    let v = refusals(spend(&c, &coin, &chain(102, 0), &ks, "key", &[]));
    assert!(v[0].reason.contains("lacks `receiver`"), "{}", v[0]);
    assert!(v[0].reason.contains("script path instead: claim, refund"));
    // Nothing is missing for alice's refund, only the time.
    let v = refusals(spend(&c, &coin, &chain(102, 0), &ks, "refund", &[]));
    assert_eq!(v.len(), 1);
    assert!(v[0].reason.contains("144 blocks"));
}

#[test]
fn request_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, c) = htlc(dir.path());
    let coin = coin(&c, Some(100), None);
    let st = chain(300, 0);
    match spend(&c, &coin, &st, &ks, "steal", &[]) {
        Err(SpendError::UnknownPath { path, available }) => {
            assert_eq!(path, "steal");
            assert_eq!(available, vec!["claim", "refund", "key"]);
        }
        other => panic!("{other:?}"),
    }
    match spend(&c, &coin, &st, &ks, "claim", &[]) {
        Err(e @ SpendError::MissingArg { .. }) => {
            assert_eq!(
                e.to_string(),
                "path `claim` needs argument `preimage: Bytes32`"
            )
        }
        other => panic!("{other:?}"),
    }
    let extra = request(
        "claim",
        &[
            ("preimage", hex::encode(PREIMAGE)),
            ("salt", "00".to_string()),
        ],
    );
    match prepare(&c, &coin, &st, &ks, &extra) {
        Err(SpendError::UnknownArg { name, expected, .. }) => {
            assert_eq!(name, "salt");
            assert_eq!(expected, vec!["preimage: Bytes32"]);
        }
        other => panic!("{other:?}"),
    }
    match spend(&c, &coin, &st, &ks, "refund", &[("x", "1".into())]) {
        Err(SpendError::UnknownArg { name, .. }) => assert_eq!(name, "x"),
        other => panic!("{other:?}"),
    }
    match spend(&c, &coin, &st, &ks, "claim", &[("preimage", "abcd".into())]) {
        Err(SpendError::MalformedArg {
            name,
            expected,
            actual,
        }) => {
            assert_eq!(name, "preimage");
            assert!(expected.contains("64 hex digits"), "{expected}");
            assert_eq!(actual, "abcd");
        }
        other => panic!("{other:?}"),
    }
    let twice = request(
        "claim",
        &[
            ("preimage", hex::encode(PREIMAGE)),
            ("preimage", hex::encode(PREIMAGE)),
        ],
    );
    assert!(matches!(
        prepare(&c, &coin, &st, &ks, &twice),
        Err(SpendError::DuplicateArg { .. })
    ));
    // A coin of another script.
    let mut other = coin.clone();
    other.txout.script_pubkey = destination();
    assert!(matches!(
        spend(&c, &other, &st, &ks, "refund", &[]),
        Err(SpendError::WrongCoin { .. })
    ));
    // Dust after the fee, and a coin below the fee.
    let mut small = coin.clone();
    small.txout.value = Amount::from_sat(500);
    match spend(&c, &small, &st, &ks, "refund", &[]) {
        Err(SpendError::Dust {
            value, dust_limit, ..
        }) => {
            assert!(value.to_sat() < 330);
            assert_eq!(dust_limit.to_sat(), 330);
        }
        other => panic!("{other:?}"),
    }
    small.txout.value = Amount::from_sat(50);
    assert!(matches!(
        spend(&c, &small, &st, &ks, "refund", &[]),
        Err(SpendError::InsufficientValue { .. })
    ));
}

#[test]
fn inconsistent_contracts_are_internal_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, c) = htlc(dir.path());
    let coin = coin(&c, Some(100), None);
    let claim = request("claim", &[("preimage", hex::encode(PREIMAGE))]);
    // A control block that does not commit the script to the output key.
    let mut bad = c.clone();
    let i = bad
        .instance
        .leaves
        .iter()
        .position(|l| l.path == "claim")
        .unwrap();
    let other = bad
        .instance
        .leaves
        .iter()
        .position(|l| l.path == "refund")
        .unwrap();
    bad.instance.leaves[i].control_block = bad.instance.leaves[other].control_block.clone();
    bad.instance.leaves[i].script = bad.instance.leaves[other].script.clone();
    match prepare(&bad, &coin, &chain(102, 0), &ks, &claim) {
        Err(e @ SpendError::Internal { .. }) => {
            assert!(
                e.to_string().contains("does not match its script")
                    || e.to_string().contains("control block"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut bad = c.clone();
    let cb = &bad.instance.leaves[other].control_block;
    bad.instance.leaves[i].control_block = cb.clone();
    match prepare(&bad, &coin, &chain(102, 0), &ks, &claim) {
        Err(e @ SpendError::Internal { .. }) => {
            assert!(e.to_string().contains("does not commit the script"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // An output key that is not the tweaked internal key.
    let mut bad = c.clone();
    bad.instance.internal_key = bad.instance.output_key;
    assert!(matches!(
        prepare(&bad, &coin, &chain(102, 0), &ks, &claim),
        Err(SpendError::Internal { .. })
    ));
}

// ----- Vault, escrow, inheritance, atomic swap, multisig with recovery

#[test]
fn vault_withdraw_and_single_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(&dir.path().join("keys"), &["hot", "cold"]);
    let c = contract(
        artifact_of("vault.bsc", include_str!("../../stdlib/vault.bsc")),
        &[("hot", pk(&ks, "hot")), ("cold", pk(&ks, "cold"))],
    );
    let coin = coin(&c, Some(10), None);
    let v = refusals(spend(&c, &coin, &chain(20, 0), &ks, "withdraw", &[]));
    assert_eq!(v.len(), 1);
    assert_refusal(
        &v,
        "vault.bsc",
        9,
        "the hot key must wait for the delay",
        "needs 144 blocks since the coin confirmed; the coin has 11 (133 more blocks",
    );
    let s = checked_spend(&c, &coin, &chain(153, 0), &ks, "withdraw", &[]);
    assert_eq!(s.signers, vec!["hot".to_string()]);
    assert_eq!(s.n_sequence.to_consensus_u32(), 144);
    let s = checked_spend(&c, &coin, &chain(20, 0), &ks, "key", &[]);
    assert_eq!(s.signers, vec!["cold".to_string()]);
    // Without the cold key, the key path is refused and names it.
    let hot_only = partial(&ks, &dir.path().join("hot_only"), &["hot"]);
    let v = refusals(spend(&c, &coin, &chain(20, 0), &hot_only, "key", &[]));
    assert!(
        v[0].reason.contains("the key path needs `cold`"),
        "{}",
        v[0]
    );
    assert!(v[0].reason.contains("script path instead: withdraw"));
}

#[test]
fn escrow_dispute_threshold_and_refund() {
    let dir = tempfile::tempdir().unwrap();
    let full = keystore(&dir.path().join("full"), &["buyer", "seller", "arbiter"]);
    let c = contract(
        artifact_of("escrow.bsc", include_str!("../../stdlib/escrow.bsc")),
        &[
            ("buyer", pk(&full, "buyer")),
            ("seller", pk(&full, "seller")),
            ("arbiter", pk(&full, "arbiter")),
        ],
    );
    let coin = coin(&c, Some(10), None);
    let st = chain(20, 0);
    // Two of three local: the threshold is met with exactly two signatures.
    let two = partial(&full, &dir.path().join("two"), &["buyer", "arbiter"]);
    let s = checked_spend(&c, &coin, &st, &two, "dispute", &[]);
    let mut signers = s.signers.clone();
    signers.sort();
    assert_eq!(signers, vec!["arbiter".to_string(), "buyer".to_string()]);
    // All three local: still two signatures.
    let s = checked_spend(&c, &coin, &st, &full, "dispute", &[]);
    assert_eq!(s.signers.len(), 2);
    // One local: refused, naming the threshold.
    let one = partial(&full, &dir.path().join("one"), &["buyer"]);
    let v = refusals(spend(&c, &coin, &st, &one, "dispute", &[]));
    assert_eq!(v.len(), 1);
    assert_refusal(
        &v,
        "escrow.bsc",
        9,
        "two of buyer, seller and arbiter must sign",
        "needs 2 of buyer, seller, arbiter; the keystore holds only buyer",
    );
    // Refund after 4320 blocks (the default).
    let v = refusals(spend(&c, &coin, &st, &one, "refund", &[]));
    assert_refusal(
        &v,
        "escrow.bsc",
        14,
        "refund only after the timeout",
        "needs 4320 blocks since the coin confirmed; the coin has 11 (4309 more blocks",
    );
    let s = checked_spend(&c, &coin, &chain(4329, 0), &one, "refund", &[]);
    assert_eq!(s.signers, vec!["buyer".to_string()]);
    // The MuSig2 key path with both buyer and seller.
    let s = checked_spend(&c, &coin, &st, &full, "key", &[]);
    assert_eq!(s.signers, vec!["buyer".to_string(), "seller".to_string()]);
}

#[test]
fn inheritance_waits_for_dates() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(dir.path(), &["owner", "h0", "h1", "h2"]);
    let c = contract(
        artifact_of(
            "inheritance.bsc",
            include_str!("../../stdlib/inheritance.bsc"),
        ),
        &[
            ("owner", pk(&ks, "owner")),
            (
                "heirs",
                format!("{},{},{}", pk(&ks, "h0"), pk(&ks, "h1"), pk(&ks, "h2")),
            ),
            ("unlock", "2027-01-01T00:00:00Z".into()),
            ("later", "2028-01-01".into()),
        ],
    );
    let unlock = 1_798_761_600u32;
    let later = 1_830_297_600u32;
    let coin = coin(&c, Some(10), None);
    // A day and an hour before the unlock time.
    let early = chain(5000, unlock - 90_000);
    let v = refusals(spend(&c, &coin, &early, &ks, "inherit", &[]));
    assert_eq!(v.len(), 1);
    assert_refusal(
        &v,
        "inheritance.bsc",
        9,
        "the heirs must wait for the unlock time",
        "needs the median time past to pass 2027-01-01T00:00:00Z; it is \
         2026-12-30T23:00:00Z (1d 1h 1s to go)",
    );
    // At the unlock time exactly: still refused (BIP113 needs the lock below the MTP).
    assert!(matches!(
        spend(&c, &coin, &chain(5000, unlock), &ks, "inherit", &[]),
        Err(SpendError::Refused(_))
    ));
    let s = checked_spend(&c, &coin, &chain(5000, unlock + 1), &ks, "inherit", &[]);
    assert_eq!(s.lock_time.to_consensus_u32(), unlock);
    // Two heirs, in script order.
    assert_eq!(s.signers.len(), 2);
    assert!(s.signers[0] < s.signers[1], "{:?}", s.signers);
    assert!(s
        .steps
        .iter()
        .any(|st| st.contains("nLockTime 1798761600 (2027-01-01T00:00:00Z)")));
    // One heir alone waits for the later date.
    let v = refusals(spend(
        &c,
        &coin,
        &chain(5000, unlock + 1),
        &ks,
        "inherit_alone",
        &[],
    ));
    assert_refusal(
        &v,
        "inheritance.bsc",
        15,
        "a single heir must wait for the later time",
        "needs the median time past to pass 2028-01-01T00:00:00Z",
    );
    let s = checked_spend(
        &c,
        &coin,
        &chain(5000, later + 1),
        &ks,
        "inherit_alone",
        &[],
    );
    assert_eq!(s.lock_time.to_consensus_u32(), later);
    assert_eq!(s.signers.len(), 1);
    // The owner spends through the key path at any time.
    let s = checked_spend(&c, &coin, &early, &ks, "key", &[]);
    assert_eq!(s.signers, vec!["owner".to_string()]);
}

#[test]
fn atomic_swap_hash160_secret_and_refund() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(dir.path(), &["alice", "bob"]);
    let c = contract(
        artifact_of(
            "atomic_swap.bsc",
            include_str!("../../stdlib/atomic_swap.bsc"),
        ),
        &[
            ("alice", pk(&ks, "alice")),
            ("bob", pk(&ks, "bob")),
            ("secret_hash", hash160::Hash::hash(&PREIMAGE).to_string()),
        ],
    );
    let coin = coin(&c, Some(10), None);
    let st = chain(20, 0);
    let s = checked_spend(
        &c,
        &coin,
        &st,
        &ks,
        "redeem",
        &[("secret", hex::encode(PREIMAGE))],
    );
    assert_eq!(s.signers, vec!["bob".to_string()]);
    let v = refusals(spend(
        &c,
        &coin,
        &st,
        &ks,
        "redeem",
        &[("secret", hex::encode([1u8; 32]))],
    ));
    assert_refusal(
        &v,
        "atomic_swap.bsc",
        10,
        "wrong secret",
        "hash160(secret) is",
    );
    let v = refusals(spend(&c, &coin, &st, &ks, "refund", &[]));
    assert_refusal(
        &v,
        "atomic_swap.bsc",
        16,
        "refund only after the timeout",
        "needs 288 blocks since the coin confirmed; the coin has 11 (277 more blocks",
    );
    let s = checked_spend(&c, &coin, &chain(297, 0), &ks, "refund", &[]);
    assert_eq!(s.signers, vec!["alice".to_string()]);
}

#[test]
fn multisig_recovery_paths() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(dir.path(), &["k0", "k1", "k2", "rec"]);
    let c = contract(
        artifact_of(
            "multisig_recovery.bsc",
            include_str!("../../stdlib/multisig_recovery.bsc"),
        ),
        &[
            (
                "keys",
                format!("{},{},{}", pk(&ks, "k0"), pk(&ks, "k1"), pk(&ks, "k2")),
            ),
            ("recovery", pk(&ks, "rec")),
        ],
    );
    let coin = coin(&c, Some(10), None);
    let st = chain(20, 0);
    let s = checked_spend(&c, &coin, &st, &ks, "multisig", &[]);
    assert_eq!(s.signers.len(), 2);
    let v = refusals(spend(&c, &coin, &st, &ks, "recover", &[]));
    assert_refusal(
        &v,
        "multisig_recovery.bsc",
        15,
        "recovery only after the delay",
        "needs 4320 blocks since the coin confirmed; the coin has 11",
    );
    let s = checked_spend(&c, &coin, &chain(4329, 0), &ks, "recover", &[]);
    assert_eq!(s.signers, vec!["rec".to_string()]);
    // Three-key MuSig2 key path.
    let s = checked_spend(&c, &coin, &st, &ks, "key", &[]);
    assert_eq!(s.signers, vec!["k0", "k1", "k2"]);
}

// ----- Time-based relative locks, split paths, no key path

#[test]
fn duration_lock_counts_median_time() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(dir.path(), &["hot", "cold"]);
    let c = contract(
        artifact_of(
            "timed_vault.bsc",
            include_str!("data/spend/timed_vault.bsc"),
        ),
        &[("hot", pk(&ks, "hot")), ("cold", pk(&ks, "cold"))],
    );
    // 1 day rounds up to 169 units of 512 s = 86528 s.
    let base = 1_700_000_000u32;
    let coin = coin(&c, Some(10), Some(base));
    let v = refusals(spend(
        &c,
        &coin,
        &chain(500, base + 86_527),
        &ks,
        "withdraw",
        &[],
    ));
    assert_refusal(
        &v,
        "timed_vault.bsc",
        8,
        "the hot key must wait for the delay",
        "needs 1d 2m 8s (169 × 512 s) of median time past since the coin confirmed; the coin \
         has 1d 2m 7s; the median time past must reach 2023-11-15T22:15:28Z (1s to go)",
    );
    let s = checked_spend(&c, &coin, &chain(500, base + 86_528), &ks, "withdraw", &[]);
    assert_eq!(s.n_sequence.to_consensus_u32(), (1 << 22) | 169);
    // Unknown confirmation time: refused rather than guessed.
    let unknown = self::coin(&c, Some(10), None);
    let v = refusals(spend(
        &c,
        &unknown,
        &chain(500, base + 100_000),
        &ks,
        "withdraw",
        &[],
    ));
    assert!(v[0].reason.contains("unknown"), "{}", v[0]);
}

#[test]
fn split_path_picks_a_satisfiable_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let full = keystore(&dir.path().join("full"), &["a", "b", "c"]);
    let c = contract(
        artifact_of("split.bsc", include_str!("data/spend/split.bsc")),
        &[
            ("a", pk(&full, "a")),
            ("b", pk(&full, "b")),
            ("c", pk(&full, "c")),
            ("unlock", "1000".into()),
        ],
    );
    let either = c
        .artifact
        .taproot
        .paths
        .iter()
        .find(|p| p.name == "either")
        .unwrap();
    assert_eq!(either.leaves.len(), 2, "the top-level `||` is split");
    let coin = coin(&c, Some(10), None);
    let early = chain(500, 0);
    // With every key: the leaf of `a` (no lock needed).
    let s = checked_spend(&c, &coin, &early, &full, "either", &[]);
    assert_eq!(s.signers, vec!["a".to_string()]);
    assert_eq!(s.lock_time.to_consensus_u32(), 500);
    // Only `b`, before the height: both leaves explained.
    let b = partial(&full, &dir.path().join("b"), &["b"]);
    let v = refusals(spend(&c, &coin, &early, &b, "either", &[]));
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v
        .iter()
        .any(|r| r.reason.contains("no key in the keystore for `a`")));
    assert!(v.iter().any(|r| r
        .reason
        .contains("needs a block height above 1000; the next block is 501 (500 more blocks")));
    assert!(v
        .iter()
        .all(|r| r.require.as_ref().is_some_and(|q| q.line == 5)));
    // Only `b`, after the height: the other leaf, nLockTime = the height.
    let s = checked_spend(&c, &coin, &chain(1000, 0), &b, "either", &[]);
    assert_eq!(s.signers, vec!["b".to_string()]);
    assert_eq!(s.lock_time.to_consensus_u32(), 1000);
    // `late`: a height lock with its require.
    let v = refusals(spend(&c, &coin, &early, &full, "late", &[]));
    assert_refusal(
        &v,
        "split.bsc",
        10,
        "wait for the unlock height",
        "the next block is 501",
    );
    checked_spend(&c, &coin, &chain(1000, 0), &full, "late", &[]);
    // No key path.
    let v = refusals(spend(&c, &coin, &early, &full, "key", &[]));
    assert!(v[0].reason.contains("this contract has no key path"));
    match spend(&c, &coin, &early, &full, "nope", &[]) {
        Err(SpendError::UnknownPath { available, .. }) => {
            assert_eq!(available, vec!["either", "late"])
        }
        other => panic!("{other:?}"),
    }
}

// ----- On the embedded chain

struct OnChain {
    _dir: tempfile::TempDir,
    keys: Keystore,
    wallet: Wallet,
    chain: EmbeddedChain,
}

fn on_chain(names: &[&str]) -> OnChain {
    let dir = tempfile::tempdir().unwrap();
    let keys = keystore(&dir.path().join("keys"), names);
    keys.create("miner").unwrap();
    let wallet = Wallet::new(&keys, "miner").unwrap();
    let mut chain = EmbeddedChain::open(dir.path().join("chain")).unwrap();
    wallet.mine(&mut chain, 101).unwrap();
    OnChain {
        _dir: dir,
        keys,
        wallet,
        chain,
    }
}

/// Funds the contract with `VALUE` sat, mines one block, returns the coin.
fn fund(env: &mut OnChain, c: &Contract) -> Coin {
    let spk = c.instance.script_pubkey.clone();
    let f = env
        .wallet
        .fund(
            &mut env.chain,
            &spk,
            Amount::from_sat(VALUE),
            DEFAULT_FEE_RATE,
        )
        .unwrap();
    env.wallet.mine(&mut env.chain, 1).unwrap();
    let height = match env.chain.tx_status(&f.txid).unwrap() {
        TxStatus::Confirmed { height, .. } => height,
        other => panic!("{other:?}"),
    };
    Coin {
        outpoint: f.outpoint,
        txout: f.tx.output[f.outpoint.vout as usize].clone(),
        height: Some(height),
        mtp_before: Some(env.chain.median_time_past(height - 1)),
    }
}

fn state(env: &OnChain) -> ChainState {
    let tip = env.chain.tip().unwrap();
    ChainState {
        height: tip.height,
        median_time_past: tip.median_time_past,
    }
}

/// Broadcasts, mines, and checks the coin is spent.
fn broadcast_and_confirm(env: &mut OnChain, c: &Contract, s: &PreparedSpend) {
    let txid = env.chain.broadcast(&s.tx).unwrap();
    env.wallet.mine(&mut env.chain, 1).unwrap();
    assert!(matches!(
        env.chain.tx_status(&txid).unwrap(),
        TxStatus::Confirmed { .. }
    ));
    let spk = c.instance.script_pubkey.clone();
    assert!(
        env.chain.utxos(&spk).unwrap().is_empty(),
        "the coin is spent"
    );
    assert_eq!(env.chain.utxos(&destination()).unwrap().len(), 1);
}

fn chain_htlc(env: &OnChain) -> Contract {
    contract(
        artifact_of("htlc.bsc", include_str!("../../stdlib/htlc.bsc")),
        &[
            ("sender", pk(&env.keys, "alice")),
            ("receiver", pk(&env.keys, "bob")),
            ("hash", sha256::Hash::hash(&PREIMAGE).to_string()),
        ],
    )
}

#[test]
fn chain_htlc_claim() {
    let mut env = on_chain(&["alice", "bob"]);
    let c = chain_htlc(&env);
    let coin = fund(&mut env, &c);
    let s = spend(
        &c,
        &coin,
        &state(&env),
        &env.keys,
        "claim",
        &[("preimage", hex::encode(PREIMAGE))],
    )
    .unwrap();
    broadcast_and_confirm(&mut env, &c, &s);
}

#[test]
fn chain_htlc_refund_after_144_blocks() {
    let mut env = on_chain(&["alice", "bob"]);
    let c = chain_htlc(&env);
    let coin = fund(&mut env, &c);
    // The coin has 1 confirmation in the next block; 142 more make 143: still refused.
    env.wallet.mine(&mut env.chain, 142).unwrap();
    let v = refusals(spend(&c, &coin, &state(&env), &env.keys, "refund", &[]));
    assert!(
        v[0].reason.contains("the coin has 143 (1 more block"),
        "{}",
        v[0]
    );
    // The chain agrees: the same spend built as if the coin were one block older is
    // rejected for its relative lock.
    let mut older = coin.clone();
    older.height = coin.height.map(|h| h - 1);
    let early = spend(&c, &older, &state(&env), &env.keys, "refund", &[]).unwrap();
    let err = env.chain.broadcast(&early.tx).unwrap_err().to_string();
    assert!(err.contains("relative lock needs 144 blocks"), "{err}");
    env.wallet.mine(&mut env.chain, 1).unwrap();
    let s = spend(&c, &coin, &state(&env), &env.keys, "refund", &[]).unwrap();
    broadcast_and_confirm(&mut env, &c, &s);
}

#[test]
fn chain_htlc_musig_key_path() {
    let mut env = on_chain(&["alice", "bob"]);
    let c = chain_htlc(&env);
    let coin = fund(&mut env, &c);
    let s = spend(&c, &coin, &state(&env), &env.keys, "key", &[]).unwrap();
    broadcast_and_confirm(&mut env, &c, &s);
}

#[test]
fn chain_inheritance_after_a_date() {
    let mut env = on_chain(&["owner", "h0", "h1", "h2"]);
    let mtp = state(&env).median_time_past;
    let unlock = mtp + 3 * 86_400;
    let c = contract(
        artifact_of(
            "inheritance.bsc",
            include_str!("../../stdlib/inheritance.bsc"),
        ),
        &[
            ("owner", pk(&env.keys, "owner")),
            (
                "heirs",
                format!(
                    "{},{},{}",
                    pk(&env.keys, "h0"),
                    pk(&env.keys, "h1"),
                    pk(&env.keys, "h2")
                ),
            ),
            ("unlock", unlock.to_string()),
            ("later", (unlock + 86_400 * 365).to_string()),
        ],
    );
    let coin = fund(&mut env, &c);
    let v = refusals(spend(&c, &coin, &state(&env), &env.keys, "inherit", &[]));
    assert!(v[0].reason.contains("to go"), "{}", v[0]);
    // The chain agrees: built as if the unlock time had passed, the spend is not final yet.
    let claimed = ChainState {
        median_time_past: unlock + 1,
        ..state(&env)
    };
    let early = spend(&c, &coin, &claimed, &env.keys, "inherit", &[]).unwrap();
    let err = env.chain.broadcast(&early.tx).unwrap_err().to_string();
    assert!(err.contains("nLockTime"), "{err}");
    // Twelve blocks a day apart move the median time past well beyond the unlock time.
    // The time advance applies to the first block of a call, so one call per block.
    let miner = env.wallet.script_pubkey().to_owned();
    for _ in 0..12 {
        env.chain.mine(1, &miner, Some(86_400)).unwrap();
    }
    let st = state(&env);
    assert!(st.median_time_past > unlock);
    let s = spend(&c, &coin, &st, &env.keys, "inherit", &[]).unwrap();
    assert_eq!(s.lock_time.to_consensus_u32(), unlock);
    broadcast_and_confirm(&mut env, &c, &s);
}

#[test]
fn chain_duration_lock_matches_consensus() {
    let mut env = on_chain(&["hot", "cold"]);
    let c = contract(
        artifact_of(
            "timed_vault.bsc",
            include_str!("data/spend/timed_vault.bsc"),
        ),
        &[
            ("hot", pk(&env.keys, "hot")),
            ("cold", pk(&env.keys, "cold")),
        ],
    );
    let coin = fund(&mut env, &c);
    let base = coin.mtp_before.unwrap();
    let needed = 169 * 512;
    // Blocks six hours apart until the engine accepts; before that, each refusal is also the
    // chain's: the spend built with a median time past claimed just late enough is rejected.
    let miner = env.wallet.script_pubkey().to_owned();
    let mut refused = 0;
    loop {
        let st = state(&env);
        match spend(&c, &coin, &st, &env.keys, "withdraw", &[]) {
            Ok(s) => {
                assert!(st.median_time_past - base >= needed);
                assert_eq!(s.n_sequence.to_consensus_u32(), (1 << 22) | 169);
                broadcast_and_confirm(&mut env, &c, &s);
                break;
            }
            Err(SpendError::Refused(v)) => {
                assert!(st.median_time_past - base < needed);
                assert!(v[0].reason.contains("to go"), "{}", v[0]);
                let claimed = ChainState {
                    height: st.height,
                    median_time_past: base + needed,
                };
                let early = spend(&c, &coin, &claimed, &env.keys, "withdraw", &[]).unwrap();
                let err = env.chain.broadcast(&early.tx).unwrap_err().to_string();
                assert!(err.contains("relative lock"), "{err}");
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
        assert!(refused < 40, "the lock never matured");
        env.chain.mine(1, &miner, Some(6 * 3600)).unwrap();
    }
    assert!(refused > 0);
}
