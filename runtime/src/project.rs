//! Projects: a folder with a `Biscol.toml`, its contracts and its state folder.
//!
//! In: a folder to create ([`Project::init`]) or to start looking from ([`Project::find`]), and
//! the text of `Biscol.toml`. Out: a [`Config`] with every key typed and defaulted, and the
//! paths the runtime uses: the state folder (`.biscol/` beside `Biscol.toml`) with the chain,
//! the keystore and the contract store inside it, owner-only ([`StateLayout::secure`]).
//!
//! Invariants: an unknown key or section in `Biscol.toml` is an error that names it (a typo
//! must not silently fall back to a default); a missing key takes its documented default; the
//! file [`Project::init`] writes parses back to [`Config::default`].

use std::fmt;
use std::path::{Path, PathBuf};

use bitcoin::Network;
use serde::{Deserialize, Serialize};

/// The project file's name.
pub const CONFIG_FILE: &str = "Biscol.toml";
/// The state folder's name, beside the project file (or in the current folder outside a
/// project).
pub const STATE_DIR: &str = ".biscol";

/// Which chain the runtime talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// The in-process regtest chain in the state folder.
    #[default]
    Embedded,
    /// Bitcoin Core over JSON-RPC (`rpc_url`).
    Core,
    /// An Esplora HTTP API (`esplora_url`).
    Esplora,
}

/// `[biscol]`: the network and the chain backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BiscolSection {
    /// `regtest` (default), `signet`, `testnet`, `testnet4` or `mainnet`.
    pub network: String,
    /// The backend: `embedded` (default, regtest only), `core` or `esplora`.
    pub backend: BackendKind,
    /// Bitcoin Core's JSON-RPC address, e.g. `http://127.0.0.1:18443`.
    pub rpc_url: Option<String>,
    /// Core's cookie file (default: none; then `rpc_user`/`rpc_password`).
    pub rpc_cookie: Option<String>,
    /// Core's RPC user name.
    pub rpc_user: Option<String>,
    /// Core's RPC password.
    pub rpc_password: Option<String>,
    /// An Esplora API base address, e.g. `https://mempool.space/signet/api`.
    pub esplora_url: Option<String>,
    /// The fee rate in sat/vB when a command is not given `--fee-rate` (default 2).
    pub fee_rate: f64,
}

impl Default for BiscolSection {
    fn default() -> Self {
        BiscolSection {
            network: "regtest".into(),
            backend: BackendKind::Embedded,
            rpc_url: None,
            rpc_cookie: None,
            rpc_user: None,
            rpc_password: None,
            esplora_url: None,
            fee_rate: 2.0,
        }
    }
}

/// `[security]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySection {
    /// Verify every transaction with the project's script engine before broadcasting it. Always
    /// on: the key exists so that a project file asking for `false` is refused, not ignored.
    pub strict_validation: bool,
    /// Record every spend attempt, refused ones included, in the event log.
    pub audit_logging: bool,
    /// Zero-knowledge conditions (not compiled yet; refused when `true`).
    pub enable_zkp: bool,
}

impl Default for SecuritySection {
    fn default() -> Self {
        SecuritySection {
            strict_validation: true,
            audit_logging: true,
            enable_zkp: false,
        }
    }
}

/// `[performance]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerformanceSection {
    /// Events shown per page by `biscol events`.
    pub batch_size: u32,
}

impl Default for PerformanceSection {
    fn default() -> Self {
        PerformanceSection { batch_size: 100 }
    }
}

/// `[features]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeaturesSection {
    /// Spend MuSig2 key paths in process when every key is in the keystore.
    pub musig2: bool,
}

impl Default for FeaturesSection {
    fn default() -> Self {
        FeaturesSection { musig2: true }
    }
}

/// The whole of `Biscol.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[biscol]`.
    pub biscol: BiscolSection,
    /// `[security]`.
    pub security: SecuritySection,
    /// `[performance]`.
    pub performance: PerformanceSection,
    /// `[features]`.
    pub features: FeaturesSection,
}

