//! Appending records (FORMAT.md §2.1, §5.1–5.3, §9).
//!
//! Safety rules: an exclusive lock for every writer; the existing tail is verified
//! before anything is written and a damaged tail is refused (never write after
//! garbage); records are only ever appended at the verified end, so a crash leaves
//! the old bytes intact followed by a prefix of the new records and at most a torn tail.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::wal::WalError;
use crate::wal::crypto::{self, KeyRing};
use crate::wal::header::{MAX_PAYLOAD_LEN, RecordHeader};
use crate::wal::scan::{Item, ScanOptions, Scanner};
use crate::wal::segment::Preamble;
use crate::wal::segment::{SegmentData, discover, parse_segment_name, segment_file_name};
use crate::wal::types::RecordType;

/// NodeDB's default segment target size.
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 * 1024 * 1024;

/// A record to append; the writer assigns the LSN.
#[derive(Clone, Copy, Debug)]
pub struct NewRecord<'a> {
    pub record_type: RecordType,
    pub tenant_id: u64,
    pub vshard_id: u32,
    pub database_id: u64,
    pub payload: &'a [u8],
}

/// Where an appended record landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub lsn: u64,
    pub segment: String,
    pub offset: u64,
}

#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Roll to a new segment once the active one holds at least this many bytes
    /// (directory WALs only). 0 means the default.
    pub segment_size: u64,
    /// Wait for another writer's lock instead of failing.
    pub wait_for_lock: bool,
    /// Encrypt appended records with the ring's current key (FORMAT.md §7).
    pub encrypt: Option<KeyRing>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { segment_size: DEFAULT_SEGMENT_SIZE, wait_for_lock: false, encrypt: None }
    }
}

enum Layout {
    /// One plain file; never rolls.
    File(PathBuf),
    /// A WAL directory of `wal-<lsn>.seg` segments.
    Dir(PathBuf),
}

struct Active {
    path: PathBuf,
    name: String,
    file: Option<File>,
    /// Bytes in the segment, appended ones included.
    len: u64,
    records: u64,
    /// Set for encrypted segments: its records are encrypted under this epoch.
    preamble: Option<Preamble>,
}

pub struct WalWriter {
    layout: Layout,
    active: Option<Active>,
    next_lsn: u64,
    segment_size: u64,
    pending: Vec<u8>,
    dir_dirty: bool,
    encrypt: Option<KeyRing>,
    /// This writer created the WAL (so it may remove it again if nothing was written).
    created: bool,
    wrote: bool,
    _lock: File,
}

/// Decides how a not-yet-existing path is created: a name with an extension is a
/// single file, anything else a WAL directory.
fn wants_single_file(path: &Path) -> bool {
    path.extension().is_some()
}

