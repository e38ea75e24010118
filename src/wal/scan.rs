//! The streaming segment scanner (FORMAT.md §5.5, §5.6, §6.1).
//!
//! It walks one segment's bytes and yields every structure it finds — preamble,
//! records, zero padding and classified damage — resynchronising after damage so
//! nothing recoverable is hidden. Alongside, it tracks what NodeDB's own reader
//! would see (which records it returns, where and why it stops, and the
//! `recover()` result), so both views come from a single pass.

use crate::wal::header::*;
use crate::wal::segment::{DIRECT_IO_ALIGNMENT, PREAMBLE_LEN, Preamble, SegmentData};

/// Why bytes at some offset are not a valid record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DamageKind {
    TornHeader,
    TornPayload,
    ChecksumMismatch,
    BadMagic,
    UnsupportedVersion,
    PayloadTooLarge,
    UnknownRequiredType,
    UnsupportedPreambleVersion,
}

impl DamageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DamageKind::TornHeader => "torn_header",
            DamageKind::TornPayload => "torn_payload",
            DamageKind::ChecksumMismatch => "checksum_mismatch",
            DamageKind::BadMagic => "bad_magic",
            DamageKind::UnsupportedVersion => "unsupported_version",
            DamageKind::PayloadTooLarge => "payload_too_large",
            DamageKind::UnknownRequiredType => "unknown_required_type",
            DamageKind::UnsupportedPreambleVersion => "unsupported_preamble_version",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub kind: DamageKind,
    pub offset: u64,
    /// Bytes from `offset` to where scanning resumed (or to the end of the segment).
    pub len: u64,
    /// The damaged header, when all 54 bytes of it exist.
    pub header: Option<RecordHeader>,
    /// CRC stored in the header and CRC computed over the stored bytes.
    pub crc: Option<(u32, u32)>,
    /// True when no valid record follows in this segment.
    pub at_tail: bool,
    /// An intact copy of this record exists in the `.dwb` companion (it follows as a record).
    pub recovered: bool,
}

impl Damage {
    pub fn lsn(&self) -> Option<u64> {
        self.header.filter(|h| h.magic == MAGIC).map(|h| h.lsn)
    }
}

/// A structurally valid record (magic, version, length and CRC all check out).
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    pub offset: u64,
    pub header: RecordHeader,
    pub payload: &'a [u8],
    /// Whether NodeDB's reader returns this record (it skips unknown optional types and
    /// sees nothing after its first stop).
    pub nodedb_visible: bool,
    /// The record's CRC failed in the segment and this intact copy came from slot N of
    /// the segment's `.dwb` companion, as NodeDB's reader would use it.
    pub dwb_slot: Option<usize>,
}

impl RecordRef<'_> {
    pub fn total_len(&self) -> u64 {
        (HEADER_LEN + self.payload.len()) as u64
    }
}

#[derive(Clone, Debug)]
pub enum Item<'a> {
    Preamble(Preamble),
    Record(RecordRef<'a>),
    Padding { offset: u64, len: u64 },
    Damage(Damage),
}

/// NodeDB's stop reasons, as the reference expectations name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeDbStop {
    TruncatedHeader,
    TruncatedPayload,
    InvalidMagic,
    UnsupportedVersion,
    ChecksumMismatch,
    /// Not a stop but an error: replay fails.
    UnknownRequiredType,
    UnsupportedPreambleVersion,
}

impl NodeDbStop {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeDbStop::TruncatedHeader => "truncated_header",
            NodeDbStop::TruncatedPayload => "truncated_payload",
            NodeDbStop::InvalidMagic => "invalid_magic",
            NodeDbStop::UnsupportedVersion => "unsupported_version",
            NodeDbStop::ChecksumMismatch => "checksum_mismatch",
            NodeDbStop::UnknownRequiredType => "unknown_required_type",
            NodeDbStop::UnsupportedPreambleVersion => "unsupported_preamble_version",
        }
    }
    pub fn is_error(self) -> bool {
        matches!(self, NodeDbStop::UnknownRequiredType | NodeDbStop::UnsupportedPreambleVersion)
    }
}

