//! The keystore: named BIP32 master keys in a folder with owner-only permissions.
//!
//! In: a folder ([`Keystore::open`]) and key names (`[A-Za-z0-9_-]`, 1 to 64 characters). Out:
//! public information ([`KeyInfo`]: xpub, public key), signing handles ([`SigningKey`]) and,
//! only when asked with [`Keystore::export`], the extended private key.
//!
//! On disk: `DIR/NAME.key`, mode 0600, inside `DIR` with mode 0700; the file holds two lines,
//! `biscol-key 1` and `xprv <tprv...>` (a BIP32 master key, testnet/regtest version bytes). New
//! keys come from 32 bytes of operating-system randomness; files are written to a temporary
//! file (0600 from creation), fsynced, renamed into place and the folder fsynced, so a crash
//! leaves either no key or the whole key. Opening a key file that group or others can read is
//! refused ([`KeystoreError::InsecurePermissions`]), and so is opening a keystore folder with
//! keys in it that group or others can enter or list ([`KeystoreError::InsecureFolder`]); a
//! folder the keystore creates is 0700 from the start, and an empty one is set to 0700. A key name or reference in an error has any private key in
//! it described, not shown ([`biscol_artifact::redact`]).
//!
//! Secrets: seeds, file contents and exported keys live in [`zeroize::Zeroizing`] buffers;
//! [`SigningKey`] erases its key pair when dropped. No type here prints a secret: `Debug` of
//! [`SigningKey`] shows only the public key, and errors never include file contents. (Parsing a
//! base58 key makes short-lived copies inside `bitcoin` that cannot be erased; this is
//! best-effort erasure, not a guarantee against memory dumps.)
//!
//! A reference `@NAME` ([`Keystore::resolve`]) is the public key of key `NAME` (the master
//! key, depth 0).

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use bitcoin::bip32::{ChainCode, Xpriv, Xpub};
use bitcoin::key::{Keypair, TapTweak, TweakedKeypair};
use bitcoin::secp256k1::{self, rand::RngCore, PublicKey, XOnlyPublicKey};
use bitcoin::NetworkKind;
use zeroize::Zeroizing;

/// Why a keystore operation failed. Never carries secret material.
#[derive(Debug)]
pub enum KeystoreError {
    /// The name is empty, too long or has characters outside `[A-Za-z0-9_-]`.
    InvalidName {
        /// The name given.
        name: String,
    },
    /// A key with this name exists.
    Exists {
        /// The name.
        name: String,
    },
    /// No key with this name.
    NotFound {
        /// The name.
        name: String,
    },
    /// A reference is not of the form `@NAME`.
    BadReference {
        /// The reference given.
        reference: String,
    },
    /// A key file is readable or writable by group or others.
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The keystore folder is readable, writable or searchable by group or others.
    InsecureFolder {
        /// The folder.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file does not have the expected format (its contents are not shown).
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: &'static str,
    },
    /// Reading or writing failed.
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// BIP32 key derivation failed.
    Bip32 {
        /// The underlying error.
        source: bitcoin::bip32::Error,
    },
}

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeystoreError::InvalidName { name } => write!(
                f,
                "invalid key name {name:?}: use 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'"
            ),
            KeystoreError::Exists { name } => write!(f, "a key named {name} already exists"),
            KeystoreError::NotFound { name } => write!(f, "no key named {name}"),
            KeystoreError::BadReference { reference } => {
                write!(f, "{reference:?} is not a key reference (expected @NAME)")
            }
            KeystoreError::InsecurePermissions { path, mode } => write!(
                f,
                "{} has permissions {:o}; a key file must be readable by its owner only (0600)",
                path.display(),
                mode & 0o777
            ),
            KeystoreError::InsecureFolder { path, mode } => write!(
                f,
                "{} has permissions {:o}; the key folder must be accessible by its owner only \
                 (0700): check who could read the keys in it, then `chmod 700 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            ),
            KeystoreError::BadFile { path, detail } => {
                write!(f, "{} is not a key file: {detail}", path.display())
            }
            KeystoreError::Io { context, source } => write!(f, "{context}: {source}"),
            KeystoreError::Bip32 { source } => write!(f, "BIP32: {source}"),
        }
    }
}

impl std::error::Error for KeystoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeystoreError::Io { source, .. } => Some(source),
            KeystoreError::Bip32 { source } => Some(source),
            _ => None,
        }
    }
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> KeystoreError {
    let context = context.into();
    move |source| KeystoreError::Io { context, source }
}

/// Public information about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key's name.
    pub name: String,
    /// The master extended public key (`tpub...`).
    pub xpub: Xpub,
    /// The master public key (what `@NAME` resolves to).
    pub public_key: PublicKey,
}

impl KeyInfo {
    /// The BIP340 x-only form of [`KeyInfo::public_key`].
    pub fn x_only(&self) -> XOnlyPublicKey {
        self.public_key.x_only_public_key().0
    }
}

/// A loaded private key. Erased when dropped; its `Debug` shows only the public key.
pub struct SigningKey {
    name: String,
    keypair: Keypair,
}