impl WalWriter {
    pub fn open(path: &Path, opts: WriterOptions) -> Result<Self, WalError> {
        let exists = path.exists();
        let is_dir = if exists { path.is_dir() } else { !wants_single_file(path) };
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            return Err(WalError::Invalid {
                path: path.to_path_buf(),
                what: format!("parent directory {} does not exist", parent.display()),
            });
        }
        // The lock is an flock on the WAL itself (the file, or the directory), so no
        // lock files are left behind; readers never take it.
        let handle = if is_dir {
            if !exists {
                std::fs::create_dir(path).map_err(|e| WalError::io(path, e))?;
            }
            File::open(path)
        } else {
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)
        }
        .map_err(|e| WalError::io(path, e))?;
        let lock = match acquire_lock(handle, path, opts.wait_for_lock) {
            Ok(lock) => lock,
            Err(e) => {
                if !exists {
                    let _ = if is_dir { std::fs::remove_dir(path) } else { std::fs::remove_file(path) };
                }
                return Err(e);
            }
        };

        let segment_size = if opts.segment_size == 0 { DEFAULT_SEGMENT_SIZE } else { opts.segment_size };
        let (layout, last) = if is_dir {
            let segs = discover(path)?;
            // Never turn an unrelated directory (a home directory, a typo) into a WAL.
            if segs.is_empty() && std::fs::read_dir(path).map_err(|e| WalError::io(path, e))?.next().is_some() {
                return Err(WalError::Invalid {
                    path: path.to_path_buf(),
                    what: "directory holds other files but no wal-*.seg segment; refusing to treat it as a WAL".into(),
                });
            }
            (Layout::Dir(path.to_path_buf()), segs.last().map(|s| (s.path.clone(), s.name.clone(), s.first_lsn)))
        } else {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let first = parse_segment_name(&name);
            (Layout::File(path.to_path_buf()), Some((path.to_path_buf(), name, first)))
        };
        let mut w = WalWriter {
            layout,
            active: None,
            next_lsn: 1,
            segment_size,
            pending: Vec::new(),
            dir_dirty: !exists,
            encrypt: opts.encrypt.clone(),
            created: !exists,
            wrote: false,
            _lock: lock,
        };
        if let Some((seg_path, name, first_lsn)) = last {
            let Tail { len, records, last_lsn, preamble } = match verify_tail(&seg_path, opts.encrypt.as_ref()) {
                Ok(t) => t,
                Err(e) => {
                    w.discard_if_unused();
                    return Err(e);
                }
            };
            // A segment is all plaintext or all encrypted (§7): never mix in one.
            if records > 0 && preamble.is_none() && opts.encrypt.is_some() && !is_dir {
                w.discard_if_unused();
                return Err(WalError::Invalid {
                    path: seg_path,
                    what: "single-file WAL holds plaintext records; encrypted records cannot be added to it".into(),
                });
            }
            w.next_lsn = (last_lsn + 1).max(first_lsn.unwrap_or(1));
            w.active = Some(Active { path: seg_path, name, file: None, len, records, preamble });
        }
        Ok(w)
    }

    /// Removes the WAL again if this writer created it and never wrote to it, so a
    /// refused operation leaves no trace.
    pub fn discard_if_unused(&mut self) {
        if self.created && !self.wrote {
            self.pending.clear();
            match &self.layout {
                Layout::File(p) => {
                    let _ = std::fs::remove_file(p);
                }
                Layout::Dir(d) => {
                    if let Some(a) = self.active.take() {
                        let _ = std::fs::remove_file(a.path);
                    }
                    let _ = std::fs::remove_dir(d);
                }
            }
            self.created = false;
        }
    }

    /// Name of the segment the next record goes to, if one is open.
    pub fn active_segment_name(&self) -> Option<String> {
        self.active.as_ref().map(|a| a.name.clone())
    }

    pub fn is_directory(&self) -> bool {
        matches!(self.layout, Layout::Dir(_))
    }

    /// LSN the next appended record gets.
    pub fn next_lsn(&self) -> u64 {
        self.next_lsn
    }

    /// Buffers one record; it reaches the disk at the next `sync` (or rollover).
    pub fn append(&mut self, rec: &NewRecord<'_>) -> Result<Appended, WalError> {
        if rec.payload.len() > MAX_PAYLOAD_LEN as usize {
            return Err(WalError::PayloadTooLarge { len: rec.payload.len() });
        }
        let encrypting = self.encrypt.is_some();
        let needs_roll = match (&self.layout, &self.active) {
            (_, None) => true,
            // Roll at the target size, and rather than mixing plaintext and encrypted
            // records in one segment (§7).
            (Layout::Dir(_), Some(a)) => {
                (a.len >= self.segment_size || encrypting != a.preamble.is_some()) && a.records > 0
            }
            (Layout::File(_), Some(_)) => false,
        };
        if needs_roll {
            self.start_segment()?;
        }
        let active = self.active.as_mut().expect("segment opened above");
        if encrypting && active.preamble.is_none() && active.len == 0 {
            let p = Preamble::new(crypto::random_epoch());
            self.pending.extend_from_slice(&p.raw);
            active.len += p.raw.len() as u64;
            active.preamble = Some(p);
        }
        let lsn = self.next_lsn;
        let mut header = RecordHeader::new(rec.record_type.with_encrypted(false), lsn, rec.tenant_id, rec.vshard_id);
        header.database_id = rec.database_id;
        let stored: std::borrow::Cow<'_, [u8]> = match (&self.encrypt, &active.preamble) {
            (Some(ring), Some(p)) => {
                let ct = crypto::encrypt(&ring.current, p, &header, rec.payload);
                header.record_type = header.record_type.with_encrypted(true);
                ct.into()
            }
            (Some(_), None) => {
                return Err(WalError::Invalid {
                    path: active.path.clone(),
                    what: "segment holds plaintext records; encrypted records cannot be added to it".into(),
                });
            }
            (None, _) => rec.payload.into(),
        };
        let bytes = header.seal(&stored);
        let offset = active.len;
        self.pending.extend_from_slice(&bytes);
        self.pending.extend_from_slice(&stored);
        active.len += (bytes.len() + stored.len()) as u64;
        active.records += 1;
        self.next_lsn += 1;
        let appended = Appended { lsn, segment: active.name.clone(), offset };
        if self.pending.len() >= 4 << 20 {
            self.flush()?;
        }
        Ok(appended)
    }

    /// Seals the active segment and opens `wal-<next lsn>.seg` (directory WALs), or
    /// opens the single file on first use.
    pub fn start_segment(&mut self) -> Result<(), WalError> {
        self.flush()?;
        if let Some(a) = self.active.as_mut()
            && let Some(f) = a.file.take()
        {
            f.sync_all().map_err(|e| WalError::io(&a.path, e))?;
        }
        let (path, name) = match &self.layout {
            Layout::File(p) => {
                if self.active.is_some() {
                    return Err(WalError::Invalid {
                        path: p.clone(),
                        what: "a single-file WAL cannot hold segments".into(),
                    });
                }
                (p.clone(), p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
            }
            Layout::Dir(d) => {
                let name = segment_file_name(self.next_lsn);
                (d.join(&name), name)
            }
        };
        let file = OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| WalError::io(&path, e))?;
        self.dir_dirty = true;
        self.active = Some(Active { path, name, file: Some(file), len: 0, records: 0, preamble: None });
        Ok(())
    }

    fn flush(&mut self) -> Result<(), WalError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(a) = self.active.as_mut() else {
            return Ok(());
        };
        if a.file.is_none() {
            let f = OpenOptions::new().append(true).open(&a.path).map_err(|e| WalError::io(&a.path, e))?;
            a.file = Some(f);
        }
        let f = a.file.as_mut().unwrap();
        f.write_all(&self.pending).map_err(|e| WalError::io(&a.path, e))?;
        self.pending.clear();
        Ok(())
    }

    /// Writes everything buffered and makes it durable (file, then directory entry).
    pub fn sync(&mut self) -> Result<(), WalError> {
        self.flush()?;
        if let Some(a) = &self.active
            && let Some(f) = &a.file
        {
            f.sync_all().map_err(|e| WalError::io(&a.path, e))?;
        }
        if self.dir_dirty {
            let dir = match &self.layout {
                Layout::Dir(d) => d.clone(),
                Layout::File(p) => {
                    p.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
                }
            };
            File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| WalError::io(&dir, e))?;
            self.dir_dirty = false;
        }
        Ok(())
    }
}

