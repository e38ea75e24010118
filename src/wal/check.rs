//! Structural verification of a whole WAL: CRCs, magic, versions, LSN continuity
//! within and across segments, segment names, padding, and where NodeDB's reader
//! would stop. Produces typed findings; callers decide how to print them.

use crate::wal::log::{Event, SegmentCtx};
use crate::wal::payload::{self, Decoded};
use crate::wal::scan::{DamageKind, Item};
use crate::wal::types::RecordKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    /// Damage at the very end of the log: what a crash mid-write leaves behind.
    TornTail,
    /// Damage inside the log, unknown required types, LSN discontinuities.
    Corruption,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::TornTail => "torn_tail",
            Severity::Corruption => "corruption",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub code: &'static str,
    pub segment: String,
    pub offset: Option<u64>,
    pub lsn: Option<u64>,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckSummary {
    pub segments: u64,
    pub records: u64,
    pub bytes: u64,
    pub first_lsn: Option<u64>,
    pub last_lsn: Option<u64>,
    /// Records NodeDB's reader would return.
    pub nodedb_records: u64,
}

/// Findings kept in full; beyond this only counts grow, so memory stays bounded on
/// badly damaged input.
pub const MAX_KEPT_FINDINGS: usize = 10_000;

#[derive(Default)]
pub struct Checker {
    /// With keys, encrypted records are also authenticated.
    pub keys: Option<crate::wal::crypto::KeyRing>,
    seg_preamble: Option<crate::wal::segment::Preamble>,
    pub findings: Vec<Finding>,
    pub dropped_findings: u64,
    pub summary: CheckSummary,
    worst: Option<Severity>,
    prev_lsn: Option<u64>,
    seg_first_record: bool,
    seg_records_after_stop: u64,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The most severe finding so far.
    pub fn worst(&self) -> Option<Severity> {
        self.worst
    }

    fn add(
        &mut self,
        ctx: &SegmentCtx<'_>,
        severity: Severity,
        code: &'static str,
        offset: Option<u64>,
        lsn: Option<u64>,
        message: String,
    ) {
        self.worst = self.worst.max(Some(severity));
        if self.findings.len() >= MAX_KEPT_FINDINGS {
            self.dropped_findings += 1;
            return;
        }
        self.findings.push(Finding { severity, code, segment: ctx.info.name.clone(), offset, lsn, message });
    }

    pub fn feed(&mut self, ev: &Event<'_, '_>) {
        match ev {
            Event::SegmentStart(ctx) => {
                self.summary.segments += 1;
                self.summary.bytes += ctx.size;
                self.seg_first_record = true;
                self.seg_preamble = None;
                self.seg_records_after_stop = 0;
            }
            Event::Item(ctx, item) => self.item(ctx, item),
            Event::SegmentEnd(ctx, view) => {
                self.summary.nodedb_records += view.records_returned;
                if let Some((offset, why)) = view.stop
                    && self.seg_records_after_stop > 0
                {
                    let n = self.seg_records_after_stop;
                    self.add(ctx, Severity::Warning, "nodedb_stops_early", Some(offset), None, format!(
                            "NodeDB's reader {} at offset {offset} ({}); {n} later record(s) in this segment are invisible to it",
                            if why.is_error() { "fails" } else { "stops" },
                            why.as_str()
                        ));
                }
                if ctx.size > 0 && view.end_offset == 0 && self.seg_first_record {
                    self.add(ctx, Severity::Warning, "no_records", Some(0), None,
                        "segment is non-empty but holds no record NodeDB can recover (NodeDB reports it as corrupted at start-up)".into());
                }
            }
        }
    }

