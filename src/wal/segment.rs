//! Segment files: naming and discovery (§5.1), the WALP preamble (§5.4), and
//! memory-mapped access that keeps resident memory bounded.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::wal::WalError;

pub const PREAMBLE_LEN: usize = 16;
pub const PREAMBLE_MAGIC: [u8; 4] = *b"WALP";
pub const PREAMBLE_VERSION: u16 = 1;
/// O_DIRECT batches start on this boundary; zero fill reaches up to it.
pub const DIRECT_IO_ALIGNMENT: u64 = 4096;

/// The 16-byte segment preamble of encrypted segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preamble {
    pub version: u16,
    pub cipher_alg: u8,
    pub kid: u8,
    pub epoch: [u8; 4],
    pub raw: [u8; PREAMBLE_LEN],
}

impl Preamble {
    pub fn new(epoch: [u8; 4]) -> Self {
        let mut raw = [0u8; PREAMBLE_LEN];
        raw[0..4].copy_from_slice(&PREAMBLE_MAGIC);
        raw[4..6].copy_from_slice(&PREAMBLE_VERSION.to_le_bytes());
        raw[8..12].copy_from_slice(&epoch);
        Preamble { version: PREAMBLE_VERSION, cipher_alg: 0, kid: 0, epoch, raw }
    }

    /// Detects a preamble at the start of a segment, as the reference does.
    pub fn detect(data: &[u8]) -> Option<Preamble> {
        if data.len() < PREAMBLE_LEN || data[0..4] != PREAMBLE_MAGIC {
            return None;
        }
        let raw: [u8; PREAMBLE_LEN] = data[..PREAMBLE_LEN].try_into().unwrap();
        Some(Preamble {
            version: u16::from_le_bytes([raw[4], raw[5]]),
            cipher_alg: raw[6],
            kid: raw[7],
            epoch: raw[8..12].try_into().unwrap(),
            raw,
        })
    }
}

/// `wal-<first_lsn:020>.seg`.
pub fn segment_file_name(first_lsn: u64) -> String {
    format!("wal-{first_lsn:020}.seg")
}

/// First LSN encoded in a segment name; accepts 1–20 ASCII digits.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("wal-")?.strip_suffix(".seg")?;
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One file to scan: a discovered segment or a plain file given by the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub path: PathBuf,
    /// File name as shown in output.
    pub name: String,
    /// First LSN from a canonical segment name; `None` for plain files.
    pub first_lsn: Option<u64>,
}

/// The segments behind a path: a directory's `wal-*.seg` files in first-LSN order, or
/// the file itself.
pub fn discover(path: &Path) -> Result<Vec<SegmentInfo>, WalError> {
    let meta = std::fs::metadata(path).map_err(|e| WalError::io(path, e))?;
    if !meta.is_dir() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let first_lsn = parse_segment_name(&name);
        return Ok(vec![SegmentInfo { path: path.to_path_buf(), name, first_lsn }]);
    }
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| WalError::io(path, e))? {
        let entry = entry.map_err(|e| WalError::io(path, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(first_lsn) = parse_segment_name(&name)
            && entry.file_type().map(|t| t.is_file()).unwrap_or(false)
        {
            segments.push(SegmentInfo { path: entry.path(), name, first_lsn: Some(first_lsn) });
        }
    }
    segments.sort_by_key(|s| (s.first_lsn, s.name.clone()));
    Ok(segments)
}

/// Read-only bytes of one segment. Large files are memory-mapped; pages already
/// scanned are handed back to the kernel so resident memory stays flat.
pub struct SegmentData {
    backing: Backing,
    dwb: Option<crate::wal::dwb::Dwb>,
}

enum Backing {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl SegmentData {
    pub fn open(path: &Path) -> Result<Self, WalError> {
        let file = File::open(path).map_err(|e| WalError::io(path, e))?;
        let len = file.metadata().map_err(|e| WalError::io(path, e))?.len();
        let dwb = crate::wal::dwb::Dwb::for_segment(path)?;
        if len == 0 {
            return Ok(SegmentData { backing: Backing::Owned(Vec::new()), dwb });
        }
        // SAFETY: the map is read-only. A concurrent writer only appends past the
        // mapped length; truncating a WAL while it is read is outside the contract.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| WalError::io(path, e))?;
        Ok(SegmentData { backing: Backing::Mapped(map), dwb })
    }

    pub fn from_vec(bytes: Vec<u8>) -> Self {
        SegmentData { backing: Backing::Owned(bytes), dwb: None }
    }

    /// The segment's double-write companion, if it has one.
    pub fn dwb(&self) -> Option<&crate::wal::dwb::Dwb> {
        self.dwb.as_ref()
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Mapped(m) => m,
            Backing::Owned(v) => v,
        }
    }

    /// Drops resident pages of `start..end` (page-aligned inward); reading them again
    /// simply faults them back in from the page cache.
    pub fn release(&self, start: usize, end: usize) {
        const PAGE: usize = 4096;
        if let Backing::Mapped(m) = &self.backing {
            let start = start.div_ceil(PAGE) * PAGE;
            let end = end / PAGE * PAGE;
            if end > start {
                // SAFETY: the mapping is private and never written, so discarding its
                // pages loses nothing; later reads refault the file contents.
                let _ = unsafe { m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(segment_file_name(1), "wal-00000000000000000001.seg");
        assert_eq!(segment_file_name(u64::MAX), "wal-18446744073709551615.seg");
        assert_eq!(parse_segment_name("wal-00000000000000004711.seg"), Some(4711));
        assert_eq!(parse_segment_name("wal-7.seg"), Some(7));
        assert_eq!(parse_segment_name("wal-.seg"), None);
        assert_eq!(parse_segment_name("wal-+7.seg"), None);
        assert_eq!(parse_segment_name("wal-00000000000000000001.dwb"), None);
        assert_eq!(parse_segment_name("wal-99999999999999999999.seg"), None);
    }

    #[test]
    fn preamble_round_trip() {
        let p = Preamble::new([1, 2, 3, 4]);
        assert_eq!(hex::encode(p.raw), "57414c50010000000102030400000000");
        assert_eq!(Preamble::detect(&p.raw), Some(p));
        assert_eq!(Preamble::detect(b"WALP"), None);
    }
}
