//! Fuzzes `check`: any bytes, read as a driver reads a file (invalid UTF-8 replaced), go
//! through parse, resolve, type checking and lowering; nothing may panic or overflow.
//! Run: `cd compiler/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run check`.
#![no_main]

use biscol_compiler::db::{self, Database};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut database = Database::new();
    let file = database.set_file("fuzz.bsc", text);
    let _ = db::diagnostics(&database, file);
    if let Some(module) = db::lower(&database, file) {
        let printed = biscol_compiler::ir::printer::print(module, biscol_compiler::ir::printer::Style { with_spans: true });
        let parsed = biscol_compiler::ir::parser::parse(&printed).expect("printed IR parses");
        assert_eq!(&parsed, module, "IR round trip");
    }
});
