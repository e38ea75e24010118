//! Tombstone-filtered replay simulation (FORMAT.md §6.2, §8).
//!
//! Two passes over the record stream NodeDB's reader produces (each segment up to
//! its first damage; unknown optional records skipped): the first collects the
//! tombstone set and array flush watermarks, the second decides every record. Memory
//! holds only those maps and the caller's counters, never the records.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use crate::wal::WalError;
use crate::wal::log::{Event, SegmentCtx, walk_segments};
use crate::wal::payload::{self, FixedPayload};
use crate::wal::scan::{DamageKind, Item, RecordRef, ScanOptions};
use crate::wal::segment::SegmentInfo;
use crate::wal::types::RecordKind;

/// `(tenant, collection)`.
pub type CollectionKey = (u64, String);

/// The tombstone that decides a key: the highest `purge_lsn` wins (§8.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    pub purge_lsn: u64,
    /// LSN of the CollectionTombstoned record that set it (informational).
    pub record_lsn: u64,
}

/// Everything the first pass learns.
#[derive(Clone, Debug, Default)]
pub struct ReplayState {
    pub tombstones: BTreeMap<CollectionKey, Tombstone>,
    /// Highest ArrayFlush record LSN per array (§8.7).
    pub flush_watermarks: BTreeMap<CollectionKey, u64>,
    pub latest_checkpoint: Option<u64>,
    /// Tombstone records whose payload did not decode (skipped, as NodeDB does).
    pub bad_tombstones: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Applied,
    SkippedTombstoned {
        key: CollectionKey,
        tombstone: Tombstone,
    },
    SkippedUnknownOptional,
    SkippedFlushed {
        watermark: u64,
    },
    /// NodeDB 0.1.0 has no replay path for this record.
    NotReplayed,
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Applied => "applied",
            Decision::SkippedTombstoned { .. } => "skipped_tombstoned",
            Decision::SkippedUnknownOptional => "skipped_unknown_optional",
            Decision::SkippedFlushed { .. } => "skipped_flushed",
            Decision::NotReplayed => "not_replayed",
        }
    }
}

/// One sub-record of a Transaction, filtered individually (walkit's extension:
/// NodeDB 0.1.0 does not replay Transaction records).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubDecision {
    pub key: Option<CollectionKey>,
    pub decision: Decision,
}

/// The decision for one record of the stream.
pub struct Decided<'a, 'b> {
    pub ctx: &'b SegmentCtx<'a>,
    pub record: &'b RecordRef<'b>,
    pub key: Option<CollectionKey>,
    pub decision: Decision,
    pub subs: Vec<SubDecision>,
}

/// How replay ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    /// An unknown required record type: NodeDB's replay fails here.
    Failed {
        segment: String,
        offset: u64,
        lsn: u64,
        record_type: u32,
    },
}

/// Where NodeDB's reader stopped a segment early (informational, not an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentStop {
    pub segment: String,
    pub offset: u64,
    pub reason: &'static str,
}

/// Record types whose writes the tombstone predicate applies to (§8.3).
fn filtered(kind: RecordKind) -> bool {
    matches!(
        kind,
        RecordKind::Put
            | RecordKind::Delete
            | RecordKind::VectorPut
            | RecordKind::VectorDelete
            | RecordKind::VectorParams
            | RecordKind::TimeseriesBatch
            | RecordKind::LogBatch
    )
}

/// Payload bytes as the replay sees them: plaintext, or `None` if it cannot be read
/// (encrypted without a key).
pub type PayloadOf<'f> = dyn FnMut(&SegmentCtx<'_>, &RecordRef<'_>) -> Option<Vec<u8>> + 'f;

fn stream_opts() -> ScanOptions {
    ScanOptions { stop_at_damage: true, ..Default::default() }
}

