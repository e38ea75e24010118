//! Property tests: codecs round-trip, and no byte sequence makes the scanner panic or
//! lose a valid record.

use proptest::prelude::*;
use serde_json::json;
use walkit::wal::header::RecordHeader;
use walkit::wal::payload::fixed::*;
use walkit::wal::payload::{self, FixedPayload};
use walkit::wal::scan::{Item, ScanOptions, Scanner};
use walkit::wal::segment::SegmentData;
use walkit::wal::types::{RecordKind, RecordType};

fn record_bytes(rt: u32, lsn: u64, tenant: u64, vshard: u32, db: u64, payload: &[u8]) -> Vec<u8> {
    let mut h = RecordHeader::new(RecordType(rt), lsn, tenant, vshard);
    h.database_id = db;
    let mut out = h.seal(payload).to_vec();
    out.extend_from_slice(payload);
    out
}

/// Payload JSON → bytes → JSON → bytes must be a fixed point.
fn assert_round_trip(kind: RecordKind, v: &serde_json::Value) -> Result<(), TestCaseError> {
    let bytes = payload::encode(Some(kind), v).map_err(|e| TestCaseError::fail(format!("{e}: {v}")))?;
    let decoded = payload::decode(Some(kind), &bytes).to_json().ok_or_else(|| TestCaseError::fail("not decoded"))?;
    let again = payload::encode(Some(kind), &decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, &bytes, "{} -> {}", v, decoded);
    Ok(())
}

fn name() -> impl Strategy<Value = String> {
    "[a-z_]{0,40}"
}

