//! Script assembly parser in the format of Bitcoin Core's test data (`ParseScript`).
//!
//! In: whitespace-separated tokens. Decimal integers in ±0xffffffff become minimal pushes
//! (`-1`, `0`..`16` become `OP_1NEGATE`/`OP_0`/`OP_n`); `0x..` hex is inserted raw (not pushed);
//! `'text'` is pushed as data; opcode names work with or without `OP_`. Out: script bytes, or a
//! message naming the bad token.

use crate::num::encode_num;
use crate::opcodes::*;

fn opcode_by_name(word: &str) -> Option<u8> {
    let w = word.strip_prefix("OP_").unwrap_or(word);
    match w {
        "NOP2" => return Some(OP_CHECKLOCKTIMEVERIFY),
        "NOP3" => return Some(OP_CHECKSEQUENCEVERIFY),
        _ => {}
    }
    (OP_NOP..=OP_CHECKSIGADD)
        .chain([
            OP_RESERVED,
            OP_PUSHDATA1,
            OP_PUSHDATA2,
            OP_PUSHDATA4,
            OP_INVALIDOPCODE,
        ])
        .find(|&op| op_name(op).strip_prefix("OP_") == Some(w))
}

fn push_int(out: &mut Vec<u8>, n: i64) {
    if n == -1 || (1..=16).contains(&n) {
        out.push((n + (OP_1 as i64 - 1)) as u8);
    } else if n == 0 {
        out.push(OP_0);
    } else {
        push_data(out, &encode_num(n));
    }
}

/// Parses Core-style script assembly into bytes.
pub fn parse_asm(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for w in s.split_whitespace() {
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if digits(w) || (w.starts_with('-') && digits(&w[1..])) {
            let n: i64 = w.parse().map_err(|_| format!("bad number `{w}`"))?;
            if !(-0xffff_ffff..=0xffff_ffff).contains(&n) {
                return Err(format!("number out of range `{w}`"));
            }
            push_int(&mut out, n);
        } else if let Some(h) = w.strip_prefix("0x").filter(|h| !h.is_empty()) {
            let bytes = decode_hex(h).ok_or_else(|| format!("bad hex `{w}`"))?;
            out.extend_from_slice(&bytes);
        } else if w.len() >= 2 && w.starts_with('\'') && w.ends_with('\'') {
            push_data(&mut out, &w.as_bytes()[1..w.len() - 1]);
        } else if let Some(op) = opcode_by_name(w) {
            out.push(op);
        } else {
            return Err(format!("unknown token `{w}`"));
        }
    }
    Ok(out)
}

/// Decodes even-length hex; `None` on any other input.
pub fn decode_hex(h: &str) -> Option<Vec<u8>> {
    if !h.len().is_multiple_of(2) {
        return None;
    }
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    h.as_bytes()
        .chunks(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_core_tokens() {
        assert_eq!(
            parse_asm("1 -1 0 17").unwrap(),
            vec![0x51, 0x4f, 0x00, 0x01, 0x11]
        );
        assert_eq!(
            parse_asm("0x02 0x417a DUP OP_ADD").unwrap(),
            vec![0x02, 0x41, 0x7a, 0x76, 0x93]
        );
        assert_eq!(
            parse_asm("'ab' NOP2").unwrap(),
            vec![0x02, b'a', b'b', 0xb1]
        );
        assert!(parse_asm("FOO").is_err());
        assert!(parse_asm("0x0").is_err());
    }
}