/// Pass 1: tombstones, array flush watermarks and the latest checkpoint.
pub fn prepare(segments: &[SegmentInfo], payload_of: &mut PayloadOf<'_>) -> Result<ReplayState, WalError> {
    let mut st = ReplayState::default();
    walk_segments(segments, stream_opts(), &mut |ev| {
        if let Event::Item(ctx, Item::Record(r)) = &ev {
            if !r.nodedb_visible {
                return ControlFlow::Continue(());
            }
            let kind = r.header.record_type.kind();
            if !matches!(kind, Some(RecordKind::CollectionTombstoned | RecordKind::ArrayFlush | RecordKind::Checkpoint))
            {
                return ControlFlow::Continue(());
            }
            let Some(plain) = payload_of(ctx, r) else { return ControlFlow::Continue(()) };
            match kind {
                Some(RecordKind::CollectionTombstoned) => match payload::decode(kind, &plain) {
                    payload::Decoded::Fixed(FixedPayload::CollectionTombstoned(t)) => {
                        let key = (r.header.tenant_id, t.collection);
                        let newer = Tombstone { purge_lsn: t.purge_lsn, record_lsn: r.header.lsn };
                        match st.tombstones.get(&key) {
                            Some(old) if old.purge_lsn >= t.purge_lsn => {}
                            _ => {
                                st.tombstones.insert(key, newer);
                            }
                        }
                    }
                    _ => st.bad_tombstones.push(r.header.lsn),
                },
                Some(RecordKind::ArrayFlush) => {
                    for (tenant, name) in payload::collections(kind, &plain) {
                        let w = st.flush_watermarks.entry((tenant.unwrap_or(r.header.tenant_id), name)).or_insert(0);
                        *w = (*w).max(r.header.lsn);
                    }
                }
                _ => {
                    // The payload is one MessagePack uint (§4.2.7), read as NodeDB does.
                    if let Ok(c) = payload::msgpack::Decoder::new(&plain).uint() {
                        st.latest_checkpoint = Some(st.latest_checkpoint.map_or(c, |p: u64| p.max(c)));
                    }
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(st)
}

fn shadow(st: &ReplayState, key: &CollectionKey, lsn: u64) -> Option<Decision> {
    let t = st.tombstones.get(key)?;
    (lsn < t.purge_lsn).then(|| Decision::SkippedTombstoned { key: key.clone(), tombstone: t.clone() })
}

/// Pass 2: a decision for every record of the stream, in order, handed to `visit`.
/// Segment stops are reported to `on_stop`.
pub fn decide(
    segments: &[SegmentInfo],
    st: &ReplayState,
    payload_of: &mut PayloadOf<'_>,
    visit: &mut dyn FnMut(Decided<'_, '_>),
    on_stop: &mut dyn FnMut(SegmentStop),
) -> Result<Outcome, WalError> {
    let mut outcome = Outcome::Completed;
    walk_segments(segments, stream_opts(), &mut |ev| {
        let Event::Item(ctx, item) = ev else { return ControlFlow::Continue(()) };
        match item {
            Item::Damage(d) if d.kind == DamageKind::UnknownRequiredType => {
                let h = d.header.expect("unknown types have a header");
                outcome = Outcome::Failed {
                    segment: ctx.info.name.clone(),
                    offset: d.offset,
                    lsn: h.lsn,
                    record_type: h.record_type.0,
                };
                ControlFlow::Break(())
            }
            Item::Damage(d) => {
                on_stop(SegmentStop { segment: ctx.info.name.clone(), offset: d.offset, reason: d.kind.as_str() });
                ControlFlow::Continue(())
            }
            Item::Padding { offset, .. } => {
                on_stop(SegmentStop { segment: ctx.info.name.clone(), offset, reason: "zero_padding" });
                ControlFlow::Continue(())
            }
            Item::Preamble(_) => ControlFlow::Continue(()),
            Item::Record(r) => {
                let lsn = r.header.lsn;
                let tenant = r.header.tenant_id;
                let Some(kind) = r.header.record_type.kind() else {
                    visit(Decided {
                        ctx,
                        record: &r,
                        key: None,
                        decision: Decision::SkippedUnknownOptional,
                        subs: vec![],
                    });
                    return ControlFlow::Continue(());
                };
                let plain = payload_of(ctx, &r);
                let keys: Vec<CollectionKey> = plain
                    .as_deref()
                    .map(|p| {
                        payload::collections(Some(kind), p).into_iter().map(|(t, c)| (t.unwrap_or(tenant), c)).collect()
                    })
                    .unwrap_or_default();
                let mut subs = Vec::new();
                let (key, decision) = match kind {
                    k if filtered(k) => {
                        let key = keys.into_iter().next();
                        // LogBatch is filtered like the others but nothing in NodeDB replays it.
                        let unshadowed =
                            if k == RecordKind::LogBatch { Decision::NotReplayed } else { Decision::Applied };
                        (key.clone(), key.as_ref().and_then(|k| shadow(st, k, lsn)).unwrap_or(unshadowed))
                    }
                    RecordKind::ArrayPut | RecordKind::ArrayDelete => {
                        let key = keys.into_iter().next();
                        let d = key
                            .as_ref()
                            .and_then(|k| st.flush_watermarks.get(k))
                            .filter(|&&w| lsn <= w)
                            .map_or(Decision::Applied, |&w| Decision::SkippedFlushed { watermark: w });
                        (key, d)
                    }
                    RecordKind::Transaction => {
                        for k in keys {
                            let decision = shadow(st, &k, lsn).unwrap_or(Decision::Applied);
                            subs.push(SubDecision { key: Some(k), decision });
                        }
                        (None, Decision::NotReplayed)
                    }
                    RecordKind::TemporalPurge | RecordKind::Noop | RecordKind::ArrayFlush => {
                        (keys.into_iter().next(), Decision::NotReplayed)
                    }
                    _ => (keys.into_iter().next(), Decision::Applied),
                };
                visit(Decided { ctx, record: &r, key, decision, subs });
                ControlFlow::Continue(())
            }
        }
    })?;
    Ok(outcome)
}