/// What NodeDB's `WalReader` and `recovery::recover` report for one segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeDbView {
    pub stop: Option<(u64, NodeDbStop)>,
    pub records_returned: u64,
    pub last_lsn: u64,
    /// `recover()`'s end offset, including its quirk with skipped unknown records.
    pub end_offset: u64,
    /// Offsets and LSNs of unknown optional records the reader skipped.
    pub skipped: Vec<(u64, u64)>,
    call_start: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ScanOptions {
    /// End the scan at the first point where NodeDB's reader stops.
    pub stop_at_damage: bool,
    /// Leave resident pages alone: set when items are consumed later (on other threads),
    /// and the consumer releases them itself with `SegmentData::release`.
    pub keep_pages: bool,
}

pub struct Scanner<'a> {
    seg: &'a SegmentData,
    data: &'a [u8],
    pos: usize,
    opts: ScanOptions,
    started: bool,
    done: bool,
    pub nodedb: NodeDbView,
    released_to: usize,
    /// A record recovered from the `.dwb`, emitted right after its damage item.
    pending: Option<Item<'a>>,
}

/// Where scanning continues after damage.
enum Resume {
    /// The damaged record's extent is trustworthy: continue right after it.
    At(usize),
    /// Look for the next valid header.
    Search,
}

/// Resident pages behind the cursor are released in steps of this size.
const RELEASE_STEP: usize = 4 << 20;

impl<'a> Scanner<'a> {
    pub fn new(seg: &'a SegmentData, opts: ScanOptions) -> Self {
        Scanner {
            seg,
            data: seg.bytes(),
            pos: 0,
            opts,
            started: false,
            done: false,
            nodedb: NodeDbView::default(),
            released_to: 0,
            pending: None,
        }
    }

    /// Continues a scan of a segment that has grown: starts at `pos` (a record
    /// boundary found by an earlier scan) with NodeDB's view as it was there.
    pub fn resume(seg: &'a SegmentData, opts: ScanOptions, pos: usize, nodedb: NodeDbView) -> Self {
        let mut s = Scanner::new(seg, opts);
        s.started = true;
        s.pos = pos;
        s.released_to = pos;
        s.nodedb = nodedb;
        if pos >= s.data.len() {
            s.done = true;
        }
        s
    }

