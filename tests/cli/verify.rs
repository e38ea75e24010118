use super::*;

fn verify(path: &Path) -> (i32, String) {
    let (code, out, _) = run(&["verify", path.to_str().unwrap()]);
    (code, out)
}

#[test]
fn clean_reference_wals_exit_0() {
    for name in ["all_types.wal", "segmented", "unknown_optional.wal"] {
        let (code, out) = verify(&nodedb(name));
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains(": clean:"), "{out}");
    }
    let (_, out) = verify(&nodedb("segmented"));
    assert!(out.contains("300 records in 14 segment(s), LSN 1..300; NodeDB's reader returns 300"), "{out}");
}

#[test]
fn torn_tail_exits_1() {
    let (code, out) = verify(&nodedb("torn_tail.wal"));
    assert_eq!(code, 1);
    assert!(
        out.contains("torn_tail: ") && out.contains("torn_tail.wal: offset 1289 (LSN 10): torn_payload: payload_len 515 but only 257 bytes follow the header"),
        "{out}"
    );
}

#[test]
fn corruption_inside_the_log_exits_3() {
    let (code, out) = verify(&nodedb("bad_crc_middle.wal"));
    assert_eq!(code, 3);
    assert!(
        out.contains("corruption: ")
            && out.contains("offset 779 (LSN 5): checksum_mismatch: CRC32C stored 0x7bab9852, computed 0xb44a75f2"),
        "{out}"
    );
    assert!(out.contains("NodeDB's reader stops at offset 779 (checksum_mismatch); 5 later record(s)"), "{out}");
    // The damaged record still carries LSN 5, so no separate gap is reported.
    assert!(!out.contains("lsn_gap"), "{out}");
}

#[test]
fn json_report_and_usage_errors() {
    let (code, out, _) = run(&["verify", "--format", "json", nodedb("bad_crc_middle.wal").to_str().unwrap()]);
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "corrupt");
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["paths"][0]["findings"][0]["code"], "checksum_mismatch");
    assert_eq!(v["paths"][0]["nodedb_records"], 4);
    let (code, _, err) = run(&["verify", "/nonexistent"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent"), "{err}");
    assert_eq!(run(&["verify"]).0, 2);
}

#[test]
fn unknown_required_type_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("u.wal");
    write_wal(&wal, &[(0x8001, 1, b"a"), (0x8063, 1, b""), (0x8001, 1, b"b")]);
    let (code, out) = verify(&wal);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("offset 55 (LSN 2): unknown_required_type: unknown record type 0x00008063"), "{out}");
    assert!(!out.contains("lsn_gap"), "{out}");
}

#[test]
fn lsn_gaps_and_misnamed_segments_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    std::fs::create_dir(&a).unwrap();
    write_wal(&a.join("wal-00000000000000000001.seg"), &[(0x8001, 1, b"a"), (0x8001, 1, b"b")]);
    // Second segment claims first LSN 5 but its first record is LSN 1.
    write_wal(&dir.path().join("other.wal"), &[(0x8001, 1, b"c")]);
    std::fs::rename(dir.path().join("other.wal"), a.join("wal-00000000000000000005.seg")).unwrap();
    let (code, out) = verify(&a);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("segment_name_mismatch: first record has LSN 1 but the segment name says 5"), "{out}");
    assert!(out.contains("lsn_not_increasing: LSN does not increase: 2 is followed by 1"), "{out}");
}

#[test]
fn zero_padding_is_reported_but_clean() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("direct.wal");
    write_wal(&wal, &[(0x8001, 1, b"a"), (0x8001, 1, b"b")]);
    // O_DIRECT layout: first batch (LSN 1) padded to 4 KiB, second batch after it.
    let bytes = std::fs::read(&wal).unwrap();
    let mut padded = bytes[..55].to_vec();
    padded.resize(4096, 0);
    padded.extend_from_slice(&bytes[55..]);
    padded.resize(8192, 0);
    std::fs::write(&wal, &padded).unwrap();
    let (code, out, _) = run(&["verify", "-v", wal.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("info: ") && out.contains("offset 55: zero_padding: 4041 bytes of O_DIRECT zero fill"),
        "{out}"
    );
    assert!(out.contains("NodeDB's reader stops at offset 55 (invalid_magic); 1 later record(s)"), "{out}");
    assert!(out.contains("2 records in 1 segment(s), LSN 1..2; NodeDB's reader returns 1"), "{out}");
}
