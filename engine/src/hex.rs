//! Lower-case hex: the crate's one encoder (secret hashes, keyed digests, master key files, the
//! SQLite journal's wrapped keys).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lower-case hex into `out`, which must be twice as long (the rest is left).
pub(crate) fn encode_into(bytes: &[u8], out: &mut [u8]) {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// `bytes` as lower-case hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    encode_into(bytes, &mut out);
    out.into_iter().map(char::from).collect()
}

/// The value of a lower-case hex digit, or `None`.
pub(crate) const fn digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_lower_case() {
        assert_eq!(super::encode(&[0x00, 0x0f, 0xa9, 0xff]), "000fa9ff");
        assert_eq!(super::encode(&[]), "");
    }
}