impl SigningKey {
    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.keypair.public_key()
    }

    /// The x-only public key (the BIP341 internal key for a key-path output).
    pub fn x_only_public_key(&self) -> XOnlyPublicKey {
        self.keypair.x_only_public_key().0
    }

    /// The key pair tweaked for a P2TR output with `merkle_root` (None: key path only, BIP86).
    pub fn tap_tweaked(&self, merkle_root: Option<bitcoin::TapNodeHash>) -> TweakedKeypair {
        let secp = bitcoin::secp256k1::SECP256K1;
        self.keypair.tap_tweak(secp, merkle_root)
    }

    /// ECDSA signature (low-S, DER-encodable) of a 32-byte digest, for segwit v0 and legacy
    /// scripts.
    pub fn sign_ecdsa(&self, msg: &secp256k1::Message) -> secp256k1::ecdsa::Signature {
        let secp = bitcoin::secp256k1::SECP256K1;
        let mut sk = self.keypair.secret_key();
        let sig = secp.sign_ecdsa(msg, &sk);
        sk.non_secure_erase();
        sig
    }

    /// BIP340 signature of a 32-byte message with the untweaked key.
    pub fn sign_schnorr(&self, msg: &secp256k1::Message) -> secp256k1::schnorr::Signature {
        let secp = bitcoin::secp256k1::SECP256K1;
        secp.sign_schnorr(msg, &self.keypair)
    }
}

impl SigningKey {
    /// BIP340 signature of a 32-byte message with the key tweaked for a P2TR output with
    /// `merkle_root` (the BIP341 key path). The tweaked key pair is erased before returning.
    pub fn sign_schnorr_tap_tweaked(
        &self,
        msg: &secp256k1::Message,
        merkle_root: Option<bitcoin::TapNodeHash>,
    ) -> secp256k1::schnorr::Signature {
        let secp = bitcoin::secp256k1::SECP256K1;
        let mut tweaked = self.keypair.tap_tweak(secp, merkle_root).to_keypair();
        let sig = secp.sign_schnorr(msg, &tweaked);
        tweaked.non_secure_erase();
        sig
    }

    /// Runs `f` with a copy of the secret key, erased afterwards. Crate-private: only the
    /// MuSig2 signer of the spend engine needs the scalar itself (`musig2` signs with it).
    pub(crate) fn with_secret_key<R>(&self, f: impl FnOnce(&secp256k1::SecretKey) -> R) -> R {
        let mut sk = self.keypair.secret_key();
        let out = f(&sk);
        sk.non_secure_erase();
        out
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.keypair.non_secure_erase();
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .field("public_key", &self.keypair.public_key())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// An extended private key that is erased when dropped.
struct XprivGuard(Xpriv);

impl Drop for XprivGuard {
    fn drop(&mut self) {
        self.0.private_key.non_secure_erase();
        self.0.chain_code = ChainCode::from([0u8; 32]);
    }
}

/// A folder of named keys.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
}

/// Checks a key name: 1 to 64 characters from `[A-Za-z0-9_-]`.
pub fn validate_name(name: &str) -> Result<(), KeystoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeystoreError::InvalidName {
            name: biscol_artifact::redact::scrub(name).into_owned(),
        })
    }
}

/// Whether folder `dir` holds a key file (`*.key`, temporary ones included).
#[cfg(unix)]
fn holds_key_files(dir: &Path) -> Result<bool, KeystoreError> {
    let entries = fs::read_dir(dir).map_err(io_err(format!("reading {}", dir.display())))?;
    Ok(entries.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.ends_with(".key") || name.ends_with(".key.tmp")
    }))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), KeystoreError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_err(format!("setting permissions of {}", path.display())))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), KeystoreError> {
    Ok(())
}

