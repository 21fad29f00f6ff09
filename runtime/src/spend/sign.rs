//! Signing: BIP341 sighashes (SIGHASH_DEFAULT, the one coin as prevout) and BIP340
//! signatures with keystore keys, on a script path or on the key path (one key, or a MuSig2
//! session run in process when every key of the aggregate is local).
//!
//! In: the unsigned transaction (its output value already final), the coin, and the keys.
//! Out: signatures. Invariants: every signature is verified against its public key before it
//! is returned; MuSig2 nonces come from the operating system's CSPRNG for every signer of
//! every session and live only inside the `musig2` round state, which is consumed; the
//! aggregate key must equal the contract's output key.

use std::collections::BTreeMap;

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{self, schnorr, Message, PublicKey, XOnlyPublicKey};
use bitcoin::sighash::{Prevouts, SighashCache};
use bitcoin::taproot::TapLeafHash;
use bitcoin::{TapNodeHash, TapSighashType, Transaction, TxOut};
use musig2::{FirstRound, KeyAggContext, PartialSignature, SecNonceSpices};

use super::{internal, SpendError};
use crate::keystore::{Keystore, SigningKey};

/// The BIP341 script-path sighash of input 0.
pub(crate) fn script_sighash(
    tx: &Transaction,
    coin: &TxOut,
    leaf_hash: TapLeafHash,
) -> Result<Message, SpendError> {
    let mut cache = SighashCache::new(tx);
    let hash = cache
        .taproot_script_spend_signature_hash(
            0,
            &Prevouts::All(&[coin]),
            leaf_hash,
            TapSighashType::Default,
        )
        .map_err(|e| internal(format!("sighash: {e}")))?;
    Ok(Message::from_digest(hash.to_byte_array()))
}

/// The BIP341 key-path sighash of input 0.
pub(crate) fn key_sighash(tx: &Transaction, coin: &TxOut) -> Result<Message, SpendError> {
    let mut cache = SighashCache::new(tx);
    let hash = cache
        .taproot_key_spend_signature_hash(0, &Prevouts::All(&[coin]), TapSighashType::Default)
        .map_err(|e| internal(format!("sighash: {e}")))?;
    Ok(Message::from_digest(hash.to_byte_array()))
}

/// Signs `msg` for each key of `signers` (x-only key → keystore name) with the untweaked key,
/// and checks each signature.
pub(crate) fn sign_script_path(
    keystore: &Keystore,
    signers: &[(XOnlyPublicKey, String)],
    msg: &Message,
) -> Result<BTreeMap<XOnlyPublicKey, bitcoin::taproot::Signature>, SpendError> {
    let secp = bitcoin::secp256k1::SECP256K1;
    let mut out = BTreeMap::new();
    for (key, name) in signers {
        let signing = keystore.signing_key(name).map_err(SpendError::Keystore)?;
        if signing.x_only_public_key() != *key {
            return Err(internal(format!(
                "keystore key `{name}` no longer has the public key {key}"
            )));
        }
        let signature = signing.sign_schnorr(msg);
        secp.verify_schnorr(&signature, msg, key)
            .map_err(|e| internal(format!("the signature of `{name}` does not verify: {e}")))?;
        out.insert(
            *key,
            bitcoin::taproot::Signature {
                signature,
                sighash_type: TapSighashType::Default,
            },
        );
    }
    Ok(out)
}

/// Signs `msg` on the key path of a single-key output: the key tweaked with `merkle_root`
/// must give `output_key`.
pub(crate) fn sign_key_single(
    signing: &SigningKey,
    merkle_root: Option<TapNodeHash>,
    output_key: &XOnlyPublicKey,
    msg: &Message,
) -> Result<schnorr::Signature, SpendError> {
    let secp = bitcoin::secp256k1::SECP256K1;
    let signature = signing.sign_schnorr_tap_tweaked(msg, merkle_root);
    secp.verify_schnorr(&signature, msg, output_key)
        .map_err(|e| {
            internal(format!(
                "the key-path signature of `{}` does not verify against the output key: {e}",
                signing.name()
            ))
        })?;
    Ok(signature)
}

