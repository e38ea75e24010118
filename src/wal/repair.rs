//! Cutting off damage (FORMAT.md §6.3): what NodeDB's recovery does implicitly when it
//! reopens the last segment at its end offset, made explicit and reversible — the
//! removed bytes are saved to a backup file first.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::wal::WalError;
use crate::wal::log::{Event, walk_segments};
use crate::wal::scan::{DamageKind, Item, ScanOptions};
use crate::wal::segment::{SegmentInfo, discover};

/// What `repair` would remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairPlan {
    /// The segment that is cut.
    pub segment: PathBuf,
    /// Byte offset where the cut starts (everything from here on is removed).
    pub cut_offset: u64,
    pub segment_len: u64,
    /// Why: the first damage (or tail padding) found.
    pub reason: String,
    pub lsn: Option<u64>,
    /// Valid records that would be lost with the cut (in this and later segments).
    pub records_lost: u64,
    /// Later segments removed entirely (only when records are lost).
    pub later_segments: Vec<PathBuf>,
}

impl RepairPlan {
    /// Cutting only a torn tail (or trailing zero fill) loses no valid record.
    pub fn is_tail_only(&self) -> bool {
        self.records_lost == 0 && self.later_segments.is_empty()
    }
}

/// Finds the first damage of the WAL at `path`; `None` if there is nothing to repair.
pub fn plan(path: &Path) -> Result<Option<RepairPlan>, WalError> {
    let segments = discover(path)?;
    let mut found: Option<(usize, RepairPlan)> = None;
    let mut lost = 0u64;
    let mut trailing_padding: Option<(usize, u64, u64)> = None;
    walk_segments(&segments, ScanOptions::default(), &mut |ev| {
        match ev {
            Event::SegmentStart(_) => {
                trailing_padding = None;
            }
            Event::Item(ctx, item) => match (&found, item) {
                (None, Item::Damage(d)) => {
                    let reason = match d.kind {
                        DamageKind::UnknownRequiredType => "unknown required record type".to_string(),
                        k => k.as_str().replace('_', " "),
                    };
                    found = Some((
                        ctx.index,
                        RepairPlan {
                            segment: ctx.info.path.clone(),
                            cut_offset: d.offset,
                            segment_len: ctx.size,
                            reason,
                            lsn: d.lsn(),
                            records_lost: u64::from(d.kind == DamageKind::UnknownRequiredType),
                            later_segments: Vec::new(),
                        },
                    ));
                }
                (None, Item::Padding { offset, .. }) => {
                    trailing_padding.get_or_insert((ctx.index, offset, ctx.size));
                }
                (None, Item::Record(_)) => trailing_padding = None,
                (Some(_), Item::Record(_)) => lost += 1,
                _ => {}
            },
            Event::SegmentEnd(ctx, _) => {
                if found.is_none()
                    && ctx.is_last()
                    && let Some((index, offset, size)) = trailing_padding
                {
                    found = Some((
                        index,
                        RepairPlan {
                            segment: ctx.info.path.clone(),
                            cut_offset: offset,
                            segment_len: size,
                            reason: "zero padding at the tail".into(),
                            lsn: None,
                            records_lost: 0,
                            later_segments: Vec::new(),
                        },
                    ));
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(found.map(|(index, mut p)| {
        p.records_lost += lost;
        if p.records_lost > 0 {
            p.later_segments = segments[index + 1..].iter().map(|s: &SegmentInfo| s.path.clone()).collect();
        }
        p
    }))
}

fn backup_path(segment: &Path, stamp: u64) -> PathBuf {
    let mut name = segment.as_os_str().to_owned();
    name.push(format!(".repair-{stamp}.bak"));
    PathBuf::from(name)
}

/// Saves the removed bytes (and moves later segments aside), then cuts. Returns the
/// backup files. The WAL must be locked by the caller.
pub fn apply(p: &RepairPlan) -> Result<Vec<PathBuf>, WalError> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut backups = Vec::new();
    let data = std::fs::read(&p.segment).map_err(|e| WalError::io(&p.segment, e))?;
    let cut = p.cut_offset as usize;
    if data.len() != p.segment_len as usize || cut > data.len() {
        return Err(WalError::Invalid { path: p.segment.clone(), what: "segment changed since it was checked".into() });
    }
    let backup = backup_path(&p.segment, stamp);
    let mut f = OpenOptions::new().write(true).create_new(true).open(&backup).map_err(|e| WalError::io(&backup, e))?;
    f.write_all(&data[cut..]).and_then(|()| f.sync_all()).map_err(|e| WalError::io(&backup, e))?;
    backups.push(backup);
    for later in &p.later_segments {
        let moved = backup_path(later, stamp);
        std::fs::rename(later, &moved).map_err(|e| WalError::io(later, e))?;
        backups.push(moved);
    }
    let seg = OpenOptions::new().write(true).open(&p.segment).map_err(|e| WalError::io(&p.segment, e))?;
    seg.set_len(p.cut_offset).and_then(|()| seg.sync_all()).map_err(|e| WalError::io(&p.segment, e))?;
    if let Some(dir) = p.segment.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| WalError::io(dir, e))?;
    }
    Ok(backups)
}