impl Config {
    /// Parses and checks `Biscol.toml`'s text.
    pub fn parse(text: &str) -> Result<Config, ProjectError> {
        let config: Config = toml::from_str(text).map_err(|e| ProjectError::Config {
            detail: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// The configured network.
    pub fn network(&self) -> Result<Network, ProjectError> {
        parse_network(&self.biscol.network)
    }

    fn check(&self) -> Result<(), ProjectError> {
        let network = self.network()?;
        let bad = |detail: String| Err(ProjectError::Config { detail });
        if !self.security.strict_validation {
            return bad("[security] strict_validation = false is not supported: every transaction is verified before it is broadcast".into());
        }
        if self.security.enable_zkp {
            return bad(
                "[security] enable_zkp = true: zero-knowledge conditions are not compiled yet"
                    .into(),
            );
        }
        if !(self.biscol.fee_rate.is_finite() && self.biscol.fee_rate >= 1.0) {
            return bad(format!(
                "[biscol] fee_rate = {}: must be at least 1 (sat/vB)",
                self.biscol.fee_rate
            ));
        }
        match self.biscol.backend {
            BackendKind::Embedded if network != Network::Regtest => bad(format!(
                "[biscol] backend = \"embedded\" runs only on regtest, not {}; set backend = \"core\" or \"esplora\"",
                self.biscol.network
            )),
            BackendKind::Core if self.biscol.rpc_url.is_none() => {
                bad("[biscol] backend = \"core\" needs rpc_url".into())
            }
            BackendKind::Esplora if self.biscol.esplora_url.is_none() => {
                bad("[biscol] backend = \"esplora\" needs esplora_url".into())
            }
            _ => Ok(()),
        }
    }
}

/// Parses a network name as `Biscol.toml` takes it (the names `biscol instantiate` takes).
fn parse_network(name: &str) -> Result<Network, ProjectError> {
    biscol_artifact::value::parse_network(name).map_err(|_| ProjectError::Config {
        detail: format!(
            "unknown network `{name}`: expected regtest, signet, testnet, testnet4 or mainnet"
        ),
    })
}

/// A project on disk.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding `Biscol.toml`.
    pub root: PathBuf,
    /// Its parsed configuration.
    pub config: Config,
}

const TEMPLATE: &str = r#"# BiSCOL project. Every key is optional; the values below are the defaults.

[biscol]
network = "regtest"      # regtest, signet, testnet, testnet4 or mainnet
backend = "embedded"     # embedded (regtest, in process), core or esplora
# rpc_url = "http://127.0.0.1:18443"   # backend = "core"
# rpc_cookie = "/path/to/.cookie"      # or rpc_user / rpc_password
# esplora_url = "http://127.0.0.1:3002" # backend = "esplora"
fee_rate = 2.0           # sat/vB when --fee-rate is not given

[security]
strict_validation = true # verify every transaction with the script engine before broadcast
audit_logging = true     # record refused spends in the event log
enable_zkp = false

[performance]
batch_size = 100         # events per page

[features]
musig2 = true            # sign MuSig2 key paths in process when every key is local
"#;

const EXAMPLE_CONTRACT: &str = include_str!("../../examples/htlc.bsc");

impl Project {
    /// Looks for `Biscol.toml` in `start` and its parents.
    pub fn find(start: &Path) -> Result<Option<Project>, ProjectError> {
        for dir in start.ancestors() {
            let file = dir.join(CONFIG_FILE);
            if file.is_file() {
                return Project::open(dir).map(Some);
            }
        }
        Ok(None)
    }

    /// Opens the project in `root`.
    pub fn open(root: &Path) -> Result<Project, ProjectError> {
        let file = root.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&file).map_err(|source| ProjectError::Io {
            context: format!("reading {}", file.display()),
            source,
        })?;
        let config = Config::parse(&text).map_err(|e| match e {
            ProjectError::Config { detail } => ProjectError::Config {
                detail: format!("{}: {detail}", file.display()),
            },
            other => other,
        })?;
        Ok(Project {
            root: root.to_path_buf(),
            config,
        })
    }

    /// Creates a project in `root` (which may exist but must not hold a `Biscol.toml`):
    /// `Biscol.toml`, `contracts/htlc.bsc` and a `.gitignore` for the state folder.
    pub fn init(root: &Path) -> Result<Project, ProjectError> {
        let io = |context: String| move |source| ProjectError::Io { context, source };
        let file = root.join(CONFIG_FILE);
        if file.exists() {
            return Err(ProjectError::Exists { path: file });
        }
        std::fs::create_dir_all(root.join("contracts"))
            .map_err(io(format!("creating {}", root.join("contracts").display())))?;
        let example = root.join("contracts").join("htlc.bsc");
        if !example.exists() {
            std::fs::write(&example, EXAMPLE_CONTRACT)
                .map_err(io(format!("writing {}", example.display())))?;
        }
        let ignore = root.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, format!("/{STATE_DIR}/\n/build/\n"))
                .map_err(io(format!("writing {}", ignore.display())))?;
        }
        std::fs::write(&file, TEMPLATE).map_err(io(format!("writing {}", file.display())))?;
        Project::open(root)
    }

    /// The project's state folder.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }
}

/// The folders inside a state folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLayout {
    /// The state folder itself.
    pub root: PathBuf,
}

