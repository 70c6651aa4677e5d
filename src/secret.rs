//! Random names and secrets, and their comparison.
//!
//! Everything here draws from the operating system's generator (getrandom), so room names,
//! peer ids and tokens cannot be predicted from one another. Tokens are compared in constant
//! time so that response timing does not reveal how much of a guess was right.

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha1::Sha1;

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

/// A password for coturn's `use-auth-secret` mode (the TURN REST API): base64 of
/// HMAC-SHA1(secret, username), where the username is `expiry:peer`.
pub fn turn_password(secret: &str, username: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key");
    mac.update(username.as_bytes());
    base64(&mac.finalize().into_bytes())
}

/// A keyed hash of `text`: HMAC-SHA1 with `key`, as 32 hex digits. Used so that stored
/// values (address hashes) cannot be reversed by hashing every candidate.
pub fn keyed_hash(key: &[u8], text: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC accepts any key");
    mac.update(text.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Standard base64 with padding, as coturn expects for passwords.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |group, (index, byte)| {
            group | u32::from(*byte) << (16 - 8 * index)
        });
        for index in 0..4 {
            if index <= chunk.len() {
                text.push(char::from(
                    ALPHABET[(group >> (18 - 6 * index) & 63) as usize],
                ));
            } else {
                text.push('=');
            }
        }
    }
    text
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
    fn base64_matches_the_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn turn_passwords_match_hmac_sha1() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            turn_password("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
