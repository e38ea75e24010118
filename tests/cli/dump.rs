use super::*;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn jsonl_reports_every_record_exactly() {
    let (code, out, _) = run(&["dump", "--format", "jsonl", p(&nodedb("all_types.wal"))]);
    assert_eq!(code, 0);
    let lines = jsonl(&out);
    assert_eq!(lines.len(), 34);
    let first = &lines[0];
    assert_eq!(first["kind"], "record");
    assert_eq!(first["segment"], "all_types.wal");
    assert_eq!((first["offset"].as_u64(), first["lsn"].as_u64()), (Some(0), Some(1)));
    assert_eq!(first["type"], "Put");
    assert_eq!(first["record_type"], 32769);
    assert_eq!(first["crc32c"], 1415438872u64);
    assert_eq!(first["payload"]["form"], "document_put");
    assert_eq!(first["payload"]["collection"], "orders");
    assert_eq!(first["payload"]["value"]["msgpack"]["id"], "o-0001");
    // u64 values above 2^53 must print exactly.
    assert!(out.contains("\"tenant_id\":18446744073709551614,\"vshard_id\":4294967295"), "{out}");
    let tomb = lines.iter().find(|l| l["type"] == "CollectionTombstoned").unwrap();
    assert_eq!(tomb["payload"], serde_json::json!({"collection": "scratch", "purge_lsn": 23}));
}

#[test]
fn json_is_one_array_of_the_same_objects() {
    let (_, out, _) = run(&["dump", "--format", "json", p(&nodedb("torn_tail.wal"))]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(items[9]["kind"], "damage");
    assert_eq!(items[9]["reason"], "torn_payload");
    assert_eq!(items[9]["offset"], 1289);
    assert_eq!(items[9]["lsn"], 10);
    assert_eq!(items[9]["at_tail"], true);
    let (_, empty, _) = run(&["dump", "--format", "json", "--type", "noop", p(&nodedb("torn_tail.wal"))]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&empty).unwrap().as_array().unwrap().len(), 1);
}

#[test]
fn damage_is_classified_with_both_crcs() {
    let (_, out, _) = run(&["dump", "--format", "jsonl", p(&nodedb("bad_crc_middle.wal"))]);
    let lines = jsonl(&out);
    let d = lines.iter().find(|l| l["kind"] == "damage").unwrap();
    assert_eq!(d["reason"], "checksum_mismatch");
    assert_eq!((d["offset"].as_u64(), d["lsn"].as_u64()), (Some(779), Some(5)));
    assert_eq!(d["expected_crc32c"], 2074843218u64);
    assert_eq!(d["computed_crc32c"], 3024778738u64);
    // The full scan resyncs and shows LSN 6..10, which NodeDB's reader cannot see.
    let after: Vec<u64> = lines
        .iter()
        .filter(|l| l["kind"] == "record" && l["nodedb_visible"] == false)
        .map(|l| l["lsn"].as_u64().unwrap())
        .collect();
    assert_eq!(after, [6, 7, 8, 9, 10]);
}

#[test]
fn stop_at_damage_matches_nodedb() {
    let (_, out, _) = run(&["dump", "--format", "jsonl", "--stop-at-damage", p(&nodedb("bad_crc_middle.wal"))]);
    let lines = jsonl(&out);
    let lsns: Vec<u64> = lines.iter().filter(|l| l["kind"] == "record").map(|l| l["lsn"].as_u64().unwrap()).collect();
    assert_eq!(lsns, [1, 2, 3, 4]);
    assert_eq!(lines.last().unwrap()["reason"], "checksum_mismatch");
    assert_eq!(lines.last().unwrap()["len"], 1858 - 779);
}

