use super::*;

/// ArrayPut of FORMAT.md §10.5.
const ARRAY_PUT_HEX: &str = "03929201a16791969292a5496e74363491019292a6537472696e6791a17893\
92a5496e743634916392a44e756c6cc092a5427974657391c4010100d103e8d103e8d37fffffffffffffff";

#[test]
fn every_type_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("typed.wal");
    let w = s(&wal);
    let cases: Vec<Vec<&str>> = vec![
        vec!["checkpoint", "--checkpoint-lsn", "1000"],
        vec!["tombstone", "--tenant", "1", "--collection", "users", "--purge-lsn", "2"],
        vec![
            "temporal-purge",
            "--tenant",
            "1",
            "--engine",
            "document-strict",
            "--collection",
            "users",
            "--cutoff-ms",
            "1700000000000",
            "--count",
            "42",
        ],
        vec!["surrogate-alloc", "--hi", "1024"],
        vec!["surrogate-bind", "--surrogate", "42", "--collection", "users", "--pk", "alice"],
        vec!["calvin-applied", "--epoch", "7", "--position", "3", "--for-vshard", "9"],
        vec!["lsn-anchor", "--wall-ms", "1700000000000"],
        vec![
            "put",
            "--tenant",
            "1",
            "--vshard",
            "2",
            "--collection",
            "users",
            "--id",
            "u1",
            "--value-json",
            r#"{"a":1}"#,
        ],
        vec!["put", "--collection", "cache", "--key", "k", "--value", "v"],
        vec!["delete", "--collection", "users", "--id", "u1"],
        vec!["delete", "--collection", "cache", "--key", "k"],
        vec!["vector-put", "--collection", "vecs", "--vector", "1,2", "--surrogate", "5"],
        vec!["vector-delete", "--collection", "vecs", "--vector-id", "7"],
        vec![
            "vector-params",
            "--collection",
            "vecs",
            "--m",
            "16",
            "--ef-construction",
            "200",
            "--pq-m",
            "8",
            "--ivf-cells",
            "256",
            "--ivf-nprobe",
            "4",
        ],
        vec!["crdt-delta", "--payload-hex", "0102"],
        vec!["timeseries-batch", "--collection", "metrics", "--ilp", "cpu v=1 1"],
        vec!["log-batch", "--collection", "logs", "--text", "hello"],
        vec!["array-put", "--payload-hex", ARRAY_PUT_HEX],
        vec![
            "array-delete",
            "--payload-json",
            r#"{"form":"array_delete","array_id":{"tenant_id":1,"name":"g"},"cells":[{"coord":[{"Int64":[5]}],"system_from_ms":9000,"erasure":true}]}"#,
        ],
        vec![
            "array-flush",
            "--payload-json",
            r#"{"form":"array_flush","array_id":{"tenant_id":1,"name":"g"},"segment_id":"00000001.ndas","tile_ids":[{"hilbert_prefix":7,"system_from_ms":0}]}"#,
        ],
        vec!["transaction", "--payload-json", r#"[[32769,[1,255]]]"#],
        vec!["noop"],
        vec!["raw", "--type-code", "0x63", "--payload-hex", "ff"],
    ];
    for (i, case) in cases.iter().enumerate() {
        let mut args = vec!["append", w];
        args.extend(case.iter().copied());
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{case:?}: {err}");
        assert_eq!(out.trim(), (i + 1).to_string(), "{case:?}");
    }
    let (_, out, _) = run(&["dump", "--format", "jsonl", w]);
    let lines = jsonl(&out);
    let hex_of = |lsn: usize| lines[lsn - 1]["payload_hex"].as_str().unwrap().to_string();
    // Golden payloads of FORMAT.md §10.5/§10.6.
    assert_eq!(hex_of(1), "cd03e8");
    assert_eq!(hex_of(3), "020500000075736572730068e5cf8b0100002a00000000000000");
    assert_eq!(hex_of(4), "00040000");
    assert_eq!(hex_of(5), "2a00000005000000757365727305000000616c696365");
    assert_eq!(hex_of(6), "07000000000000000300000009000000");
    assert_eq!(lines[5]["vshard_id"], 9, "calvin-applied header vshard follows --for-vshard");
    assert_eq!(hex_of(7), "0700000000000000 0068e5cf8b010000".replace(' ', ""), "anchor LSN is the record's own");
    assert_eq!(hex_of(9), "95a66b765f707574a5636163686591 6b917600".replace(' ', ""));
    assert_eq!(hex_of(10), "92a57573657273a27531");
    assert_eq!(hex_of(11), "93a96b765f64656c657465a56361636865 91 916b".replace(' ', ""));
    assert_eq!(hex_of(12), "96a476656373 92ca3f800000ca40000000 02a0c005".replace(' ', ""));
    assert_eq!(hex_of(13), "92a4766563730 7".replace(' ', ""));
    assert_eq!(hex_of(14), "98a4766563731 0ccc8a6636f73696e65a4686e73770 8cd010004".replace(' ', ""));
    assert_eq!(hex_of(16), "92a76d657472696373 99 6370752076 3d312031".replace(' ', ""));
    assert_eq!(hex_of(19), "03929201a1679193 9192a5496e74363491 05 d12328c3".replace(' ', ""));
    assert_eq!(hex_of(20), "939201a167ad30303030303030312e6e646173 919207 00".replace(' ', ""));
    assert_eq!(hex_of(21), "9192cd8001 9201ccff".replace(' ', ""));
    assert_eq!(hex_of(18), ARRAY_PUT_HEX.replace(' ', ""));
    assert_eq!(lines[22]["record_type"], 0x63);
    let (code, _, _) = run(&["verify", w]);
    assert_eq!(code, 0);
}