    /// Byte offset the scan has reached.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    fn nodedb_stop(&mut self, at: usize, why: NodeDbStop) {
        if self.nodedb.stop.is_none() {
            self.nodedb.stop = Some((at as u64, why));
        }
    }

    /// NodeDB's reader returns record `h` and continues at `next`.
    fn nodedb_return(&mut self, h: &RecordHeader, next: usize) {
        self.nodedb.records_returned += 1;
        self.nodedb.last_lsn = h.lsn;
        self.nodedb.end_offset = self.nodedb.call_start + (HEADER_LEN as u64) + h.payload_len as u64;
        self.nodedb.call_start = next as u64;
    }

    fn finish(&mut self) {
        self.done = true;
        if !self.opts.keep_pages {
            self.seg.release(self.released_to, self.data.len());
        }
    }

    fn damage(
        &mut self,
        kind: DamageKind,
        at: usize,
        header: Option<RecordHeader>,
        crc: Option<(u32, u32)>,
        resume: Resume,
    ) -> Item<'a> {
        let stop_here = self.opts.stop_at_damage && self.nodedb.stop.is_some();
        let resume = match resume {
            _ if stop_here => None,
            Resume::At(r) if r < self.data.len() => Some(r),
            Resume::At(_) => None,
            Resume::Search => resync(self.data, at + 1),
        };
        let end = resume.unwrap_or(self.data.len());
        match resume {
            Some(r) => self.pos = r,
            None => self.finish(),
        }
        Item::Damage(Damage {
            kind,
            offset: at as u64,
            len: (end - at) as u64,
            header,
            crc,
            at_tail: resume.is_none() && !stop_here,
            recovered: false,
        })
    }

    fn step(&mut self) -> Option<Item<'a>> {
        if let Some(item) = self.pending.take() {
            if self.pos >= self.data.len() {
                self.finish();
            }
            return Some(item);
        }
        if self.done {
            return None;
        }
        let data = self.data;
        if !self.started {
            self.started = true;
            if let Some(p) = Preamble::detect(data) {
                self.pos = PREAMBLE_LEN;
                self.nodedb.call_start = PREAMBLE_LEN as u64;
                if p.version != crate::wal::segment::PREAMBLE_VERSION {
                    self.nodedb_stop(0, NodeDbStop::UnsupportedPreambleVersion);
                    let item = Item::Damage(Damage {
                        kind: DamageKind::UnsupportedPreambleVersion,
                        offset: 0,
                        len: PREAMBLE_LEN as u64,
                        header: None,
                        crc: None,
                        at_tail: false,
                        recovered: false,
                    });
                    if self.opts.stop_at_damage {
                        self.finish();
                    }
                    return Some(item);
                }
                return Some(Item::Preamble(p));
            }
        }
        if !self.opts.keep_pages && self.pos >= self.released_to + RELEASE_STEP {
            self.seg.release(self.released_to, self.pos);
            self.released_to = self.pos;
        }
        let at = self.pos;
        let rest = &data[at..];
        if rest.is_empty() {
            self.finish();
            return None;
        }
        if let Some(len) = zero_fill_len(data, at) {
            let why = if rest.len() < HEADER_LEN { NodeDbStop::TruncatedHeader } else { NodeDbStop::InvalidMagic };
            self.nodedb_stop(at, why);
            self.pos = at + len;
            if self.opts.stop_at_damage || self.pos >= data.len() {
                self.finish();
            }
            return Some(Item::Padding { offset: at as u64, len: len as u64 });
        }
        if rest.len() < HEADER_LEN {
            self.nodedb_stop(at, NodeDbStop::TruncatedHeader);
            return Some(self.damage(DamageKind::TornHeader, at, None, None, Resume::Search));
        }
        let h = RecordHeader::decode(rest[..HEADER_LEN].try_into().unwrap());
        if h.magic != MAGIC {
            self.nodedb_stop(at, NodeDbStop::InvalidMagic);
            return Some(self.damage(DamageKind::BadMagic, at, Some(h), None, Resume::Search));
        }
        if h.format_version != FORMAT_VERSION {
            self.nodedb_stop(at, NodeDbStop::UnsupportedVersion);
            return Some(self.damage(DamageKind::UnsupportedVersion, at, Some(h), None, Resume::Search));
        }
        let total = HEADER_LEN + h.payload_len as usize;
        let fits = rest.len() >= total;
        let computed = fits.then(|| record_crc(rest[..HEADER_LEN].try_into().unwrap(), &rest[HEADER_LEN..total]));
        let crc_ok = computed == Some(h.crc32c);
        if h.payload_len > MAX_STORED_PAYLOAD_LEN {
            // NodeDB has no length limit: it stops only if the bytes are missing or the CRC fails.
            if !fits {
                self.nodedb_stop(at, NodeDbStop::TruncatedPayload);
            } else if !crc_ok {
                self.nodedb_stop(at, NodeDbStop::ChecksumMismatch);
            } else if self.nodedb.stop.is_none() {
                self.nodedb_return(&h, at + total);
            }
            let resume = if crc_ok { Resume::At(at + total) } else { Resume::Search };
            return Some(self.damage(
                DamageKind::PayloadTooLarge,
                at,
                Some(h),
                computed.map(|c| (h.crc32c, c)),
                resume,
            ));
        }
        if !fits {
            self.nodedb_stop(at, NodeDbStop::TruncatedPayload);
            return Some(self.damage(DamageKind::TornPayload, at, Some(h), None, Resume::Search));
        }
        if !crc_ok {
            // NodeDB's reader repairs the record from the double-write buffer when it
            // holds an intact copy with the same LSN, and continues after the damaged extent.
            if let Some((slot, copy)) = self.seg.dwb().and_then(|d| d.find(h.lsn)) {
                let copy_header = RecordHeader::decode(copy[..HEADER_LEN].try_into().unwrap());
                self.pos = at + total;
                self.pending = Some(Item::Record(RecordRef {
                    offset: at as u64,
                    header: copy_header,
                    payload: &copy[HEADER_LEN..],
                    nodedb_visible: self.nodedb.stop.is_none(),
                    dwb_slot: Some(slot),
                }));
                if self.nodedb.stop.is_none() {
                    // It continues after the damaged record's own extent, not the copy's.
                    self.nodedb_return(&copy_header, at + total);
                }
                return Some(Item::Damage(Damage {
                    kind: DamageKind::ChecksumMismatch,
                    offset: at as u64,
                    len: total as u64,
                    header: Some(h),
                    crc: computed.map(|c| (h.crc32c, c)),
                    at_tail: false,
                    recovered: true,
                }));
            }
            self.nodedb_stop(at, NodeDbStop::ChecksumMismatch);
            // Trust the declared extent only if a valid record (or the end) follows it.
            let next = at + total;
            let resume = if valid_record_at(data, next) { Resume::At(next) } else { Resume::Search };
            return Some(self.damage(
                DamageKind::ChecksumMismatch,
                at,
                Some(h),
                computed.map(|c| (h.crc32c, c)),
                resume,
            ));
        }
        self.pos = at + total;
        if h.record_type.kind().is_none() && h.record_type.is_required() {
            self.nodedb_stop(at, NodeDbStop::UnknownRequiredType);
            let item = Item::Damage(Damage {
                kind: DamageKind::UnknownRequiredType,
                offset: at as u64,
                len: total as u64,
                header: Some(h),
                crc: None,
                at_tail: false,
                recovered: false,
            });
            if self.opts.stop_at_damage || self.pos >= data.len() {
                self.finish();
            }
            return Some(item);
        }
        let visible = self.nodedb.stop.is_none() && h.record_type.kind().is_some();
        if visible {
            self.nodedb_return(&h, at + total);
        } else if self.nodedb.stop.is_none() {
            self.nodedb.skipped.push((at as u64, h.lsn));
        }
        if self.pos >= data.len() {
            self.finish();
        }
        Some(Item::Record(RecordRef {
            offset: at as u64,
            header: h,
            payload: &rest[HEADER_LEN..total],
            nodedb_visible: visible,
            dwb_slot: None,
        }))
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Item<'a>;
    fn next(&mut self) -> Option<Item<'a>> {
        self.step()
    }
}