#[test]
fn filters_combine() {
    let all_path = nodedb("all_types.wal");
    let all = p(&all_path);
    let lsns = |args: &[&str]| -> Vec<u64> {
        let mut full = vec!["dump", "--format", "jsonl"];
        full.extend_from_slice(args);
        full.push(all);
        jsonl(&run(&full).1).iter().map(|l| l["lsn"].as_u64().unwrap()).collect()
    };
    assert_eq!(lsns(&["--type", "vector-put"]), [7, 8, 9]);
    assert_eq!(lsns(&["--type", "VectorPut", "--type", "32780"]), [7, 8, 9, 11, 12]);
    assert_eq!(lsns(&["--from-lsn", "20", "--to-lsn", "22"]), [20, 21, 22]);
    assert_eq!(lsns(&["--tenant", "4294967297"]), [30]);
    assert_eq!(lsns(&["--vshard", "4294967295"]), [31]);
    assert_eq!(lsns(&["--collection", "users", "--type", "put"]), lsns(&["--collection", "users", "--type", "0x8001"]));
    assert_eq!(lsns(&["--limit", "3"]), [1, 2, 3]);
    assert_eq!(lsns(&["--database", "7"]), Vec::<u64>::new());
}

#[test]
fn unknown_type_filter_is_a_usage_error() {
    let (code, _, err) = run(&["dump", "--type", "bogus", p(&nodedb("all_types.wal"))]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown record type \"bogus\""), "{err}");
}

#[test]
fn table_shows_records_damage_and_flags() {
    let (code, out, _) = run(&["dump", p(&nodedb("torn_tail.wal"))]);
    assert_eq!(code, 0);
    let row = out.lines().find(|l| l.contains("LsnMsAnchor")).unwrap();
    assert!(row.contains("lsn=6 wall_ms=1735689601000"), "{row}");
    let damage = out.lines().find(|l| l.contains("DAMAGE")).unwrap();
    assert!(damage.contains("torn_payload: 311 bytes to end"), "{damage}");
    assert!(damage.contains("1289"), "{damage}");
}

#[test]
fn hex_format_prints_the_record_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("x.wal");
    write_wal(&wal, &[(0x8001, 1, b"hello")]);
    // Same record as FORMAT.md §10.1 except vshard 0.
    let (_, out, _) = run(&["dump", "--format", "hex", p(&wal)]);
    assert!(
        out.starts_with("# x.wal offset 0 lsn 1 Put payload_len 5\n00000000  57 4e 59 53 01 00 01 80  00 00 01 00"),
        "{out}"
    );
    assert!(out.contains("00000030  00 00 f0 07 fb c2 68 65  6c 6c 6f                 |......hello|"), "{out}");
}

#[test]
fn missing_file_is_an_io_error() {
    let (code, _, err) = run(&["dump", "/nonexistent/x.wal"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.wal"), "{err}");
}

#[test]
fn segmented_directory_is_read_in_order() {
    let (_, out, _) = run(&["dump", "--format", "jsonl", p(&nodedb("segmented"))]);
    let lines = jsonl(&out);
    assert_eq!(lines.len(), 300);
    assert_eq!(lines[23]["segment"], "wal-00000000000000000024.seg");
    assert_eq!(lines[23]["offset"], 0);
    assert!(lines.windows(2).all(|w| w[1]["lsn"].as_u64() == w[0]["lsn"].as_u64().map(|l| l + 1)));
}

#[test]
fn no_decode_keeps_the_bytes_and_skips_the_decoding() {
    let path = nodedb("all_types.wal");
    let (_, full, _) = run(&["dump", "--format", "jsonl", s(&path)]);
    let (code, fast, _) = run(&["dump", "--format", "jsonl", "--no-decode", s(&path)]);
    assert_eq!(code, 0);
    let (full, fast) = (jsonl(&full), jsonl(&fast));
    assert_eq!(full.len(), fast.len());
    for (a, b) in full.iter().zip(&fast) {
        assert_eq!(a["payload_hex"], b["payload_hex"]);
        assert_eq!(a["crc32c"], b["crc32c"]);
        assert!(b["payload"].is_null() && b.get("payload_error").is_none(), "{b}");
    }
}

#[test]
fn deeply_nested_payloads_do_not_break_output() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("deep.wal");
    let mut payload = vec![0x91u8; 300];
    payload.push(0);
    write_wal(&wal, &[(0x8014, 1, &payload)]);
    for format in ["table", "jsonl", "json", "hex"] {
        let (code, out, err) = run(&["dump", "--format", format, s(&wal)]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(!out.is_empty());
    }
    let (_, out, _) = run(&["dump", "--format", "jsonl", s(&wal)]);
    assert!(jsonl(&out)[0]["payload"].is_null());
}