#[test]
fn json_output_and_resume_in_directories() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("wal");
    for expected in 1..=3u64 {
        let (code, out, err) = run(&["append", s(&wal), "--format", "json", "--segment-size", "60", "noop"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["lsn"], expected);
        // Noop records are 54 bytes and a segment rolls once it holds 60 or more, so
        // every segment holds two records.
        assert!(v["segment"].as_str().unwrap().starts_with("wal-"), "{v}");
    }
    let (code, out, _) = run(&["verify", s(&wal)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 records in 2 segment(s), LSN 1..3"), "{out}");
}

#[test]
fn jsonl_round_trips_every_clean_reference_fixture() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["all_types.wal", "unknown_optional.wal", "segmented"] {
        let src = nodedb(name);
        let (_, dump, _) = run(&["dump", "--format", "jsonl", s(&src)]);
        let copy = dir.path().join(name.replace(".wal", ".copy.wal"));
        let out = walkit().args(["append", s(&copy), "--jsonl", "-"]).write_stdin(dump).output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        if src.is_dir() {
            for entry in std::fs::read_dir(&src).unwrap() {
                let entry = entry.unwrap();
                let theirs = std::fs::read(entry.path()).unwrap();
                let ours = std::fs::read(copy.join(entry.file_name())).unwrap();
                assert!(ours == theirs, "{name}/{:?} differs", entry.file_name());
            }
            assert_eq!(std::fs::read_dir(&copy).unwrap().count(), 14);
        } else {
            assert!(std::fs::read(&copy).unwrap() == std::fs::read(&src).unwrap(), "{name} differs");
        }
    }
}

#[test]
fn jsonl_payload_without_hex_is_encoded_per_type() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("x.wal");
    let input = concat!(
        r#"{"kind":"record","type":"Put","tenant_id":1,"vshard_id":2,"payload":{"form":"document_put","collection":"users","document_id":"u1","value":{"hex":"81a16101"}}}"#,
        "\n",
        r#"{"type":"VectorPut","payload":["vecs",[1.0,2.0],2,"",null,5]}"#,
        "\n",
        "\n",
        r#"{"type":"checkpoint","payload":1000}"#,
        "\n",
    );
    let out = walkit().args(["append", s(&wal), "--jsonl", "-"]).write_stdin(input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("appended 3 records, LSN 1..3, {} bytes", 3 * 54 + 17 + 21 + 3)
    );
    let (_, dump, _) = run(&["dump", "--format", "jsonl", s(&wal)]);
    let lines = jsonl(&dump);
    assert_eq!(lines[0]["payload_hex"], "93a57573657273a2753194cc81cca16101");
    assert_eq!(lines[1]["payload_hex"], "96a47665637392ca3f800000ca4000000002a0c005");
    assert_eq!(lines[2]["payload_hex"], "cd03e8");
}

