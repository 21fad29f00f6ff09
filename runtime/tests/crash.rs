//! Crash consistency: a child process mines and funds in a loop; it is killed (SIGKILL) at
//! random points at least 20 times; after each kill the folder reopens, the blocks connect, the
//! stored UTXO set equals the one rebuilt from the blocks, and the height never goes back.

use std::process::{Command, Stdio};
use std::time::Duration;

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::ChainBackend;
use bitcoin::secp256k1::rand::{thread_rng, Rng};

#[test]
fn killed_worker_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_biscol-chain-crashloop");
    let mut rng = thread_rng();
    let mut last_height = 0;
    let kills = 24;
    for round in 0..kills {
        let mut child = Command::new(exe)
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(30..400)));
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "worker exited early ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let chain = EmbeddedChain::open(dir.path().join("chain")).unwrap();
        let report = chain.check_consistency().unwrap();
        let tip = chain.tip().unwrap();
        assert_eq!(tip.height, report.height);
        assert_eq!(chain.block_hash(tip.height), Some(tip.hash));
        assert!(
            tip.height >= last_height,
            "round {round}: height went from {last_height} to {}",
            tip.height
        );
        last_height = tip.height;
    }
    println!("crash test: {kills} kills, final height {last_height}");
    assert!(last_height > 0);
}
