pub mod artifacts;
pub mod bitcoind;
pub mod e2e;
pub mod scenario;
