//! Argument text as messages may show it: without the private keys someone pasted into it.
//!
//! In: text a person typed (an argument value, a flag, a key name, a whole message). Out: the
//! same text with every private key in it replaced by a description ([`PRIVATE_EXTENDED_KEY`],
//! [`PRIVATE_KEY_WIF`]; in an argument value also any long hex run, [`scrub_value`]), so that
//! an error about a wrong argument never repeats a secret it was given (a terminal's
//! scroll-back, a CI log and a bug report all keep error messages).
//!
//! What counts as a private key: a run of Base58 characters that starts like a BIP32 private
//! extended key (`xprv`, `tprv`, or the SLIP-132 `yprv`, `zprv`, `uprv`, `vprv`, `Yprv`,
//! `Zprv`, `Uprv`, `Vprv`) and is at least [`MIN_EXTENDED_KEY_PREFIX_RUN`] characters long (a
//! mistyped or truncated key is still most of a secret), and a run that decodes as a WIF
//! private key (with its checksum). Deterministic; no allocation when there is nothing to hide.

use std::borrow::Cow;

/// What a private extended key is called in messages instead of being shown.
pub const PRIVATE_EXTENDED_KEY: &str = "a private extended key";
/// What a WIF private key is called in messages instead of being shown.
pub const PRIVATE_KEY_WIF: &str = "a private key (WIF)";

/// How long a Base58 run starting with an extended private key's prefix must be to count as
/// one (a real key has 111 characters; a short word like `tprv` itself is not a secret).
pub const MIN_EXTENDED_KEY_PREFIX_RUN: usize = 16;

const EXTENDED_PRIVATE_PREFIXES: [&str; 10] = [
    "xprv", "tprv", "yprv", "zprv", "uprv", "vprv", "Yprv", "Zprv", "Uprv", "Vprv",
];

fn is_base58(c: char) -> bool {
    c.is_ascii_alphanumeric() && !matches!(c, '0' | 'O' | 'I' | 'l')
}

/// What a run of Base58 characters is, when it is a secret.
fn secret_kind(run: &str) -> Option<&'static str> {
    if run.len() >= MIN_EXTENDED_KEY_PREFIX_RUN
        && EXTENDED_PRIVATE_PREFIXES.iter().any(|p| run.starts_with(p))
    {
        return Some(PRIVATE_EXTENDED_KEY);
    }
    if (51..=52).contains(&run.len()) && bitcoin::PrivateKey::from_wif(run).is_ok() {
        return Some(PRIVATE_KEY_WIF);
    }
    None
}