/// Length of zero fill starting at `at`: O_DIRECT padding (zeros from a non-aligned
/// offset up to the next 4 KiB boundary), or zeros up to the end of the file.
fn zero_fill_len(data: &[u8], at: usize) -> Option<usize> {
    let align = DIRECT_IO_ALIGNMENT as usize;
    // Zeros all the way to the end (preallocated space) read the same as padding.
    if data[at..].iter().all(|&b| b == 0) {
        return Some(data.len() - at);
    }
    if at.is_multiple_of(align) {
        return None;
    }
    let end = (at.div_ceil(align) * align).min(data.len());
    data[at..end].iter().all(|&b| b == 0).then_some(end - at)
}

/// Whether a complete record with valid magic, version, length and CRC starts at `at`.
pub fn valid_record_at(data: &[u8], at: usize) -> bool {
    let Some(rest) = data.get(at..) else {
        return false;
    };
    if rest.len() < HEADER_LEN || rest[..4] != MAGIC_BYTES {
        return false;
    }
    let h = RecordHeader::decode(rest[..HEADER_LEN].try_into().unwrap());
    let total = HEADER_LEN + h.payload_len as usize;
    h.format_version == FORMAT_VERSION
        && h.payload_len <= MAX_STORED_PAYLOAD_LEN
        && rest.len() >= total
        && record_crc(rest[..HEADER_LEN].try_into().unwrap(), &rest[HEADER_LEN..total]) == h.crc32c
}

