//! Deliberate damage for tests: each kind produces exactly the condition the scanner
//! and `verify` classify under the same name.

use crate::wal::header::{HEADER_LEN, RecordHeader};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorruptKind {
    /// Cut inside the record's payload (everything after is dropped).
    TornTail,
    /// Cut inside the record's header (everything after is dropped).
    TornHeader,
    /// Flip one payload byte (a CRC byte for empty payloads); the stored CRC stays.
    FlipCrc,
    /// Overwrite the magic.
    BadMagic,
    /// Overwrite the whole record with zeros.
    ZeroFill,
    /// Renumber this record and all later ones in the segment by +1 (CRCs recomputed),
    /// leaving valid records with an LSN gap.
    LsnGap,
    /// Set the format version to 2.
    BadVersion,
}

impl CorruptKind {
    pub const ALL: [CorruptKind; 7] = [
        CorruptKind::TornTail,
        CorruptKind::TornHeader,
        CorruptKind::FlipCrc,
        CorruptKind::BadMagic,
        CorruptKind::ZeroFill,
        CorruptKind::LsnGap,
        CorruptKind::BadVersion,
    ];

    /// Command-line name, e.g. `flip-crc`.
    pub fn name(self) -> &'static str {
        match self {
            CorruptKind::TornTail => "torn-tail",
            CorruptKind::TornHeader => "torn-header",
            CorruptKind::FlipCrc => "flip-crc",
            CorruptKind::BadMagic => "bad-magic",
            CorruptKind::ZeroFill => "zero-fill",
            CorruptKind::LsnGap => "lsn-gap",
            CorruptKind::BadVersion => "bad-version",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Torn kinds hit the last record unless told otherwise; the others a middle one.
    pub fn defaults_to_last(self) -> bool {
        matches!(self, CorruptKind::TornTail | CorruptKind::TornHeader)
    }
}

/// A record's place in a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub offset: usize,
    pub len: usize,
    pub lsn: u64,
}

/// Damages `data` (one segment) at record `records[target]`; `pick` chooses a byte
/// within the payload for flips. Returns a description of what was done.
pub fn corrupt(data: &mut Vec<u8>, records: &[Placed], target: usize, kind: CorruptKind, pick: u64) -> String {
    let r = records[target];
    let payload_len = r.len - HEADER_LEN;
    match kind {
        CorruptKind::TornTail => {
            let cut =
                if payload_len == 0 { r.offset + HEADER_LEN - 1 } else { r.offset + HEADER_LEN + payload_len / 2 };
            data.truncate(cut);
            format!("cut the file at offset {cut}, inside LSN {}", r.lsn)
        }
        CorruptKind::TornHeader => {
            let cut = r.offset + 20;
            data.truncate(cut);
            format!("cut the file at offset {cut}, inside the header of LSN {}", r.lsn)
        }
        CorruptKind::FlipCrc => {
            let at =
                if payload_len == 0 { r.offset + 50 } else { r.offset + HEADER_LEN + (pick as usize % payload_len) };
            data[at] ^= 0xff;
            format!("flipped the byte at offset {at} (LSN {}); CRC left as written", r.lsn)
        }
        CorruptKind::BadMagic => {
            data[r.offset..r.offset + 4].copy_from_slice(b"XXXX");
            format!("overwrote the magic of LSN {} at offset {}", r.lsn, r.offset)
        }
        CorruptKind::ZeroFill => {
            data[r.offset..r.offset + r.len].fill(0);
            format!("zeroed LSN {} ({} bytes at offset {})", r.lsn, r.len, r.offset)
        }
        CorruptKind::BadVersion => {
            data[r.offset + 4..r.offset + 6].copy_from_slice(&2u16.to_le_bytes());
            format!("set format_version 2 on LSN {} at offset {}", r.lsn, r.offset)
        }
        CorruptKind::LsnGap => {
            for p in &records[target..] {
                let mut h = RecordHeader::decode(data[p.offset..p.offset + HEADER_LEN].try_into().unwrap());
                h.lsn += 1;
                let bytes = h.seal(&data[p.offset + HEADER_LEN..p.offset + p.len]);
                data[p.offset..p.offset + HEADER_LEN].copy_from_slice(&bytes);
            }
            format!(
                "renumbered LSN {} and the {} record(s) after it in this segment by +1",
                r.lsn,
                records.len() - target - 1
            )
        }
    }
}