proptest! {
    #[test]
    fn header_round_trips(rt: u32, lsn: u64, tenant: u64, vshard: u32, db: u64, payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let bytes = record_bytes(rt, lsn, tenant, vshard, db, &payload);
        let h = RecordHeader::decode(bytes[..54].try_into().unwrap());
        prop_assert_eq!((h.record_type.0, h.lsn, h.tenant_id, h.vshard_id, h.database_id), (rt, lsn, tenant, vshard, db));
        prop_assert_eq!(h.payload_len as usize, payload.len());
        prop_assert_eq!(h.encode().to_vec(), bytes[..54].to_vec());
    }

    #[test]
    fn fixed_payloads_round_trip(c in name(), n: u64, i: i64, s: u32, pk in proptest::collection::vec(any::<u8>(), 0..40), engine in 1u8..=5) {
        let cases = [
            FixedPayload::CollectionTombstoned(CollectionTombstone { collection: c.clone(), purge_lsn: n }),
            FixedPayload::TemporalPurge(TemporalPurge { engine: PurgeEngine::from_code(engine).unwrap(), name: c.clone(), cutoff_system_ms: i, purged_count: n }),
            FixedPayload::SurrogateAlloc(SurrogateAlloc { hi: s }),
            FixedPayload::SurrogateBind(SurrogateBind { surrogate: s, collection: c.clone(), pk }),
            FixedPayload::CalvinApplied(CalvinApplied { epoch: n, position: s, vshard_id: s ^ 1 }),
            FixedPayload::LsnMsAnchor(LsnMsAnchor { lsn: n, wall_ms: i }),
        ];
        for (case, kind) in cases.iter().zip([RecordKind::CollectionTombstoned, RecordKind::TemporalPurge, RecordKind::SurrogateAlloc, RecordKind::SurrogateBind, RecordKind::CalvinApplied, RecordKind::LsnMsAnchor]) {
            let v = case.to_json();
            let bytes = payload::encode(Some(kind), &v).unwrap();
            match payload::decode(Some(kind), &bytes) {
                payload::Decoded::Fixed(back) => prop_assert_eq!(&back, case),
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
        }
    }

    #[test]
    fn msgpack_forms_round_trip(c in name(), id in "[ -~]{0,50}", key in proptest::collection::vec(any::<u8>(), 0..300), n: u64, i: i64, f: f64,
                                vector in proptest::collection::vec(-1e30f32..1e30f32, 0..40)) {
        prop_assume!(f.is_finite());
        assert_round_trip(RecordKind::Put, &json!({"form": "document_put", "collection": c, "document_id": id, "value": key}))?;
        assert_round_trip(RecordKind::Put, &json!({"form": "kv_put", "collection": c, "key": key, "value": id, "ttl_ms": n}))?;
        assert_round_trip(RecordKind::Put, &json!({"form": "kv_incr", "collection": c, "key": key, "delta": i, "ttl_ms": n}))?;
        assert_round_trip(RecordKind::Put, &json!({"form": "kv_incr_float", "collection": c, "key": key, "delta": f}))?;
        assert_round_trip(RecordKind::Delete, &json!({"form": "kv_delete", "collection": c, "keys": [key, id]}))?;
        assert_round_trip(RecordKind::VectorPut, &json!({"form": "vector_put", "collection": c, "vector": vector, "dim": vector.len(), "field_name": id, "doc_id": null, "surrogate": n}))?;
        assert_round_trip(RecordKind::Checkpoint, &json!({"checkpoint_lsn": n}))?;
        assert_round_trip(RecordKind::ArrayDelete, &json!({"form": "array_delete", "array_id": {"tenant_id": n, "name": c},
            "cells": [{"coord": [{"Int64": [i]}, {"String": [id]}, {"Float64": [f]}], "system_from_ms": i, "erasure": true}]}))?;
        assert_round_trip(RecordKind::Transaction, &json!({"form": "transaction", "sub_records": [
            {"sub_type": 32769, "entry": {"tenant_id": n, "vshard_id": 3, "idempotency_key": n | 1,
                "write": {"KvPut": {"collection": c, "key": key, "value": id, "ttl_ms": 0}}}}]}))?;
    }

    #[test]
    fn scanner_never_panics_and_accounts_for_every_byte(garbage in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..400) {
        let mut data = record_bytes(0x8001, 1, 1, 0, 0, b"first");
        data.extend_from_slice(&garbage);
        data.extend(record_bytes(0x8002, 2, 1, 0, 0, b"second"));
        let cut = cut.min(data.len() - 59); // never into the first record
        data.truncate(data.len() - cut);
        let len = data.len() as u64;
        let seg = SegmentData::from_vec(data);
        let mut covered = 0u64;
        let mut lsns = Vec::new();
        for item in Scanner::new(&seg, ScanOptions::default()) {
            match item {
                Item::Record(r) => {
                    prop_assert_eq!(r.offset, covered);
                    covered += r.total_len();
                    lsns.push(r.header.lsn);
                }
                Item::Damage(d) => {
                    prop_assert_eq!(d.offset, covered);
                    covered += d.len;
                }
                Item::Padding { offset, len } => {
                    prop_assert_eq!(offset, covered);
                    covered += len;
                }
                Item::Preamble(_) => covered += 16,
            }
        }
        // Every byte is a record, damage or padding; the intact first record is kept.
        prop_assert_eq!(covered, len);
        prop_assert_eq!(lsns.first().copied(), Some(1));
        if cut == 0 {
            prop_assert_eq!(lsns.last().copied(), Some(2));
        }
    }

    #[test]
    fn deep_nesting_stays_parseable(depth in 90usize..400) {
        // Every JSON line walkit prints must parse, however deep the MessagePack.
        let mut bytes = vec![0x91u8; depth];
        bytes.push(0);
        for kind in [RecordKind::CrdtDelta, RecordKind::Put, RecordKind::Transaction] {
            let mut out = Vec::new();
            payload::render(Some(kind), &bytes, &mut out);
            if !out.is_empty() {
                prop_assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
            }
            let _ = payload::decode(Some(kind), &bytes).to_json();
        }
    }

    #[test]
    fn decoding_arbitrary_payloads_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), code in 0usize..20) {
        let kind = RecordKind::ALL[code];
        let d = payload::decode(Some(kind), &bytes);
        if let Some(v) = d.to_json() {
            // Whatever decodes must encode again (generic forms may normalise).
            let _ = payload::encode(Some(kind), &v);
        }
        let _ = payload::collections(Some(kind), &bytes);
    }
}
