//! Script numbers (Core's `CScriptNum`) and truthiness (`CastToBool`).
//!
//! Numbers are little-endian sign-magnitude byte strings. Operands are at most 4 bytes (5 for
//! the timelock opcodes); results may be longer. With `require_minimal` (MINIMALDATA) an
//! operand must not have superfluous trailing zero bytes. Failures are `SCRIPTNUM`.

use crate::error::ScriptError;

/// Decodes a script number of at most `max_size` bytes.
#[inline]
pub fn decode_num(v: &[u8], require_minimal: bool, max_size: usize) -> Result<i64, ScriptError> {
    if v.len() > max_size {
        return Err(ScriptError::ScriptNum);
    }
    let Some(&last) = v.last() else {
        return Ok(0);
    };
    if require_minimal && last & 0x7f == 0 && (v.len() <= 1 || v[v.len() - 2] & 0x80 == 0) {
        return Err(ScriptError::ScriptNum);
    }
    let mut result: i64 = 0;
    for (i, b) in v.iter().enumerate() {
        result |= (*b as i64) << (8 * i);
    }
    if last & 0x80 != 0 {
        let mask = !(0x80i64 << (8 * (v.len() - 1)));
        Ok(-(result & mask))
    } else {
        Ok(result)
    }
}

/// Encodes a number minimally.
pub fn encode_num(n: i64) -> Vec<u8> {
    let mut out = Vec::new();
    if n == 0 {
        return out;
    }
    let neg = n < 0;
    let mut abs = n.unsigned_abs();
    while abs > 0 {
        out.push((abs & 0xff) as u8);
        abs >>= 8;
    }
    let last = out.len() - 1;
    if out[last] & 0x80 != 0 {
        out.push(if neg { 0x80 } else { 0 });
    } else if neg {
        out[last] |= 0x80;
    }
    out
}

/// Core's `CScriptNum::getint`: saturates to the `i32` range.
pub fn to_int(n: i64) -> i64 {
    n.clamp(i32::MIN as i64, i32::MAX as i64)
}

/// Core's `CastToBool`: false for empty, all-zero, and negative zero.
#[inline]
pub fn cast_to_bool(v: &[u8]) -> bool {
    for (i, b) in v.iter().enumerate() {
        if *b != 0 {
            // negative zero is false
            return !(i == v.len() - 1 && *b == 0x80);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for n in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            255,
            256,
            0x7fff_ffff,
            -0x7fff_ffff,
            1 << 39,
        ] {
            assert_eq!(decode_num(&encode_num(n), true, 8).unwrap(), n, "{n}");
        }
        assert_eq!(encode_num(-1), vec![0x81]);
        assert_eq!(encode_num(128), vec![0x80, 0x00]);
        assert!(decode_num(&[0x00], true, 4).is_err());
        assert!(decode_num(&[0x80], true, 4).is_err());
        assert_eq!(decode_num(&[0x80], false, 4).unwrap(), 0);
        assert!(decode_num(&[1, 2, 3, 4, 5], false, 4).is_err());
        assert!(!cast_to_bool(&[0, 0, 0x80]));
        assert!(cast_to_bool(&[0, 0x80, 0]));
    }
}
