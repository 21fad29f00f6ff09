//! End to end with a real editor: headless Neovim, with its built-in LSP client, starts the
//! `biscol-lsp` executable, opens a `.bsc` file, waits for diagnostics, and asks for hover and
//! definition. Skipped (with the reason printed) only when `nvim` is not installed; CI
//! installs it (`lsp/ci.sh`).

use std::path::PathBuf;
use std::process::Command;

const SOURCE: &str = "contract Vault(hot: PubKey, cold: PubKey, delay: Blocks) {
    key cold;
    spend withdraw() {
        require sig(hot) && older(delay);
    }
    spend broken() {
        require sig(unknown_name);
    }
}
";

/// The Lua script Neovim runs: it writes what it saw to `out`, one fact per line.
const SCRIPT: &str = r#"
local out = {}
local function put(s) table.insert(out, s) end
local file, result_path, server = _G.BSC_FILE, _G.BSC_OUT, _G.BSC_SERVER
vim.cmd('edit ' .. file)
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = 'biscol', cmd = { server }, root_dir = vim.fn.fnamemodify(file, ':h') })
vim.lsp.buf_attach_client(buf, id)
local ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
put('diagnostics_received=' .. tostring(ok))
for _, d in ipairs(vim.diagnostic.get(buf)) do
  put('diagnostic line=' .. d.lnum .. ' code=' .. tostring(d.code))
end
local client = vim.lsp.get_client_by_id(id)
local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 3, character = 21 } }
local hover = client.request_sync('textDocument/hover', params, 10000, buf)
if hover and hover.result then
  put('hover=' .. hover.result.contents.value:gsub('\n', ' '))
else
  put('hover=none')
end
local def = client.request_sync('textDocument/definition', params, 10000, buf)
if def and def.result then
  local r = def.result.range or (def.result[1] and def.result[1].range)
  put('definition line=' .. r.start.line .. ' character=' .. r.start.character)
else
  put('definition=none')
end
vim.fn.writefile(out, result_path)
client.stop()
vim.cmd('qa!')
"#;

#[test]
fn neovim_gets_diagnostics_hover_and_definition() {
    if Command::new("nvim").arg("--version").output().is_err() {
        println!("skipped: `nvim` is not installed (lsp/ci.sh installs it in CI)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("biscol-nvim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("vault.bsc");
    let out = dir.join("out.txt");
    let script = dir.join("test.lua");
    std::fs::write(&file, SOURCE).expect("write source");
    std::fs::write(&script, SCRIPT).expect("write script");
    let server = PathBuf::from(env!("CARGO_BIN_EXE_biscol-lsp"));
    let setup = format!(
        "lua _G.BSC_FILE = {:?}; _G.BSC_OUT = {:?}; _G.BSC_SERVER = {:?}",
        file.display().to_string(),
        out.display().to_string(),
        server.display().to_string()
    );
    let status = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-c", &setup, "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("HOME", &dir)
        .status()
        .expect("nvim runs");
    let seen = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "nvim failed: {status}\n{seen}");
    assert!(seen.contains("diagnostics_received=true"), "{seen}");
    assert!(seen.contains("diagnostic line=6 code=E0020"), "{seen}");
    assert!(seen.contains("hover=```biscol hot: PubKey"), "{seen}");
    assert!(seen.contains("definition line=0 character=15"), "{seen}");
}