/// Each bad input: exit 2, a clear message, and the WAL unchanged byte for byte.
#[test]
fn bad_input_table() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("base.wal");
    write_wal(&wal, &[(0x8001, 1, b"a"), (0x8001, 1, b"b")]);
    let before = std::fs::read(&wal).unwrap();
    let good = r#"{"type":"Put","payload_hex":"00"}"#;
    let batch = |lines: &[&str]| lines.join("\n");
    let cases: Vec<(&str, Vec<String>, Option<String>, &str)> = vec![
        ("malformed JSON line", vec![], Some(batch(&[good, "{not json", good])), "line 2: not a valid JSON object"),
        (
            "unknown type name",
            vec![],
            Some(batch(&[good, r#"{"type":"Bogus","payload_hex":""}"#])),
            "line 2: unknown record type \"Bogus\"",
        ),
        (
            "negative integer",
            vec![],
            Some(batch(&[r#"{"type":"Put","tenant_id":-1,"payload_hex":""}"#])),
            "line 1: not a valid JSON object: invalid value: integer `-1`",
        ),
        (
            "too-large integer",
            vec![],
            Some(batch(&[r#"{"type":"Put","vshard_id":4294967296,"payload_hex":""}"#])),
            "line 1: not a valid JSON object: invalid value: integer `4294967296`",
        ),
        (
            "payload not matching its schema",
            vec![],
            Some(batch(&[good, r#"{"type":"VectorDelete","payload":["v"]}"#])),
            "line 2: payload: does not match any VectorDelete payload shape",
        ),
        (
            "wrong LSN",
            vec![],
            Some(batch(&[r#"{"type":"Put","lsn":1,"payload_hex":""}"#])),
            "line 1: lsn 1 but this record would get LSN 3",
        ),
        (
            "damage line",
            vec![],
            Some(batch(&[r#"{"kind":"damage","offset":0}"#])),
            "line 1: kind \"damage\" cannot be appended",
        ),
        (
            "odd hex",
            vec![],
            Some(batch(&[r#"{"type":"Put","payload_hex":"abc"}"#])),
            "line 1: payload_hex: odd number of hex digits",
        ),
        (
            "typed: negative flag",
            vec!["tombstone", "--collection", "c", "--purge-lsn", "-5"].into_iter().map(String::from).collect(),
            None,
            "unexpected argument '-5'",
        ),
        (
            "typed: too-large flag",
            vec!["surrogate-alloc", "--hi", "4294967296"].into_iter().map(String::from).collect(),
            None,
            "4294967296 is not in 0..=4294967295",
        ),
        (
            "typed: schema mismatch",
            vec!["vector-put", "--payload-json", r#"["v",[1.0],"x","",null,0]"#]
                .into_iter()
                .map(String::from)
                .collect(),
            None,
            "--payload-json: as vector_put: dim: expected an unsigned integer",
        ),
        (
            "typed: missing field",
            vec!["put", "--collection", "users"].into_iter().map(String::from).collect(),
            None,
            "put needs --id (document) or --key (KV)",
        ),
        (
            "typed: name over 255 bytes",
            vec![
                "tombstone".to_string(),
                "--collection".to_string(),
                "x".repeat(256),
                "--purge-lsn".to_string(),
                "1".to_string(),
            ],
            None,
            "name of 256 bytes is longer than 255",
        ),
    ];
    for (what, typed, input, message) in cases {
        let mut cmd = walkit();
        cmd.args(["append", s(&wal)]);
        match input {
            Some(text) => {
                cmd.args(["--jsonl", "-"]).write_stdin(text);
            }
            None => {
                cmd.args(&typed);
            }
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(message), "{what}: {err}");
        assert!(std::fs::read(&wal).unwrap() == before, "{what}: WAL changed");
    }
}

#[test]
fn payload_over_64_mib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("base.wal");
    write_wal(&wal, &[(0x8001, 1, b"a")]);
    let before = std::fs::read(&wal).unwrap();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 64 * 1024 * 1024 + 1]).unwrap();
    let (code, _, err) = run(&["append", s(&wal), "crdt-delta", "--payload-file", s(&big)]);
    assert_eq!(code, 2);
    assert!(err.contains("payload of 67108865 bytes exceeds the 64 MiB limit"), "{err}");
    assert!(std::fs::read(&wal).unwrap() == before);
}

#[test]
fn paths_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["append", s(&dir.path().join("missing/x.wal")), "noop"]);
    assert_eq!(code, 2);
    assert!(err.contains("parent directory") && err.contains("does not exist"), "{err}");
    // A read-only file and a read-only directory (kernel-enforced, so this also holds for root).
    let (code, _, err) = run(&["append", "/proc/version", "noop"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot append: /proc/version"), "{err}");
    let (code, _, err) = run(&["append", "/sys/walkit-test.wal", "noop"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot append: /sys/walkit-test.wal"), "{err}");
    // A directory with foreign files and no segments is not turned into a WAL.
    let foreign = dir.path().join("home");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let (code, _, err) = run(&["append", s(&foreign), "noop"]);
    assert_eq!(code, 2);
    assert!(err.contains("holds other files but no wal-*.seg segment"), "{err}");
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);
    // Foreign files beside real segments are fine (NodeDB keeps .dwb files there).
    let wal = dir.path().join("wal");
    let (code, _, _) = run(&["append", s(&wal), "noop"]);
    assert_eq!(code, 0);
    std::fs::write(wal.join("wal-00000000000000000001.dwb"), "x").unwrap();
    let (code, out, _) = run(&["append", s(&wal), "noop"]);
    assert_eq!((code, out.trim()), (0, "2"));
}

#[test]
fn refuses_to_write_after_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("t.wal");
    std::fs::copy(nodedb("torn_tail.wal"), &wal).unwrap();
    let before = std::fs::read(&wal).unwrap();
    let (code, _, err) = run(&["append", s(&wal), "noop"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("WAL is damaged at byte offset 1289 (LSN 10): torn payload; run `walkit repair` first"),
        "{err}"
    );
    assert!(std::fs::read(&wal).unwrap() == before);
}

#[test]
fn second_writer_fails_fast_while_the_lock_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("l.wal");
    let held = walkit::wal::writer::WalWriter::open(&wal, Default::default()).unwrap();
    let (code, _, err) = run(&["append", s(&wal), "noop"]);
    assert_eq!(code, 2);
    assert!(err.contains("another walkit process holds the write lock"), "{err}");
    drop(held);
    assert_eq!(run(&["append", s(&wal), "noop"]).0, 0);
}
