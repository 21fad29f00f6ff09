//! Keystore: creation, listing, references, file permissions, no secret in output.

use biscol_runtime::keystore::{Keystore, KeystoreError};

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn create_list_show_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path().join("keys")).unwrap();
    let a = ks.create("alice").unwrap();
    let b = ks.create("bob-2").unwrap();
    assert_ne!(a.public_key, b.public_key);
    let names: Vec<String> = ks.list().unwrap().into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["alice", "bob-2"]);
    assert_eq!(ks.show("alice").unwrap(), a);
    assert_eq!(ks.resolve("@alice").unwrap(), a.public_key);
    assert!(a.xpub.to_string().starts_with("tpub"));
    assert!(matches!(
        ks.resolve("alice"),
        Err(KeystoreError::BadReference { .. })
    ));
    assert!(matches!(
        ks.resolve("@carol"),
        Err(KeystoreError::NotFound { .. })
    ));
    assert!(matches!(
        ks.create("alice"),
        Err(KeystoreError::Exists { .. })
    ));
    for bad in ["", "../x", "a/b", "a b", &"x".repeat(65)] {
        assert!(
            matches!(ks.create(bad), Err(KeystoreError::InvalidName { .. })),
            "{bad}"
        );
    }
    // Export is explicit and round-trips to the same public key.
    let xprv = ks.export("alice").unwrap();
    assert!(xprv.starts_with("tprv"));
    let parsed: bitcoin::bip32::Xpriv = xprv.parse().unwrap();
    let secp = bitcoin::secp256k1::Secp256k1::new();
    assert_eq!(bitcoin::bip32::Xpub::from_priv(&secp, &parsed), a.xpub);
    // Reopening sees the same keys.
    let ks2 = Keystore::open(dir.path().join("keys")).unwrap();
    assert_eq!(ks2.show("bob-2").unwrap(), b);
}

#[cfg(unix)]
#[test]
fn owner_only_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    let ks = Keystore::open(&path).unwrap();
    ks.create("k").unwrap();
    assert_eq!(mode(&path), 0o700);
    let file = path.join("k.key");
    assert_eq!(mode(&file), 0o600);
    // No temporary file is left behind.
    let entries: Vec<_> = std::fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries.len(), 1);
    // A key file others can read is refused.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    match ks.show("k") {
        Err(e @ KeystoreError::InsecurePermissions { .. }) => {
            assert!(e.to_string().contains("644"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_secret_in_debug_or_display() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path()).unwrap();
    let info = ks.create("secret-holder").unwrap();
    let xprv = ks.export("secret-holder").unwrap().to_string();
    let parsed: bitcoin::bip32::Xpriv = xprv.parse().unwrap();
    let sk_hex = parsed.private_key.display_secret().to_string();
    let file = std::fs::read_to_string(dir.path().join("secret-holder.key")).unwrap();
    assert!(file.contains(&xprv));

    let signing = ks.signing_key("secret-holder").unwrap();
    let wallet = biscol_runtime::wallet::Wallet::new(&ks, "secret-holder").unwrap();
    let outputs = [
        format!("{info:?}"),
        format!("{signing:?}"),
        format!("{ks:?}"),
        format!("{wallet:?}"),
        format!("{:?}", ks.show("nope")),
        format!("{}", ks.show("nope").unwrap_err()),
    ];
    for o in &outputs {
        assert!(!o.contains(&xprv), "xprv leaked in {o}");
        assert!(!o.contains(&sk_hex), "secret key leaked in {o}");
        assert!(!o.contains(&xprv[4..20]), "xprv fragment leaked in {o}");
    }
    assert!(format!("{signing:?}").contains("redacted"));

    // A corrupt key file's error does not echo its contents.
    std::fs::write(
        dir.path().join("secret-holder.key"),
        format!("biscol-key 1\nxprv {}x\n", &xprv[..40]),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("secret-holder.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let e = ks.show("secret-holder").unwrap_err();
    assert!(matches!(e, KeystoreError::BadFile { .. }));
    assert!(!format!("{e} {e:?}").contains(&xprv[4..20]));
}

#[cfg(unix)]
#[test]
fn a_keystore_folder_others_can_access_is_refused_not_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/keys");
    Keystore::open(&path).unwrap().create("k").unwrap();
    for created in ["a", "a/b", "a/b/keys"] {
        assert_eq!(mode(&dir.path().join(created)), 0o700, "{created}");
    }
    for wide in [0o755, 0o710, 0o701] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(wide)).unwrap();
        match Keystore::open(&path) {
            Err(e @ KeystoreError::InsecureFolder { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(&format!("{wide:o}")) && text.contains("0700"),
                    "{text}"
                );
            }
            other => panic!("{wide:o}: {other:?}"),
        }
        assert_eq!(mode(&path), wide, "the folder is not quietly tightened");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(Keystore::open(&path).unwrap().list().unwrap().len(), 1);
    // A wide folder with no key in it yet has nothing to have leaked: it is tightened.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o755)).unwrap();
    Keystore::open(&empty).unwrap();
    assert_eq!(mode(&empty), 0o700);
}

#[test]
fn a_private_key_given_as_a_name_is_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path().join("keys")).unwrap();
    ks.create("k").unwrap();
    let secret = ks.export("k").unwrap();
    for e in [
        ks.show(secret.as_str()).unwrap_err(),
        ks.resolve(&format!("@{}", secret.as_str())).unwrap_err(),
        ks.resolve(secret.as_str()).unwrap_err(),
    ] {
        let text = format!("{e} {e:?}");
        assert!(!text.contains(&secret.as_str()[4..30]), "{text}");
        assert!(text.contains("a private extended key"), "{text}");
    }
}
