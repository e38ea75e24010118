//! The 54-byte record header (FORMAT.md §2).

use crate::wal::types::RecordType;

pub const HEADER_LEN: usize = 54;
pub const MAGIC: u32 = 0x5359_4E57;
pub const MAGIC_BYTES: [u8; 4] = MAGIC.to_le_bytes();
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of the header the CRC covers; the CRC field itself follows.
pub const CRC_COVERED_LEN: usize = 50;
/// Largest plaintext payload the reference writer accepts.
pub const MAX_PAYLOAD_LEN: u32 = 64 * 1024 * 1024;
/// Largest stored payload: plaintext limit plus the AES-GCM tag.
pub const MAX_STORED_PAYLOAD_LEN: u32 = MAX_PAYLOAD_LEN + 16;

/// Every header field as stored, including ones a valid record must hold fixed
/// (magic, version) so that damaged headers can still be reported faithfully.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub magic: u32,
    pub format_version: u16,
    pub record_type: RecordType,
    pub lsn: u64,
    pub tenant_id: u64,
    pub vshard_id: u32,
    pub payload_len: u32,
    pub database_id: u64,
    pub reserved: [u8; 8],
    pub crc32c: u32,
}

impl RecordHeader {
    /// A fresh header for writing: valid magic/version, zero reserved bytes, CRC unset.
    pub fn new(record_type: RecordType, lsn: u64, tenant_id: u64, vshard_id: u32) -> Self {
        RecordHeader {
            magic: MAGIC,
            format_version: FORMAT_VERSION,
            record_type,
            lsn,
            tenant_id,
            vshard_id,
            payload_len: 0,
            database_id: 0,
            reserved: [0; 8],
            crc32c: 0,
        }
    }

    pub fn decode(b: &[u8; HEADER_LEN]) -> Self {
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        RecordHeader {
            magic: u32_at(0),
            format_version: u16_at(4),
            record_type: RecordType(u32_at(6)),
            lsn: u64_at(10),
            tenant_id: u64_at(18),
            vshard_id: u32_at(26),
            payload_len: u32_at(30),
            database_id: u64_at(34),
            reserved: b[42..50].try_into().unwrap(),
            crc32c: u32_at(50),
        }
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&self.magic.to_le_bytes());
        b[4..6].copy_from_slice(&self.format_version.to_le_bytes());
        b[6..10].copy_from_slice(&self.record_type.0.to_le_bytes());
        b[10..18].copy_from_slice(&self.lsn.to_le_bytes());
        b[18..26].copy_from_slice(&self.tenant_id.to_le_bytes());
        b[26..30].copy_from_slice(&self.vshard_id.to_le_bytes());
        b[30..34].copy_from_slice(&self.payload_len.to_le_bytes());
        b[34..42].copy_from_slice(&self.database_id.to_le_bytes());
        b[42..50].copy_from_slice(&self.reserved);
        b[50..54].copy_from_slice(&self.crc32c.to_le_bytes());
        b
    }

    /// Encodes the header for `payload`, filling `payload_len` and the CRC.
    pub fn seal(&mut self, payload: &[u8]) -> [u8; HEADER_LEN] {
        self.payload_len = payload.len() as u32;
        let mut bytes = self.encode();
        self.crc32c = record_crc(&bytes, payload);
        bytes[50..54].copy_from_slice(&self.crc32c.to_le_bytes());
        bytes
    }
}

/// CRC-32C over header bytes 0..50 followed by the stored payload (§2.3).
pub fn record_crc(header: &[u8; HEADER_LEN], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&header[..CRC_COVERED_LEN]), payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::types::RecordKind;

    #[test]
    fn put_example_matches_spec_10_1() {
        let mut h = RecordHeader::new(RecordKind::Put.record_type(), 1, 1, 2);
        let bytes = h.seal(b"hello");
        assert_eq!(h.crc32c, 0x28A0_E74B);
        assert_eq!(&bytes[0..10], &[0x57, 0x4e, 0x59, 0x53, 1, 0, 1, 0x80, 0, 0]);
        assert_eq!(&bytes[50..54], &[0x4b, 0xe7, 0xa0, 0x28]);
        assert_eq!(RecordHeader::decode(&bytes), h);

        let mut h7 = RecordHeader::new(RecordKind::Put.record_type(), 1, 1, 2);
        h7.database_id = 7;
        h7.seal(b"hello");
        assert_eq!(h7.crc32c, 0x0B97_96C8);
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }
}
