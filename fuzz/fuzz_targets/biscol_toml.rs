//! `Biscol.toml` text → `Config::parse`, then `Config::network`.
#![no_main]

use biscol_runtime::project::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Config::parse(text) {
        config
            .network()
            .expect("a parsed config has a valid network (parse checks it)");
    }
});