impl Keystore {
    /// Opens the keystore folder, creating it (and any missing parent) with mode 0700 when
    /// missing. An existing folder that group or others can access is refused when it holds a
    /// key file ([`KeystoreError::InsecureFolder`]): its keys may have been read already, so
    /// the keystore does not quietly tighten it. One with no key in it yet is set to 0700.
    pub fn open(dir: impl AsRef<Path>) -> Result<Keystore, KeystoreError> {
        let dir = dir.as_ref().to_path_buf();
        #[cfg(unix)]
        if let Ok(meta) = fs::metadata(&dir) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if meta.is_dir() && mode & 0o077 != 0 && holds_key_files(&dir)? {
                return Err(KeystoreError::InsecureFolder { path: dir, mode });
            }
        }
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            // Created 0700 from the start, so there is no window with wider permissions.
            builder.mode(0o700);
        }
        builder
            .create(&dir)
            .map_err(io_err(format!("creating {}", dir.display())))?;
        set_mode(&dir, 0o700)?;
        Ok(Keystore { dir })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.key"))
    }

    /// Creates a key from 32 bytes of fresh randomness.
    pub fn create(&self, name: &str) -> Result<KeyInfo, KeystoreError> {
        validate_name(name)?;
        let path = self.file(name);
        if path.exists() {
            return Err(KeystoreError::Exists {
                name: name.to_string(),
            });
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        secp256k1::rand::rngs::OsRng.fill_bytes(seed.as_mut());
        let xpriv = XprivGuard(
            Xpriv::new_master(NetworkKind::Test, seed.as_ref())
                .map_err(|source| KeystoreError::Bip32 { source })?,
        );
        let contents = Zeroizing::new(format!("biscol-key 1\nxprv {}\n", xpriv.0));
        self.write_atomic(name, &path, contents.as_bytes())?;
        Ok(self.info_of(name, &xpriv.0))
    }

    fn write_atomic(&self, name: &str, path: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
        let tmp = self.dir.join(format!(".{name}.key.tmp"));
        let _ = fs::remove_file(&tmp);
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .map_err(io_err(format!("creating {}", tmp.display())))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(io_err(format!("writing {}", tmp.display())))?;
        drop(f);
        set_mode(&tmp, 0o600)?;
        // Refuse to overwrite a key created meanwhile: hard_link fails when the target exists.
        fs::hard_link(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeystoreError::Exists {
                    name: name.to_string(),
                }
            } else {
                KeystoreError::Io {
                    context: format!("moving the key into {}", path.display()),
                    source: e,
                }
            }
        })?;
        fs::remove_file(&tmp).map_err(io_err(format!("removing {}", tmp.display())))?;
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn load(&self, name: &str) -> Result<XprivGuard, KeystoreError> {
        validate_name(name)?;
        let path = self.file(name);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeystoreError::NotFound {
                    name: name.to_string(),
                })
            }
            Err(e) => return Err(io_err(format!("reading {}", path.display()))(e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeystoreError::InsecurePermissions { path, mode });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let bytes =
            Zeroizing::new(fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?);
        let bad = |detail| KeystoreError::BadFile {
            path: path.clone(),
            detail,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8"))?;
        let mut lines = text.lines();
        if lines.next() != Some("biscol-key 1") {
            return Err(bad("the first line is not `biscol-key 1`"));
        }
        let encoded = lines
            .next()
            .and_then(|l| l.strip_prefix("xprv "))
            .ok_or_else(|| bad("the second line is not `xprv ...`"))?;
        let xpriv = Xpriv::from_str(encoded).map_err(|_| bad("the extended key does not parse"))?;
        Ok(XprivGuard(xpriv))
    }

    fn info_of(&self, name: &str, xpriv: &Xpriv) -> KeyInfo {
        let secp = bitcoin::secp256k1::SECP256K1;
        let xpub = Xpub::from_priv(secp, xpriv);
        KeyInfo {
            name: name.to_string(),
            public_key: xpub.public_key,
            xpub,
        }
    }

    /// Public information about key `name`.
    pub fn show(&self, name: &str) -> Result<KeyInfo, KeystoreError> {
        let x = self.load(name)?;
        Ok(self.info_of(name, &x.0))
    }

    /// Every key, sorted by name. Files that are not `NAME.key` are ignored.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeystoreError> {
        let mut names = Vec::new();
        for entry in
            fs::read_dir(&self.dir).map_err(io_err(format!("listing {}", self.dir.display())))?
        {
            let entry = entry.map_err(io_err(format!("listing {}", self.dir.display())))?;
            let file_name = entry.file_name();
            let Some(s) = file_name.to_str() else {
                continue;
            };
            if let Some(name) = s.strip_suffix(".key") {
                if validate_name(name).is_ok() {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        names.iter().map(|n| self.show(n)).collect()
    }

    /// The extended private key of `name` (`tprv...`), for an explicit export only.
    pub fn export(&self, name: &str) -> Result<Zeroizing<String>, KeystoreError> {
        let x = self.load(name)?;
        Ok(Zeroizing::new(x.0.to_string()))
    }

    /// A handle that signs with key `name`.
    pub fn signing_key(&self, name: &str) -> Result<SigningKey, KeystoreError> {
        let x = self.load(name)?;
        let secp = bitcoin::secp256k1::SECP256K1;
        Ok(SigningKey {
            name: name.to_string(),
            keypair: x.0.to_keypair(secp),
        })
    }

    /// The key whose master public key is `key` (compared in full, parity included), if the
    /// keystore holds one. Only master keys are compared; no derivation is tried.
    pub fn find_public_key(&self, key: &PublicKey) -> Result<Option<KeyInfo>, KeystoreError> {
        Ok(self.list()?.into_iter().find(|k| k.public_key == *key))
    }

    /// The key whose master public key has the x-only form `key` (either parity), if the
    /// keystore holds one. Only master keys are compared; no derivation is tried.
    pub fn find_x_only(&self, key: &XOnlyPublicKey) -> Result<Option<KeyInfo>, KeystoreError> {
        Ok(self.list()?.into_iter().find(|k| k.x_only() == *key))
    }

    /// Resolves `@NAME` to that key's public key.
    pub fn resolve(&self, reference: &str) -> Result<PublicKey, KeystoreError> {
        let name = reference
            .strip_prefix('@')
            .ok_or_else(|| KeystoreError::BadReference {
                reference: biscol_artifact::redact::scrub(reference).into_owned(),
            })?;
        Ok(self.show(name)?.public_key)
    }
}
