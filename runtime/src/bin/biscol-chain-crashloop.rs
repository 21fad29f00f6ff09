//! A worker for the crash-consistency test: opens the embedded chain and a wallet in the state
//! folder given as the only argument, then mines and funds in an endless loop, printing the
//! height after each block. The test kills it at random points and reopens the folder.

use std::process::ExitCode;

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::ChainBackend;
use biscol_runtime::keystore::Keystore;
use biscol_runtime::wallet::{Wallet, DEFAULT_FEE_RATE};
use bitcoin::{Amount, ScriptBuf};

fn run(dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(dir);
    let keys = Keystore::open(dir.join("keys"))?;
    if keys.show("miner").is_err() {
        keys.create("miner")?;
    }
    let wallet = Wallet::new(&keys, "miner")?;
    let mut chain = EmbeddedChain::open(dir.join("chain"))?;
    let payee = ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::from_raw_hash(
        bitcoin::hashes::Hash::from_byte_array([9u8; 32]),
    ));
    let mut i: u64 = 0;
    loop {
        i += 1;
        if chain.tip()?.height < 101 {
            wallet.mine(&mut chain, 1)?;
        } else {
            for k in 0..3 {
                let amount = Amount::from_sat(10_000 + i * 7 + k);
                if wallet
                    .fund(&mut chain, &payee, amount, DEFAULT_FEE_RATE)
                    .is_err()
                {
                    break;
                }
            }
            wallet.mine(&mut chain, 1)?;
        }
        println!("{}", chain.tip()?.height);
    }
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: biscol-chain-crashloop STATE_DIR");
        return ExitCode::from(2);
    };
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
