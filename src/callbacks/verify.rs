//! The callback signature (docs/apis.md §2.9): `x-content-signature` is
//! base64(HMAC-SHA256(key = SHA-256(signing_key), raw body)), compared in constant time.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::refusal::Refusal;

/// The header ConnectWise signs callbacks in.
pub const SIGNATURE_HEADER: &str = "x-content-signature";

/// The length of an HMAC-SHA256 tag.
const TAG_LEN: usize = 32;

/// Base64 of 32 bytes is 44 characters; anything much longer is not worth decoding.
const MAX_HEADER_LEN: usize = 128;

/// Decodes the header into a tag: standard base64 (padded), surrounding whitespace
/// tolerated, nothing else. Empty → [`Refusal::Unsigned`]; not base64 or not 32 bytes →
/// [`Refusal::Forged`]. Cheap, so a receiver can refuse before fetching any key.
pub fn decode_header(header: &str) -> Result<[u8; TAG_LEN], Refusal> {
    let text = header.trim_matches([' ', '\t', '\r', '\n']);
    if text.is_empty() {
        return Err(Refusal::Unsigned);
    }
    if text.len() > MAX_HEADER_LEN {
        return Err(Refusal::Forged);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| Refusal::Forged)?;
    // The length is checked before the constant-time compare (which needs equal lengths).
    bytes.try_into().map_err(|_| Refusal::Forged)
}

/// Checks `header` (the value of `x-content-signature`) against `raw_body`, the bytes as
/// received, before any parsing, with the signing key `Metadata.key_url` answered.
pub fn verify(signing_key: &str, raw_body: &[u8], header: &str) -> Result<(), Refusal> {
    let tag = decode_header(header)?;
    let key = Sha256::digest(signing_key.as_bytes());
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(raw_body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&tag).map_err(|_| Refusal::Forged)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HMAC-SHA256 written out from RFC 2104, independently of the `hmac` crate:
    /// H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), K padded to SHA-256's 64-byte block.
    fn reference_signature(signing_key: &str, body: &[u8]) -> String {
        let mut k = [0u8; 64];
        k[..32].copy_from_slice(&Sha256::digest(signing_key.as_bytes()));
        let inner_key: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let outer_key: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sha256::digest([inner_key.as_slice(), body].concat());
        let outer = Sha256::digest([outer_key.as_slice(), inner.as_slice()].concat());
        base64::engine::general_purpose::STANDARD.encode(outer)
    }

    const BODY: &[u8] = br#"{"MessageId":"m-1","Action":"updated","Type":"contact","ID":42}"#;

    #[test]
    fn a_signature_computed_from_the_definition_is_accepted() {
        let sig = reference_signature("k3y-from-connectwise", BODY);
        assert_eq!(sig.len(), 44);
        assert_eq!(verify("k3y-from-connectwise", BODY, &sig), Ok(()));
        // Surrounding whitespace, as a proxy may leave it, is tolerated.
        assert_eq!(
            verify("k3y-from-connectwise", BODY, &format!(" \t{sig} ")),
            Ok(())
        );
    }

    #[test]
    fn a_fixed_vector_computed_elsewhere_is_accepted() {
        // Python: base64(hmac.new(sha256(b"k3y-from-connectwise").digest(), BODY, sha256)).
        let sig = "pky9nJXcoQP4Zqqd9w4H3pp8bbkBeAfOx4HAufKHhW8=";
        assert_eq!(reference_signature("k3y-from-connectwise", BODY), sig);
        assert_eq!(verify("k3y-from-connectwise", BODY, sig), Ok(()));
        // An empty body and a long key go through the same construction.
        let long_key = "x".repeat(200);
        assert_eq!(
            verify(&long_key, b"", &reference_signature(&long_key, b"")),
            Ok(())
        );
    }

    #[test]
    fn a_wrong_key_or_a_changed_body_is_forged() {
        let sig = reference_signature("right", BODY);
        assert_eq!(verify("wrong", BODY, &sig), Err(Refusal::Forged));
        let mut changed = BODY.to_vec();
        changed[30] ^= 1;
        assert_eq!(verify("right", &changed, &sig), Err(Refusal::Forged));
        let mut longer = BODY.to_vec();
        longer.push(b' ');
        assert_eq!(verify("right", &longer, &sig), Err(Refusal::Forged));
    }

    #[test]
    fn bad_base64_short_tags_and_inner_spaces_are_forged() {
        assert_eq!(verify("k", BODY, "not base64!"), Err(Refusal::Forged));
        let sig = reference_signature("k", BODY);
        // URL-safe alphabet, missing padding, a space inside: not the standard encoding.
        let urlsafe = sig.replace('+', "-").replace('/', "_");
        if urlsafe != sig {
            assert_eq!(verify("k", BODY, &urlsafe), Err(Refusal::Forged));
        }
        assert_eq!(
            verify("k", BODY, sig.trim_end_matches('=')),
            Err(Refusal::Forged)
        );
        assert_eq!(
            verify("k", BODY, &format!("{} {}", &sig[..20], &sig[20..])),
            Err(Refusal::Forged)
        );
        // Valid base64 of the wrong length (16 bytes, 64 bytes).
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert_eq!(verify("k", BODY, &short), Err(Refusal::Forged));
        let long = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        assert_eq!(verify("k", BODY, &long), Err(Refusal::Forged));
        assert_eq!(verify("k", BODY, &"A".repeat(4000)), Err(Refusal::Forged));
    }

    #[test]
    fn an_empty_header_is_unsigned() {
        assert_eq!(verify("k", BODY, ""), Err(Refusal::Unsigned));
        assert_eq!(verify("k", BODY, "  \t"), Err(Refusal::Unsigned));
    }
}
