use super::*;

#[test]
fn segmented_reference_replay_matches_exactly() {
    let exp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(nodedb("segmented.expect.json")).unwrap()).unwrap();
    let (code, out, _) = run(&["replay", "--format", "jsonl", s(&nodedb("segmented"))]);
    assert_eq!(code, 0);
    let lines = jsonl(&out);
    let (mut kept, mut skipped) = (Vec::new(), Vec::new());
    for l in lines.iter().filter(|l| l["kind"] == "decision") {
        let lsn = l["lsn"].as_u64().unwrap();
        if l["decision"] == "skipped_tombstoned" { skipped.push(lsn) } else { kept.push(lsn) }
    }
    let lsns =
        |v: &serde_json::Value| -> Vec<u64> { v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect() };
    assert_eq!(kept, lsns(&exp["replay_filter"]["kept_lsns"]));
    assert_eq!(skipped, lsns(&exp["replay_filter"]["skipped_lsns"]));
    // The tombstone set, highest purge_lsn per (tenant, collection).
    let summary = lines.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    let tombstones = |v: &serde_json::Value| -> Vec<(u64, String, u64)> {
        let mut t: Vec<(u64, String, u64)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["tenant_id"].as_u64().unwrap(),
                    t["collection"].as_str().unwrap().to_string(),
                    t["purge_lsn"].as_u64().unwrap(),
                )
            })
            .collect();
        t.sort();
        t
    };
    assert_eq!(tombstones(&summary["tombstones"]), tombstones(&exp["tombstones"]));
    assert_eq!(summary["decisions"]["skipped_tombstoned"], 87);
    // A skipped record names the tombstone that shadows it.
    let first_skip = lines.iter().find(|l| l["decision"] == "skipped_tombstoned").unwrap();
    assert!(first_skip["shadowed_by"]["purge_lsn"].as_u64().unwrap() > first_skip["lsn"].as_u64().unwrap());
}

#[test]
fn summary_table() {
    let (code, out, _) = run(&["replay", "--summary", s(&nodedb("segmented"))]);
    assert_eq!(code, 0);
    assert!(out.contains("│ skipped_tombstoned       ┆ 87      │"), "{out}");
    assert!(out.contains("│ 1      ┆ users      ┆ 60        ┆ 226                  │"), "{out}");
    assert!(out.contains("300 records, latest checkpoint LSN none, replay completed"), "{out}");
}

#[test]
fn unknown_required_type_fails_replay_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("u.wal");
    write_wal(&wal, &[(0x8001, 1, b"a"), (0x63, 1, b""), (0x8063, 1, b""), (0x8001, 1, b"b")]);
    let (code, out, _) = run(&["replay", "--format", "jsonl", s(&wal)]);
    assert_eq!(code, 3, "{out}");
    let lines = jsonl(&out);
    assert_eq!(lines[1]["decision"], "skipped_unknown_optional");
    let summary = lines.last().unwrap();
    assert_eq!(summary["outcome"], "failed");
    assert_eq!(summary["error"]["lsn"], 3);
    assert_eq!(summary["error"]["record_type"], 0x8063);
    assert_eq!(summary["records"], 2, "nothing after the failure is replayed");
}

#[test]
fn damage_ends_a_segment_like_nodedb() {
    let (_, out, _) = run(&["replay", "--format", "jsonl", s(&nodedb("bad_crc_middle.wal"))]);
    let lines = jsonl(&out);
    let lsns: Vec<u64> = lines.iter().filter(|l| l["kind"] == "decision").map(|l| l["lsn"].as_u64().unwrap()).collect();
    assert_eq!(lsns, [1, 2, 3, 4]);
    let stop = &lines.last().unwrap()["segment_stops"][0];
    assert_eq!((stop["offset"].as_u64(), stop["reason"].as_str()), (Some(779), Some("checksum_mismatch")));
}

#[test]
fn transactions_arrays_and_not_replayed_types() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("x.wal");
    let w = s(&wal);
    let entry = |coll: &str| {
        format!(
            r#"{{"sub_type":32769,"entry":{{"tenant_id":1,"vshard_id":0,"idempotency_key":3,"write":{{"PointDelete":{{"collection":"{coll}","document_id":"d"}}}}}}}}"#
        )
    };
    let txn = format!(r#"{{"form":"transaction","sub_records":[{},{}]}}"#, entry("users"), entry("orders"));
    let arr = |lsn_tag: &str| {
        format!(
            r#"{{"form":"array_delete","array_id":{{"tenant_id":1,"name":"grid"}},"cells":[{{"coord":[{{"Int64":[{lsn_tag}]}}],"system_from_ms":0,"erasure":false}}]}}"#
        )
    };
    for args in [
        vec!["put", "--tenant", "1", "--collection", "users", "--id", "a", "--value-json", "1"],
        vec!["transaction", "--tenant", "1", "--payload-json", &txn],
        vec!["array-delete", "--payload-json", &arr("1")],
        vec![
            "array-flush",
            "--payload-json",
            r#"{"form":"array_flush","array_id":{"tenant_id":1,"name":"grid"},"segment_id":"s","tile_ids":[]}"#,
        ],
        vec!["array-delete", "--payload-json", &arr("2")],
        vec!["tombstone", "--tenant", "1", "--collection", "users", "--purge-lsn", "6"],
        vec![
            "temporal-purge",
            "--tenant",
            "1",
            "--engine",
            "crdt",
            "--collection",
            "users",
            "--cutoff-ms",
            "0",
            "--count",
            "1",
        ],
    ] {
        let mut full = vec!["append", w];
        full.extend(args);
        assert_eq!(run(&full).0, 0, "{full:?}");
    }
    let (_, out, _) = run(&["replay", "--format", "jsonl", w]);
    let lines = jsonl(&out);
    let decision = |lsn: u64| lines.iter().find(|l| l["lsn"] == lsn).unwrap().clone();
    assert_eq!(decision(1)["decision"], "skipped_tombstoned");
    let txn = decision(2);
    assert_eq!(txn["decision"], "not_replayed");
    assert_eq!(txn["sub_records"][0]["decision"], "skipped_tombstoned");
    assert_eq!(txn["sub_records"][1]["decision"], "applied");
    assert!(txn["note"].as_str().unwrap().contains("walkit extension"));
    assert_eq!(decision(3)["decision"], "skipped_flushed");
    assert_eq!(decision(3)["flush_watermark"], 4);
    assert_eq!(decision(5)["decision"], "applied");
    assert_eq!(decision(7)["decision"], "not_replayed");
}

#[test]
fn encrypted_wal_replays_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("e.wal");
    let key = "42".repeat(32);
    for args in [
        vec!["put", "--tenant", "1", "--collection", "users", "--id", "a", "--value-json", "1"],
        vec!["tombstone", "--tenant", "1", "--collection", "users", "--purge-lsn", "2"],
    ] {
        let mut full = vec!["append", s(&wal), "--key-hex", &key];
        full.extend(args);
        assert_eq!(run(&full).0, 0);
    }
    let (_, out, _) = run(&["replay", "--format", "jsonl", "--key-hex", &key, s(&wal)]);
    assert_eq!(jsonl(&out)[0]["decision"], "skipped_tombstoned");
    // Without the key no tombstone can be read, so nothing is filtered.
    let (_, out, _) = run(&["replay", "--format", "jsonl", s(&wal)]);
    assert_eq!(jsonl(&out)[0]["decision"], "applied");
}