/// The MuSig2 key-aggregation context of `keys` (in order) with the BIP341 tweak of
/// `merkle_root` (no script tree: the BIP86-style tweak with an empty root).
pub(crate) fn musig_context(
    keys: &[PublicKey],
    merkle_root: Option<TapNodeHash>,
) -> Result<KeyAggContext, SpendError> {
    if keys.is_empty() {
        return Err(internal("the MuSig2 key path has no keys"));
    }
    let ctx = KeyAggContext::new(keys.iter().copied())
        .map_err(|e| internal(format!("MuSig2 key aggregation: {e}")))?;
    let ctx = match merkle_root {
        Some(root) => ctx.with_taproot_tweak(&root.to_byte_array()),
        None => ctx.with_unspendable_taproot_tweak(),
    };
    ctx.map_err(|e| internal(format!("MuSig2 taproot tweak: {e}")))
}

/// Runs a whole MuSig2 session in process: `signers[i]` signs for `keys[i]`; `negate[i]` says
/// that the keystore key is the other parity of `keys[i]` (the contract was given its x-only
/// form), so its secret is negated. Returns the aggregate signature, verified against
/// `output_key`.
pub(crate) fn sign_key_musig(
    ctx: &KeyAggContext,
    signers: &[(SigningKey, bool)],
    output_key: &XOnlyPublicKey,
    msg: &Message,
) -> Result<schnorr::Signature, SpendError> {
    let message: [u8; 32] = *msg.as_ref();
    let agg: PublicKey = ctx.aggregated_pubkey();
    if agg.x_only_public_key().0 != *output_key {
        return Err(internal(format!(
            "the MuSig2 aggregate key {} is not the output key {output_key}",
            agg.x_only_public_key().0
        )));
    }
    let with_secret = |signer: &(SigningKey, bool), f: &mut dyn FnMut(secp256k1::SecretKey)| {
        let (key, negate) = signer;
        key.with_secret_key(|sk| {
            let mut sk = if *negate { sk.negate() } else { *sk };
            f(sk);
            sk.non_secure_erase();
        });
    };

    // Round 1: every signer draws a fresh nonce from the OS CSPRNG.
    let mut rounds = Vec::with_capacity(signers.len());
    for (i, signer) in signers.iter().enumerate() {
        let mut made = None;
        with_secret(signer, &mut |sk| {
            let spices = SecNonceSpices::new().with_seckey(sk).with_message(&message);
            made = Some(FirstRound::new(
                ctx.clone(),
                &mut secp256k1::rand::rngs::OsRng,
                i,
                spices,
            ));
        });
        let round = made
            .ok_or_else(|| internal("MuSig2: no first round"))?
            .map_err(|e| internal(format!("MuSig2 first round of signer {i}: {e}")))?;
        rounds.push(round);
    }
    let nonces: Vec<_> = rounds.iter().map(|r| r.our_public_nonce()).collect();
    for (i, round) in rounds.iter_mut().enumerate() {
        for (j, nonce) in nonces.iter().enumerate() {
            if i != j {
                round
                    .receive_nonce(j, nonce.clone())
                    .map_err(|e| internal(format!("MuSig2 nonce of signer {j}: {e}")))?;
            }
        }
    }

    // Round 2: partial signatures; the first signer's round checks and aggregates them.
    let mut seconds = Vec::with_capacity(signers.len());
    for (i, (round, signer)) in rounds.into_iter().zip(signers).enumerate() {
        let mut round = Some(round);
        let mut made = None;
        with_secret(signer, &mut |sk| {
            if let Some(r) = round.take() {
                made = Some(r.finalize(sk, message));
            }
        });
        let second = made
            .ok_or_else(|| internal("MuSig2: no second round"))?
            .map_err(|e| internal(format!("MuSig2 partial signature of signer {i}: {e}")))?;
        seconds.push(second);
    }
    let partials: Vec<PartialSignature> = seconds.iter().map(|s| s.our_signature()).collect();
    let mut seconds = seconds.into_iter();
    let mut aggregator = seconds
        .next()
        .ok_or_else(|| internal("MuSig2: no signers"))?;
    for (j, partial) in partials.iter().enumerate().skip(1) {
        aggregator
            .receive_signature(j, *partial)
            .map_err(|e| internal(format!("MuSig2 partial signature of signer {j}: {e}")))?;
    }
    let signature: schnorr::Signature = aggregator
        .finalize()
        .map_err(|e| internal(format!("MuSig2 aggregation: {e}")))?;
    bitcoin::secp256k1::SECP256K1
        .verify_schnorr(&signature, msg, output_key)
        .map_err(|e| {
            internal(format!(
                "the MuSig2 signature does not verify against the output key: {e}"
            ))
        })?;
    Ok(signature)
}
