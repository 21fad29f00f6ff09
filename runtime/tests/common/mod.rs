pub mod artifacts;
pub mod e2e;
pub mod scenario;
