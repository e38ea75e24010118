//! Double-write companions (`.dwb`, FORMAT.md §5.7): intact copies of recently
//! written records that NodeDB uses to repair a record whose CRC fails.

use std::path::{Path, PathBuf};

use crate::wal::WalError;
use crate::wal::header::{HEADER_LEN, MAGIC_BYTES, RecordHeader, record_crc};

pub const DWB_MAGIC: u32 = 0x4457_4246;
pub const SLOTS: usize = 64;
pub const HEADER_BLOCK: usize = 4096;
pub const SLOT_STRIDE: usize = 69_632;
/// Largest record (header + payload) a slot holds.
pub const MAX_SLOT_RECORD: usize = 65_536;

/// The companion path of a segment: its extension replaced by `.dwb`.
pub fn companion_path(segment: &Path) -> PathBuf {
    segment.with_extension("dwb")
}

/// One slot as found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub index: usize,
    pub len: u32,
    pub header: Option<RecordHeader>,
    /// The slot holds a complete record with valid magic, version and CRC.
    pub valid: bool,
}

/// A loaded `.dwb` file.
#[derive(Clone, Debug)]
pub struct Dwb {
    pub path: PathBuf,
    pub data: Vec<u8>,
}

impl Dwb {
    /// Loads the companion of `segment` if it exists.
    pub fn for_segment(segment: &Path) -> Result<Option<Dwb>, WalError> {
        let path = companion_path(segment);
        match std::fs::read(&path) {
            Ok(data) => Ok(Some(Dwb { path, data })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(WalError::io(&path, e)),
        }
    }

    /// `(magic ok, count, write_pos)` from the header block.
    pub fn header(&self) -> (bool, u32, u32) {
        let u32_at = |o: usize| self.data.get(o..o + 4).map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()));
        (u32_at(0) == DWB_MAGIC, u32_at(4), u32_at(8))
    }

    /// The record bytes in slot `i`, if its length field is plausible and present.
    fn slot_record(&self, i: usize) -> Option<&[u8]> {
        let base = HEADER_BLOCK + i * SLOT_STRIDE;
        let len = u32::from_le_bytes(self.data.get(base..base + 4)?.try_into().unwrap()) as usize;
        if !(HEADER_LEN..=MAX_SLOT_RECORD).contains(&len) {
            return None;
        }
        self.data.get(base + 4..base + 4 + len)
    }

    pub fn slots(&self) -> Vec<Slot> {
        (0..SLOTS)
            .filter_map(|i| {
                let base = HEADER_BLOCK + i * SLOT_STRIDE;
                let len = u32::from_le_bytes(self.data.get(base..base + 4)?.try_into().unwrap());
                if len == 0 {
                    return None;
                }
                let rec = self.slot_record(i);
                let header = rec.map(|r| RecordHeader::decode(r[..HEADER_LEN].try_into().unwrap()));
                Some(Slot { index: i, len, header, valid: rec.is_some_and(valid_record) })
            })
            .collect()
    }

    /// NodeDB's lookup: the first slot (in slot order) holding a valid record with
    /// this LSN. Returns the slot index and the record bytes.
    pub fn find(&self, lsn: u64) -> Option<(usize, &[u8])> {
        (0..SLOTS).find_map(|i| {
            let rec = self.slot_record(i)?;
            let h = RecordHeader::decode(rec[..HEADER_LEN].try_into().unwrap());
            (h.lsn == lsn && valid_record(rec)).then_some((i, rec))
        })
    }
}

fn valid_record(rec: &[u8]) -> bool {
    if rec.len() < HEADER_LEN || rec[..4] != MAGIC_BYTES {
        return false;
    }
    let h = RecordHeader::decode(rec[..HEADER_LEN].try_into().unwrap());
    h.format_version == crate::wal::header::FORMAT_VERSION
        && HEADER_LEN + h.payload_len as usize == rec.len()
        && record_crc(rec[..HEADER_LEN].try_into().unwrap(), &rec[HEADER_LEN..]) == h.crc32c
}

/// Builds a `.dwb` image holding `records` (header ‖ payload each) in slots 0.., as
/// NodeDB's buffered mode writes it. Used for tests and fixtures.
pub fn build(records: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![0u8; 12];
    out[0..4].copy_from_slice(&DWB_MAGIC.to_le_bytes());
    out[4..8].copy_from_slice(&(records.len().min(SLOTS) as u32).to_le_bytes());
    out[8..12].copy_from_slice(&(records.len() as u32).to_le_bytes());
    for (i, rec) in records.iter().enumerate().take(SLOTS) {
        let base = HEADER_BLOCK + i * SLOT_STRIDE;
        out.resize(base, 0);
        out.extend_from_slice(&(rec.len() as u32).to_le_bytes());
        out.extend_from_slice(rec);
    }
    out
}
