//! Random names and secrets, and their comparison.
//!
//! Everything here draws from the operating system's generator (getrandom), so room names,
//! peer ids and tokens cannot be predicted from one another. Tokens are compared in constant
//! time so that response timing does not reveal how much of a guess was right.

use rand::rngs::OsRng;
use rand::RngCore;

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `length` characters of the URL-safe base64 alphabet: 6 random bits each.
pub fn random_name(length: usize) -> String {
    let mut bytes = vec![0u8; length];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|byte| char::from(URL_SAFE[usize::from(byte & 63)]))
        .collect()
}

/// A fresh room name: 16 characters, 96 bits.
pub fn room_name() -> String {
    random_name(16)
}

/// A peer id: 12 characters, 72 bits; public within its room.
pub fn peer_id() -> String {
    random_name(12)
}

/// A peer's token: 22 characters, 132 bits; known only to that peer.
pub fn token() -> String {
    random_name(22)
}

/// Compares two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |difference, (x, y)| difference | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_url_safe_and_distinct() {
        let a = token();
        let b = token();
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(a.bytes().all(|byte| URL_SAFE.contains(&byte)));
        assert_eq!(room_name().len(), 16);
        assert_eq!(peer_id().len(), 12);
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
