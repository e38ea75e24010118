//! The NodeDB WAL engine: no printing, no argument parsing — typed values and errors.

pub mod check;
pub mod corrupt;
pub mod crypto;
pub mod dwb;
pub mod header;
pub mod log;
pub mod payload;
pub mod repair;
pub mod replay;
pub mod scan;
pub mod segment;
pub mod stats;
pub mod types;
pub mod writer;

use std::path::{Path, PathBuf};

pub use header::RecordHeader;
pub use scan::{Damage, DamageKind, Item, NodeDbStop, NodeDbView, RecordRef, ScanOptions, Scanner};
pub use segment::{Preamble, SegmentData, SegmentInfo};
pub use types::{RecordKind, RecordType};

#[derive(thiserror::Error, Debug)]
pub enum WalError {
    #[error("{}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("payload of {len} bytes exceeds the 64 MiB limit")]
    PayloadTooLarge { len: usize },
    #[error("{}: WAL is damaged at byte offset {offset}{}: {reason}; run `walkit repair` first", path.display(), lsn.map(|l| format!(" (LSN {l})")).unwrap_or_default())]
    Damaged { path: PathBuf, offset: u64, lsn: Option<u64>, reason: String },
    #[error("{}: {what}", path.display())]
    Invalid { path: PathBuf, what: String },
    #[error("{}: another walkit process holds the write lock", path.display())]
    Locked { path: PathBuf },
}

impl WalError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        WalError::Io { path: path.to_path_buf(), source }
    }
}