/// The exclusive writer lock of an existing WAL (file or directory), for tools that
/// modify a WAL without appending (repair).
pub fn lock_existing(wal: &Path, wait: bool) -> Result<File, WalError> {
    let file = if wal.is_dir() { File::open(wal) } else { OpenOptions::new().read(true).write(true).open(wal) }
        .map_err(|e| WalError::io(wal, e))?;
    acquire_lock(file, wal, wait)
}

fn acquire_lock(file: File, wal: &Path, wait: bool) -> Result<File, WalError> {
    let lock_path = wal;
    if wait {
        file.lock().map_err(|e| WalError::io(lock_path, e))?;
    } else {
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(WalError::Locked { path: wal.to_path_buf() });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(WalError::io(lock_path, e)),
        }
    }
    Ok(file)
}

/// Scans the segment that will be appended to; returns (length, records, last LSN)
/// or refuses if anything but clean records is there.
fn verify_tail(path: &Path, ring: Option<&KeyRing>) -> Result<Tail, WalError> {
    let data = SegmentData::open(path)?;
    let mut tail = Tail { len: data.bytes().len() as u64, records: 0, last_lsn: 0, preamble: None };
    for item in Scanner::new(&data, ScanOptions::default()) {
        match item {
            Item::Record(r) => {
                tail.records += 1;
                tail.last_lsn = r.header.lsn;
                // Continuing an encrypted segment with another key would mix keys in it.
                if r.header.record_type.is_encrypted() {
                    let (Some(ring), Some(p)) = (ring, tail.preamble.as_ref()) else {
                        return Err(WalError::Invalid {
                            path: path.to_path_buf(),
                            what: "segment is encrypted; appending to it needs its key (--key-file)".into(),
                        });
                    };
                    if crypto::decrypt(&KeyRing::new(ring.current.clone()), p, &r.header, r.payload).is_err() {
                        return Err(WalError::Invalid {
                            path: path.to_path_buf(),
                            what: format!(
                                "the key does not decrypt LSN {} of this segment; refusing to mix keys",
                                r.header.lsn
                            ),
                        });
                    }
                }
            }
            Item::Preamble(p) => {
                if ring.is_none() {
                    return Err(WalError::Invalid {
                        path: path.to_path_buf(),
                        what: "segment is encrypted; appending to it needs its key (--key-file)".into(),
                    });
                }
                tail.preamble = Some(p);
            }
            Item::Padding { offset, .. } => {
                return Err(WalError::Damaged {
                    path: path.to_path_buf(),
                    offset,
                    lsn: None,
                    reason: "zero padding (O_DIRECT layout); appending would hide records from NodeDB's reader".into(),
                });
            }
            Item::Damage(d) => {
                return Err(WalError::Damaged {
                    path: path.to_path_buf(),
                    offset: d.offset,
                    lsn: d.lsn(),
                    reason: d.kind.as_str().replace('_', " "),
                });
            }
        }
    }
    Ok(tail)
}