    fn item(&mut self, ctx: &SegmentCtx<'_>, item: &Item<'_>) {
        match item {
            Item::Preamble(p) => {
                self.seg_preamble = Some(*p);
            }
            Item::Padding { offset, len } => {
                self.add(
                    ctx,
                    Severity::Info,
                    "zero_padding",
                    Some(*offset),
                    None,
                    format!("{len} bytes of O_DIRECT zero fill; NodeDB's reader stops here"),
                );
            }
            Item::Damage(d) => {
                let torn = d.at_tail
                    && ctx.is_last()
                    && matches!(
                        d.kind,
                        DamageKind::TornHeader | DamageKind::TornPayload | DamageKind::ChecksumMismatch
                    );
                let severity = if d.recovered {
                    Severity::Warning
                } else if torn {
                    Severity::TornTail
                } else {
                    Severity::Corruption
                };
                let mut msg = match d.kind {
                    DamageKind::TornHeader => format!("incomplete header: {} bytes", d.len),
                    DamageKind::TornPayload => {
                        let h = d.header.unwrap();
                        format!(
                            "payload_len {} but only {} bytes follow the header",
                            h.payload_len,
                            d.len.saturating_sub(54)
                        )
                    }
                    DamageKind::ChecksumMismatch => {
                        let (stored, computed) = d.crc.unwrap_or_default();
                        format!("CRC32C stored 0x{stored:08x}, computed 0x{computed:08x}")
                    }
                    DamageKind::BadMagic if d.header.is_some_and(|h| h.encode() == [0; 54]) => {
                        "zero bytes where a record header should be".into()
                    }
                    DamageKind::BadMagic => "bad magic (not a record header)".into(),
                    DamageKind::UnsupportedVersion => {
                        format!("format_version {} is not 1", d.header.map(|h| h.format_version).unwrap_or_default())
                    }
                    DamageKind::PayloadTooLarge => format!(
                        "payload_len {} exceeds the 64 MiB limit",
                        d.header.map(|h| h.payload_len).unwrap_or_default()
                    ),
                    DamageKind::UnknownRequiredType => format!(
                        "unknown record type 0x{:08x} with the required bit set; NodeDB's replay fails here",
                        d.header.map(|h| h.record_type.0).unwrap_or_default()
                    ),
                    DamageKind::UnsupportedPreambleVersion => "segment preamble version is not 1".into(),
                };
                if d.recovered {
                    msg.push_str("; an intact copy in the .dwb companion recovers it, as NodeDB's reader does");
                } else if d.kind != DamageKind::UnknownRequiredType {
                    msg.push_str(&if d.at_tail {
                        format!("; {} bytes to end of segment", d.len)
                    } else {
                        format!("; {} bytes skipped to the next valid record", d.len)
                    });
                }
                self.add(ctx, severity, d.kind.as_str(), Some(d.offset), d.lsn(), msg);
                // A damaged record whose header still carries the expected LSN keeps the
                // sequence going, so its neighbours are not reported as a gap as well.
                // (A record recovered from the .dwb follows and carries the LSN itself.)
                if let Some(lsn) = d.lsn().filter(|_| !d.recovered)
                    && (d.kind == DamageKind::UnknownRequiredType
                        || self.prev_lsn.is_some_and(|p| lsn == p.wrapping_add(1)))
                {
                    self.lsn(ctx, d.offset, lsn);
                }
            }
            Item::Record(r) => {
                let h = &r.header;
                self.summary.records += 1;
                self.summary.first_lsn.get_or_insert(h.lsn);
                self.summary.last_lsn = Some(h.lsn);
                if !r.nodedb_visible && r.header.record_type.kind().is_some() {
                    self.seg_records_after_stop += 1;
                }
                if self.seg_first_record
                    && let Some(first) = ctx.info.first_lsn
                    && h.lsn != first
                {
                    self.add(
                        ctx,
                        Severity::Corruption,
                        "segment_name_mismatch",
                        Some(r.offset),
                        Some(h.lsn),
                        format!("first record has LSN {} but the segment name says {first}", h.lsn),
                    );
                }
                self.seg_first_record = false;
                if let Some(next) = ctx.next_first_lsn
                    && h.lsn >= next
                {
                    self.add(
                        ctx,
                        Severity::Corruption,
                        "lsn_beyond_next_segment",
                        Some(r.offset),
                        Some(h.lsn),
                        format!("LSN {} is not below the next segment's first LSN {next}", h.lsn),
                    );
                }
                self.lsn(ctx, r.offset, h.lsn);
                match h.record_type.kind() {
                    None => self.add(
                        ctx,
                        Severity::Info,
                        "unknown_optional_type",
                        Some(r.offset),
                        Some(h.lsn),
                        format!("unknown optional record type 0x{:08x}; NodeDB skips it", h.record_type.0),
                    ),
                    Some(kind) => {
                        if h.record_type.is_encrypted() {
                            if let (Some(ring), Some(p)) = (&self.keys, &self.seg_preamble)
                                && crate::wal::crypto::decrypt(ring, p, h, r.payload).is_err()
                            {
                                self.add(
                                    ctx,
                                    Severity::Corruption,
                                    "authentication_failed",
                                    Some(r.offset),
                                    Some(h.lsn),
                                    "AES-GCM authentication fails with every key given (wrong key, or altered record)"
                                        .into(),
                                );
                            }
                            if self.seg_preamble.is_none() {
                                self.add(
                                    ctx,
                                    Severity::Corruption,
                                    "encrypted_without_preamble",
                                    Some(r.offset),
                                    Some(h.lsn),
                                    "encrypted record in a segment without a preamble: no epoch to decrypt it".into(),
                                );
                            }
                        } else if is_fixed_layout(kind)
                            && let Decoded::Invalid(e) = payload::decode(Some(kind), r.payload)
                        {
                            self.add(
                                ctx,
                                Severity::Warning,
                                "payload_invalid",
                                Some(r.offset),
                                Some(h.lsn),
                                format!("{} payload does not decode: {e}", kind.name()),
                            );
                        }
                    }
                }
            }
        }
    }

    fn lsn(&mut self, ctx: &SegmentCtx<'_>, offset: u64, lsn: u64) {
        if let Some(prev) = self.prev_lsn
            && lsn != prev.wrapping_add(1)
        {
            let (code, what) =
                if lsn > prev { ("lsn_gap", "gap") } else { ("lsn_not_increasing", "does not increase") };
            self.add(
                ctx,
                Severity::Corruption,
                code,
                Some(offset),
                Some(lsn),
                format!("LSN {what}: {prev} is followed by {lsn}"),
            );
        }
        self.prev_lsn = Some(lsn);
    }
}

fn is_fixed_layout(kind: RecordKind) -> bool {
    matches!(
        kind,
        RecordKind::CollectionTombstoned
            | RecordKind::TemporalPurge
            | RecordKind::SurrogateAlloc
            | RecordKind::SurrogateBind
            | RecordKind::CalvinApplied
            | RecordKind::LsnMsAnchor
            | RecordKind::ArrayPut
            | RecordKind::ArrayDelete
    )
}
