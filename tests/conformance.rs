//! Conformance against the NodeDB reference vectors in fixtures/nodedb: walkit must see
//! exactly what NodeDB's reader sees, and must write exactly what NodeDB writes.

use std::path::{Path, PathBuf};

use serde_json::Value;
use walkit::wal::log::{Event, walk};
use walkit::wal::scan::{Item, NodeDbView, ScanOptions};
use walkit::wal::types::RecordType;
use walkit::wal::writer::{NewRecord, WalWriter, WriterOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nodedb")
}

fn expectation(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(format!("{name}.expect.json"))).unwrap()).unwrap()
}

/// One record as NodeDB reports it, in the fields the expectations carry.
#[derive(Debug, PartialEq)]
struct Seen {
    segment: Option<String>,
    offset: u64,
    lsn: u64,
    record_type: u64,
    tenant_id: u64,
    vshard_id: u64,
    database_id: u64,
    payload_len: u64,
    crc32c: u64,
    payload_hex: String,
    header_hex: String,
}

fn expected_records(v: &Value, with_segment: bool) -> Vec<Seen> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Seen {
            segment: with_segment.then(|| r["segment"].as_str().unwrap().to_string()),
            offset: r["offset"].as_u64().unwrap(),
            lsn: r["lsn"].as_u64().unwrap(),
            record_type: r["record_type"].as_u64().unwrap(),
            tenant_id: r["tenant_id"].as_u64().unwrap(),
            vshard_id: r["vshard_id"].as_u64().unwrap(),
            database_id: r["database_id"].as_u64().unwrap(),
            payload_len: r["payload_len"].as_u64().unwrap(),
            crc32c: r["crc32c"].as_u64().unwrap(),
            payload_hex: r["payload_hex"].as_str().unwrap().to_string(),
            header_hex: r["header_hex"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// What walkit says NodeDB's reader returns, plus each segment's NodeDB view.
fn nodedb_view(path: &Path, with_segment: bool) -> (Vec<Seen>, Vec<(String, NodeDbView)>) {
    let mut seen = Vec::new();
    let mut views = Vec::new();
    walk(path, ScanOptions::default(), |ev| {
        match ev {
            Event::Item(ctx, Item::Record(r)) if r.nodedb_visible => {
                let h = r.header;
                seen.push(Seen {
                    segment: with_segment.then(|| ctx.info.name.clone()),
                    offset: r.offset,
                    lsn: h.lsn,
                    record_type: h.record_type.0 as u64,
                    tenant_id: h.tenant_id,
                    vshard_id: h.vshard_id as u64,
                    database_id: h.database_id,
                    payload_len: h.payload_len as u64,
                    crc32c: h.crc32c as u64,
                    payload_hex: hex::encode(r.payload),
                    header_hex: hex::encode(h.encode()),
                });
            }
            Event::SegmentEnd(ctx, view) => views.push((ctx.info.name.clone(), view.clone())),
            _ => {}
        }
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    (seen, views)
}

fn check_reader_outcome(reader: &Value, recovery: &Value, view: &NodeDbView, file_size: u64) {
    match reader["outcome"].as_str().unwrap() {
        "clean_end" => {
            assert_eq!(view.stop, None);
            assert_eq!(reader["end_offset"].as_u64(), Some(file_size));
        }
        "stopped_early" => {
            let (offset, why) = view.stop.expect("walkit must find NodeDB's stop point");
            assert_eq!(Some(offset), reader["stop_offset"].as_u64());
            assert_eq!(Some(why.as_str()), reader["stop_reason"].as_str());
        }
        other => panic!("outcome {other} not covered by the shipped vectors"),
    }
    assert_eq!(reader["records_returned"].as_u64(), Some(view.records_returned));
    let skipped: Vec<(u64, u64)> = reader["skipped_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["offset"].as_u64().unwrap(), s["lsn"].as_u64().unwrap()))
        .collect();
    assert_eq!(skipped, view.skipped);
    assert_eq!(recovery["last_lsn"].as_u64(), Some(view.last_lsn));
    assert_eq!(recovery["record_count"].as_u64(), Some(view.records_returned));
    assert_eq!(recovery["end_offset"].as_u64(), Some(view.end_offset));
    assert_eq!(recovery["next_lsn"].as_u64(), Some(view.last_lsn + 1));
}

#[test]
fn single_file_vectors_read_exactly_as_nodedb() {
    for name in ["all_types", "torn_tail", "bad_crc_middle", "unknown_optional"] {
        let exp = expectation(name);
        let path = fixtures().join(format!("{name}.wal"));
        let (seen, views) = nodedb_view(&path, false);
        assert_eq!(seen, expected_records(&exp, false), "{name}");
        assert_eq!(views.len(), 1);
        check_reader_outcome(&exp["reader"], &exp["recovery"], &views[0].1, exp["file_size"].as_u64().unwrap());
    }
}

#[test]
fn segmented_vector_reads_exactly_as_nodedb() {
    let exp = expectation("segmented");
    let (seen, views) = nodedb_view(&fixtures().join("segmented"), true);
    assert_eq!(seen, expected_records(&exp, true));
    let segs = exp["segments"].as_array().unwrap();
    assert_eq!(segs.len(), views.len());
    for (s, (name, view)) in segs.iter().zip(&views) {
        assert_eq!(s["name"].as_str(), Some(name.as_str()));
        check_reader_outcome(&s["reader"], &s["recovery"], view, s["file_size"].as_u64().unwrap());
    }
    assert_eq!(exp["summary"]["record_count"].as_u64(), Some(seen.len() as u64));
}

/// Re-appends every record NodeDB wrote (including skipped unknown ones, which NodeDB
/// also wrote) and compares the bytes.
fn rewrite(records: &[Value], out: &Path, segment_of: impl Fn(&Value) -> Option<String>) {
    let mut w = WalWriter::open(out, WriterOptions::default()).unwrap();
    let mut current: Option<String> = None;
    for r in records {
        let seg = segment_of(r);
        if seg.is_some() && seg != current {
            if current.is_some() {
                w.start_segment().unwrap();
            }
            current = seg;
        }
        assert_eq!(w.next_lsn(), r["lsn"].as_u64().unwrap());
        let payload = hex::decode(r["payload_hex"].as_str().unwrap()).unwrap();
        w.append(&NewRecord {
            record_type: RecordType(r["record_type"].as_u64().unwrap() as u32),
            tenant_id: r["tenant_id"].as_u64().unwrap(),
            vshard_id: r["vshard_id"].as_u64().unwrap() as u32,
            database_id: r["database_id"].as_u64().unwrap(),
            payload: &payload,
        })
        .unwrap();
    }
    w.sync().unwrap();
}

#[test]
fn writer_reproduces_all_types_byte_for_byte() {
    let exp = expectation("all_types");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.wal");
    rewrite(exp["records"].as_array().unwrap(), &out, |_| None);
    assert!(std::fs::read(&out).unwrap() == std::fs::read(fixtures().join("all_types.wal")).unwrap());
}

#[test]
fn writer_reproduces_unknown_optional_byte_for_byte() {
    let exp = expectation("unknown_optional");
    let mut records: Vec<Value> = exp["records"].as_array().unwrap().clone();
    // NodeDB skipped LSN 11 on read, but it is in the file: rebuild it from the raw bytes.
    let raw = std::fs::read(fixtures().join("unknown_optional.wal")).unwrap();
    let skipped = &exp["reader"]["skipped_records"][0];
    let off = skipped["offset"].as_u64().unwrap() as usize;
    let len = skipped["payload_len"].as_u64().unwrap() as usize;
    let mut unknown = serde_json::json!({
        "lsn": 11, "record_type": skipped["record_type"], "tenant_id": 0, "vshard_id": 0, "database_id": 0,
        "payload_hex": hex::encode(&raw[off + 54..off + 54 + len]),
    });
    unknown["tenant_id"] = u64::from_le_bytes(raw[off + 18..off + 26].try_into().unwrap()).into();
    unknown["vshard_id"] = u32::from_le_bytes(raw[off + 26..off + 30].try_into().unwrap()).into();
    records.insert(10, unknown);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.wal");
    rewrite(&records, &out, |_| None);
    assert!(std::fs::read(&out).unwrap() == raw);
}

#[test]
fn writer_reproduces_segmented_dir_segment_by_segment() {
    let exp = expectation("segmented");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("wal");
    rewrite(exp["records"].as_array().unwrap(), &out, |r| r["segment"].as_str().map(str::to_owned));
    for s in exp["segments"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let ours = std::fs::read(out.join(name)).unwrap();
        let theirs = std::fs::read(fixtures().join("segmented").join(name)).unwrap();
        assert!(ours == theirs, "segment {name} differs");
    }
}

#[test]
fn fixtures_match_their_checksums() {
    let sums = std::fs::read_to_string(fixtures().join("SHA256SUMS")).unwrap();
    let n = sums.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(n, 23, "every shipped vector is listed");
    // CRC32C of each file as recorded in the expectations guards against edits.
    for name in ["all_types", "torn_tail", "bad_crc_middle", "unknown_optional"] {
        let exp = expectation(name);
        let data = std::fs::read(fixtures().join(format!("{name}.wal"))).unwrap();
        assert_eq!(format!("0x{:08x}", crc32c::crc32c(&data)), exp["file_crc32c"].as_str().unwrap(), "{name}");
    }
}