/// What the segment to append to holds.
struct Tail {
    len: u64,
    records: u64,
    last_lsn: u64,
    preamble: Option<Preamble>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::types::RecordKind;

    fn rec(payload: &[u8]) -> NewRecord<'_> {
        NewRecord { record_type: RecordKind::Put.record_type(), tenant_id: 1, vshard_id: 2, database_id: 0, payload }
    }

    #[test]
    fn writes_spec_example_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wal");
        let mut w = WalWriter::open(&path, WriterOptions::default()).unwrap();
        assert_eq!(w.append(&rec(b"hello")).unwrap().lsn, 1);
        w.sync().unwrap();
        drop(w);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(hex::encode(&bytes[50..54]), "4be7a028");
        let mut w = WalWriter::open(&path, WriterOptions::default()).unwrap();
        assert_eq!(w.next_lsn(), 2);
        let a = w.append(&rec(b"!")).unwrap();
        assert_eq!((a.lsn, a.offset), (2, 59));
    }

    #[test]
    fn second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _w = WalWriter::open(&dir.path().join("wal"), WriterOptions::default()).unwrap();
        let err = WalWriter::open(&dir.path().join("wal"), WriterOptions::default()).err().unwrap();
        assert!(matches!(err, WalError::Locked { .. }), "{err}");
    }

    #[test]
    fn rolls_segments_and_refuses_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("wal");
        let mut w = WalWriter::open(&wal, WriterOptions { segment_size: 100, ..Default::default() }).unwrap();
        for _ in 0..5 {
            w.append(&rec(&[7; 40])).unwrap();
        }
        w.sync().unwrap();
        drop(w);
        let names: Vec<String> = discover(&wal).unwrap().into_iter().map(|s| s.name).collect();
        // 94-byte records: the second one reaches the 100-byte target, so every
        // segment holds two.
        assert_eq!(
            names,
            ["wal-00000000000000000001.seg", "wal-00000000000000000003.seg", "wal-00000000000000000005.seg"]
        );
        let last = wal.join("wal-00000000000000000005.seg");
        let len = std::fs::metadata(&last).unwrap().len();
        OpenOptions::new().write(true).open(&last).unwrap().set_len(len - 3).unwrap();
        let err = WalWriter::open(&wal, WriterOptions::default()).err().unwrap();
        assert!(err.to_string().contains("torn payload"), "{err}");
        assert!(err.to_string().contains("walkit repair"), "{err}");
    }
}