impl StateLayout {
    /// The layout of `root`.
    pub fn new(root: impl Into<PathBuf>) -> StateLayout {
        StateLayout { root: root.into() }
    }
    /// The embedded chain's folder.
    pub fn chain(&self) -> PathBuf {
        self.root.join("chain")
    }
    /// The keystore's folder.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    /// The contract store's folder (with its checkpoints).
    pub fn store(&self) -> PathBuf {
        self.root.join("store")
    }

    /// Makes the state folder owner-only: creates it (and missing parents) with mode 0700 when
    /// missing, and sets every folder in it to 0700 and every file to 0600 (see
    /// [`crate::owner_only`]). The keystore folder is left to [`crate::keystore::Keystore::open`],
    /// which refuses one that others can access instead of tightening it.
    ///
    /// Only the paths the runtime itself writes are touched (the chain's and the store's files,
    /// the cookie, the checkpoints), so a `--state-dir` that names a folder holding other
    /// things changes nothing of theirs beyond the folder's own mode.
    pub fn secure(&self) -> std::io::Result<()> {
        use crate::owner_only::{create_dir_all, restrict_if_present};
        create_dir_all(&self.root)?;
        let database = |dir: &Path, file: &str| {
            ["", "-wal", "-shm"].map(|suffix| dir.join(format!("{file}{suffix}")))
        };
        let (chain, store) = (self.chain(), self.store());
        let checkpoints = store.join(crate::state::CHECKPOINTS_DIR);
        let mut paths = vec![self.root.clone(), chain.clone(), store.clone()];
        paths.extend(database(&chain, crate::chain::embedded::CHAIN_FILE));
        paths.push(chain.join(crate::node::COOKIE_FILE));
        paths.extend(database(&store, crate::state::STATE_FILE));
        paths.push(checkpoints.clone());
        if let Ok(entries) = std::fs::read_dir(&checkpoints) {
            for entry in entries.flatten() {
                let folder = entry.path();
                if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
                    continue;
                }
                paths.push(folder.join(crate::state::STATE_FILE));
                paths.push(folder.join(crate::state::CHECKPOINT_META_FILE));
                paths.push(folder.join("chain"));
                paths.push(
                    folder
                        .join("chain")
                        .join(crate::chain::embedded::CHAIN_FILE),
                );
                paths.push(folder);
            }
        }
        paths.iter().try_for_each(|p| restrict_if_present(p))
    }
}

/// Why a project could not be opened or created.
#[derive(Debug)]
pub enum ProjectError {
    /// `Biscol.toml` is malformed or asks for something unsupported.
    Config {
        /// What is wrong, with the file name when known.
        detail: String,
    },
    /// `biscol init` found a project already.
    Exists {
        /// The existing project file.
        path: PathBuf,
    },
    /// Reading or writing failed.
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl fmt::Display for ProjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectError::Config { detail } => write!(f, "bad project configuration: {detail}"),
            ProjectError::Exists { path } => {
                write!(f, "{} already exists; not overwriting it", path.display())
            }
            ProjectError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for ProjectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProjectError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_the_default_configuration() {
        assert_eq!(Config::parse(TEMPLATE).unwrap(), Config::default());
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_and_unsupported_values_are_refused_by_name() {
        let e = Config::parse("[biscol]\nnetwrok = \"regtest\"\n").unwrap_err();
        assert!(e.to_string().contains("netwrok"), "{e}");
        let e = Config::parse("[biscol]\nnetwork = \"mainnet\"\n").unwrap_err();
        assert!(e.to_string().contains("runs only on regtest"), "{e}");
        let e = Config::parse("[biscol]\nbackend = \"core\"\n").unwrap_err();
        assert!(e.to_string().contains("needs rpc_url"), "{e}");
        let e = Config::parse("[security]\nstrict_validation = false\n").unwrap_err();
        assert!(e.to_string().contains("strict_validation"), "{e}");
        let e = Config::parse("[biscol]\nnetwork = \"moon\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown network `moon`"), "{e}");
        let ok = Config::parse(
            "[biscol]\nnetwork = \"signet\"\nbackend = \"esplora\"\nesplora_url = \"http://x\"\n",
        )
        .unwrap();
        assert_eq!(ok.network().unwrap(), Network::Signet);
    }

    #[test]
    fn init_writes_a_project_that_opens_and_is_found_from_below() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let p = Project::init(&root).unwrap();
        assert_eq!(p.config, Config::default());
        assert!(root.join("contracts/htlc.bsc").is_file());
        let found = Project::find(&root.join("contracts")).unwrap().unwrap();
        assert_eq!(found.root, root);
        assert_eq!(found.state_dir(), root.join(STATE_DIR));
        assert!(matches!(
            Project::init(&root),
            Err(ProjectError::Exists { .. })
        ));
    }
}