/// The Base58 runs of `text` that are secrets: byte ranges and what they are.
fn secret_runs(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (is_base58(c) && i < text.len(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if let Some(kind) = secret_kind(&text[s..i]) {
                    runs.push((s, i, kind));
                }
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// Whether `text` holds a private key.
pub fn contains_secret(text: &str) -> bool {
    !secret_runs(text).is_empty()
}

/// `text` with every private key in it replaced by `<a private extended key, not shown>` (or
/// the WIF description); `text` itself when it holds none.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let runs = secret_runs(text);
    if runs.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, kind) in runs {
        out.push_str(&text[at..start]);
        out.push('<');
        out.push_str(kind);
        out.push_str(", not shown>");
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// How many hex digits in a row an argument value may hold before [`scrub_value`] hides them: a
/// 32-byte secret (a private key, a preimage) is 64, and most of one is still a secret.
pub const MIN_HIDDEN_HEX_RUN: usize = 32;

/// [`scrub`] for an argument value that was not what its type accepts, which also hides every
/// run of at least [`MIN_HIDDEN_HEX_RUN`] hex digits as `<N hex digits, not shown>`: in a value
/// a hex secret (a private key given for a public one, a preimage of the wrong length) looks
/// like any other hex, and its length is all a person needs to see what went wrong.
pub fn scrub_value(text: &str) -> String {
    let text = scrub(text);
    let mut out = String::with_capacity(text.len());
    let mut run = 0;
    let flush = |out: &mut String, run: usize, end: usize| {
        let digits = &text[end - run..end];
        if run >= MIN_HIDDEN_HEX_RUN {
            out.push_str(&format!("<{run} hex digits, not shown>"));
        } else {
            out.push_str(digits);
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_ascii_hexdigit() {
            run += 1;
            continue;
        }
        flush(&mut out, run, i);
        run = 0;
        out.push(c);
    }
    flush(&mut out, run, text.len());
    out
}

/// `text` in backquotes for a message, or, when it holds a private key, a description of it
/// without the key.
pub fn quoted(text: &str) -> String {
    let runs = secret_runs(text);
    match runs.as_slice() {
        [] => format!("`{text}`"),
        [(0, end, kind)] if *end == text.len() => format!("{kind} (not shown)"),
        _ => format!("`{}`", scrub(text)),
    }
}

/// [`quoted`] for text [`scrub`] has already cleaned: a text that is one description and
/// nothing else is shown as that description, anything else in backquotes.
pub fn quoted_scrubbed(text: &str) -> String {
    let description = text
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix(", not shown>"))
        .filter(|inner| !inner.contains(['<', '>']));
    match description {
        Some(description) => format!("{description} (not shown)"),
        None => quoted(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TPRV: &str = "tprv8ZgxMBicQKsPdAyEbJuqUpaTo5f9yc88jgymkH4M2An4bK8jdYJLqADKZnYkLrx2t4VNJy6vu6ZjcFzstwVh3u7p2NKQjbqunLGVvDHawYG";
    const XPRV: &str = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";

    fn wif() -> String {
        let key = bitcoin::secp256k1::SecretKey::from_slice(&[7u8; 32]).expect("a valid key");
        bitcoin::PrivateKey::new(key, bitcoin::NetworkKind::Test).to_wif()
    }

    #[test]
    fn private_keys_are_described_not_shown() {
        let wif = wif();
        for (secret, kind) in [
            (TPRV, PRIVATE_EXTENDED_KEY),
            (XPRV, PRIVATE_EXTENDED_KEY),
            (&TPRV[..40], PRIVATE_EXTENDED_KEY),
            (wif.as_str(), PRIVATE_KEY_WIF),
        ] {
            assert!(contains_secret(secret), "{secret}");
            assert_eq!(quoted(secret), format!("{kind} (not shown)"));
            assert_eq!(
                quoted_scrubbed(&scrub(secret)),
                format!("{kind} (not shown)")
            );
            for text in [
                format!("sender={secret}"),
                format!("@{secret}"),
                format!("{secret}/0/1"),
                format!("error: `{secret}` and `{secret}`"),
            ] {
                let scrubbed = scrub(&text);
                assert!(!scrubbed.contains(secret), "{scrubbed}");
                assert!(scrubbed.contains(kind), "{scrubbed}");
                assert!(!quoted(&text).contains(secret));
            }
        }
        assert_eq!(
            scrub(&format!("sender={TPRV}/0")),
            "sender=<a private extended key, not shown>/0"
        );
    }

    #[test]
    fn long_hex_runs_in_values_are_described_by_their_length() {
        let secret = "07".repeat(32);
        assert_eq!(scrub_value(&secret), "<64 hex digits, not shown>");
        assert_eq!(
            quoted_scrubbed(&scrub_value(&secret)),
            "64 hex digits (not shown)"
        );
        assert_eq!(
            scrub_value(&format!("{},{}", &secret[1..], "ab")),
            "<63 hex digits, not shown>,ab"
        );
        assert_eq!(
            scrub_value(&format!("{TPRV}/0,{secret}")),
            "<a private extended key, not shown>/0,<64 hex digits, not shown>"
        );
        // Short hex and everything else is shown as given.
        for text in ["deadbeef", "7d", "21000001btc", &secret[..31]] {
            assert_eq!(scrub_value(text), text);
        }
    }

    #[test]
    fn everything_else_is_left_alone() {
        for text in [
            "tprv",
            "xprv is a prefix",
            "tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RZWkWjQxwtsqfPknkx6SWXR3W6arm8BvKhRhq",
            "0707070707070707070707070707070707070707070707070707070707070707",
            "bcrt1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
            "",
        ] {
            assert!(!contains_secret(text), "{text}");
            assert_eq!(scrub(text), text);
            assert_eq!(quoted(text), format!("`{text}`"));
        }
    }
}