/// Next offset ≥ `from` where a valid record starts.
pub fn resync(data: &[u8], from: usize) -> Option<usize> {
    let finder = memchr::memmem::Finder::new(&MAGIC_BYTES);
    let mut search = from;
    while search < data.len() {
        let hit = search + finder.find(&data[search..])?;
        if valid_record_at(data, hit) {
            return Some(hit);
        }
        search = hit + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::types::{RecordKind, RecordType};

    fn record(lsn: u64, rt: RecordType, payload: &[u8]) -> Vec<u8> {
        let mut h = RecordHeader::new(rt, lsn, 1, 0);
        let mut out = h.seal(payload).to_vec();
        out.extend_from_slice(payload);
        out
    }

    fn put(lsn: u64) -> Vec<u8> {
        record(lsn, RecordKind::Put.record_type(), b"x")
    }

    fn kinds(data: Vec<u8>, opts: ScanOptions) -> (Vec<String>, NodeDbView) {
        let seg = SegmentData::from_vec(data);
        let mut s = Scanner::new(&seg, opts);
        let items = s
            .by_ref()
            .map(|i| match i {
                Item::Preamble(_) => "preamble".to_string(),
                Item::Record(r) => format!("rec@{}{}", r.offset, if r.nodedb_visible { "" } else { "*" }),
                Item::Padding { offset, len } => format!("pad@{offset}+{len}"),
                Item::Damage(d) => {
                    format!("{}@{}+{}{}", d.kind.as_str(), d.offset, d.len, if d.at_tail { "$" } else { "" })
                }
            })
            .collect();
        (items, s.nodedb)
    }

    #[test]
    fn recover_quirk_with_skipped_unknown_records() {
        // Put, unknown, Put, unknown — 55 bytes each — recover() reports 110 (§6.3).
        let unknown = |lsn| record(lsn, RecordType(0x63), b"y");
        let data = [put(1), unknown(2), put(3), unknown(4)].concat();
        let (items, v) = kinds(data, ScanOptions::default());
        assert_eq!(items, ["rec@0", "rec@55*", "rec@110", "rec@165*"]);
        assert_eq!((v.records_returned, v.last_lsn, v.end_offset), (2, 3, 110));
        assert_eq!(v.stop, None);
    }

    #[test]
    fn resyncs_after_a_corrupt_record() {
        let mut data = [put(1), put(2), put(3)].concat();
        data[55 + 54] ^= 0xff; // payload byte of LSN 2
        let (items, v) = kinds(data.clone(), ScanOptions::default());
        assert_eq!(items, ["rec@0", "checksum_mismatch@55+55", "rec@110*"]);
        assert_eq!(v.stop, Some((55, NodeDbStop::ChecksumMismatch)));
        let (items, _) = kinds(data, ScanOptions { stop_at_damage: true, ..Default::default() });
        assert_eq!(items, ["rec@0", "checksum_mismatch@55+110"]);
    }

    #[test]
    fn garbage_in_the_middle_is_skipped_to_the_next_valid_header() {
        let data = [put(1), vec![0xAB; 10], put(2)].concat();
        let (items, _) = kinds(data, ScanOptions::default());
        assert_eq!(items, ["rec@0", "bad_magic@55+10", "rec@65*"]);
    }

    #[test]
    fn zero_fill_to_the_boundary_is_padding() {
        let mut data = put(1);
        data.resize(4096, 0);
        data.extend(put(2));
        data.resize(8192, 0);
        let (items, v) = kinds(data, ScanOptions::default());
        assert_eq!(items, ["rec@0", "pad@55+4041", "rec@4096*", "pad@4151+4041"]);
        assert_eq!(v.stop, Some((55, NodeDbStop::InvalidMagic)));
        assert_eq!(v.records_returned, 1);
    }

    #[test]
    fn torn_tails() {
        let data = [put(1), put(2)].concat();
        let (items, v) = kinds(data[..100].to_vec(), ScanOptions::default());
        assert_eq!(items, ["rec@0", "torn_header@55+45$"]);
        assert_eq!(v.stop, Some((55, NodeDbStop::TruncatedHeader)));
        let (items, _) = kinds(data[..109].to_vec(), ScanOptions::default());
        assert_eq!(items, ["rec@0", "torn_payload@55+54$"]);
    }

    #[test]
    fn unknown_required_type_is_reported_and_passed() {
        let data = [put(1), record(2, RecordType(0x8063), b""), put(3)].concat();
        let (items, v) = kinds(data, ScanOptions::default());
        assert_eq!(items, ["rec@0", "unknown_required_type@55+54", "rec@109*"]);
        assert_eq!(v.stop, Some((55, NodeDbStop::UnknownRequiredType)));
    }

    #[test]
    fn oversized_length_is_damage_even_with_enough_bytes_missing() {
        let mut data = put(1);
        let mut h = RecordHeader::new(RecordKind::Put.record_type(), 2, 0, 0);
        h.payload_len = MAX_STORED_PAYLOAD_LEN + 1;
        data.extend(h.encode());
        let (items, v) = kinds(data, ScanOptions::default());
        assert_eq!(items, ["rec@0", "payload_too_large@55+54$"]);
        assert_eq!(v.stop, Some((55, NodeDbStop::TruncatedPayload)));
    }
}
