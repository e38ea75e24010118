//! Payload encryption (FORMAT.md §7): AES-256-GCM, nonce = epoch ‖ LSN, AAD =
//! preamble ‖ header (encrypted bit, payload_len and CRC zeroed). The CRC covers the
//! stored ciphertext, so integrity is checked without a key; the key adds authenticity.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::wal::header::{HEADER_LEN, RecordHeader};
use crate::wal::scan::RecordRef;
use crate::wal::segment::{PREAMBLE_LEN, Preamble};

pub const KEY_LEN: usize = 32;
pub const TAG_LEN: usize = 16;

#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encrypted payload; no key given")]
    NoKey,
    #[error("encrypted record in a segment without a preamble (no epoch to decrypt it)")]
    NoPreamble,
    #[error("decryption failed: wrong key, or the record was altered or moved")]
    Authentication,
    #[error("a key must be 32 bytes (raw) or 64 hex digits, got {0} bytes")]
    KeyLength(usize),
}

/// A 32-byte AES-256 key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    pub fn new(bytes: [u8; KEY_LEN]) -> Self {
        Key(bytes)
    }

    /// A key file holds 32 raw bytes, or 64 hex digits (surrounding whitespace ignored).
    pub fn from_file_bytes(b: &[u8]) -> Result<Key, CryptoError> {
        if let Ok(raw) = <[u8; KEY_LEN]>::try_from(b) {
            return Ok(Key(raw));
        }
        let text = b.trim_ascii();
        if text.len() == 2 * KEY_LEN
            && let Ok(v) = faster_hex::hex_decode_vec(text)
        {
            return Ok(Key(v.try_into().expect("64 hex digits are 32 bytes")));
        }
        Err(CryptoError::KeyLength(b.len()))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&self.0).into())
    }
}

/// The current key (used to encrypt) and older keys tried on decryption.
#[derive(Clone, Debug)]
pub struct KeyRing {
    pub current: Key,
    pub previous: Vec<Key>,
}

impl KeyRing {
    pub fn new(current: Key) -> Self {
        KeyRing { current, previous: Vec::new() }
    }
}

pub fn nonce(epoch: [u8; 4], lsn: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(&epoch);
    n[4..].copy_from_slice(&lsn.to_le_bytes());
    n
}

/// `preamble ‖ header` with the encrypted bit, `payload_len` and CRC zeroed; every
/// other header byte (database_id and reserved included) as on disk.
pub fn aad(preamble: &Preamble, header: &RecordHeader) -> [u8; PREAMBLE_LEN + HEADER_LEN] {
    let mut h = *header;
    h.record_type = h.record_type.with_encrypted(false);
    h.payload_len = 0;
    h.crc32c = 0;
    let mut out = [0u8; PREAMBLE_LEN + HEADER_LEN];
    out[..PREAMBLE_LEN].copy_from_slice(&preamble.raw);
    out[PREAMBLE_LEN..].copy_from_slice(&h.encode());
    out
}

/// Decrypts a stored payload with the ring (current key first, then older ones).
pub fn decrypt(
    ring: &KeyRing,
    preamble: &Preamble,
    header: &RecordHeader,
    stored: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let aad = aad(preamble, header);
    let n = nonce(preamble.epoch, header.lsn);
    std::iter::once(&ring.current)
        .chain(&ring.previous)
        .find_map(|k| k.cipher().decrypt(Nonce::from_slice(&n), Payload { msg: stored, aad: &aad }).ok())
        .ok_or(CryptoError::Authentication)
}

/// Encrypts `plaintext` for the record described by `header` (whose `record_type` is
/// the logical type; the caller sets the encrypted bit and seals the header after).
pub fn encrypt(key: &Key, preamble: &Preamble, header: &RecordHeader, plaintext: &[u8]) -> Vec<u8> {
    let aad = aad(preamble, header);
    let n = nonce(preamble.epoch, header.lsn);
    key.cipher()
        .encrypt(Nonce::from_slice(&n), Payload { msg: plaintext, aad: &aad })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail")
}

/// A fresh random epoch for a new segment.
pub fn random_epoch() -> [u8; 4] {
    let mut e = [0u8; 4];
    OsRng.fill_bytes(&mut e);
    e
}

/// The payload as readers should see it: plaintext records as stored, encrypted ones
/// decrypted with `ring` using their segment's preamble.
pub fn plaintext<'a>(
    ring: Option<&KeyRing>,
    preamble: Option<&Preamble>,
    r: &RecordRef<'a>,
) -> Result<std::borrow::Cow<'a, [u8]>, CryptoError> {
    if !r.header.record_type.is_encrypted() {
        return Ok(std::borrow::Cow::Borrowed(r.payload));
    }
    let ring = ring.ok_or(CryptoError::NoKey)?;
    let preamble = preamble.ok_or(CryptoError::NoPreamble)?;
    decrypt(ring, preamble, &r.header, r.payload).map(std::borrow::Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::types::RecordKind;

    /// FORMAT.md §10.4: key 32 × 0x42, epoch 01 02 03 04, Put LSN 1 tenant 1 vshard 2 "hello".
    #[test]
    fn spec_example_10_4() {
        let key = Key::new([0x42; 32]);
        let preamble = Preamble::new([1, 2, 3, 4]);
        let mut h = RecordHeader::new(RecordKind::Put.record_type(), 1, 1, 2);
        let stored = encrypt(&key, &preamble, &h, b"hello");
        assert_eq!(faster_hex::hex_string(&stored), "73edaa991bf5c6ed90378a659a04a1e638561e843c");
        h.record_type = h.record_type.with_encrypted(true);
        let header = h.seal(&stored);
        assert_eq!(h.crc32c, 0xB574_62BE);
        assert_eq!(&header[6..10], &[0x01, 0xc0, 0, 0]);
        let ring = KeyRing { current: Key::new([0; 32]), previous: vec![key] };
        assert_eq!(decrypt(&ring, &preamble, &h, &stored).unwrap(), b"hello");
        assert_eq!(decrypt(&KeyRing::new(Key::new([7; 32])), &preamble, &h, &stored), Err(CryptoError::Authentication));
        // Moving the record to another segment (another epoch) breaks authentication.
        let other = Preamble::new([9, 9, 9, 9]);
        assert_eq!(decrypt(&KeyRing::new(Key::new([0x42; 32])), &other, &h, &stored), Err(CryptoError::Authentication));
    }

    #[test]
    fn key_files() {
        assert!(Key::from_file_bytes(&[1; 32]).is_ok());
        assert_eq!(Key::from_file_bytes(format!("{}\n", "ab".repeat(32)).as_bytes()).unwrap(), Key::new([0xab; 32]));
        assert_eq!(Key::from_file_bytes(b"short"), Err(CryptoError::KeyLength(5)));
    }
}
