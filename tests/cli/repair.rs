use super::*;

#[test]
fn repair_cuts_a_torn_tail_with_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("t.wal");
    std::fs::copy(nodedb("torn_tail.wal"), &wal).unwrap();
    let original = std::fs::read(&wal).unwrap();
    let (code, out, _) = run(&["repair", "--dry-run", s(&wal)]);
    assert_eq!(code, 0);
    assert!(out.contains("torn payload at offset 1289 (LSN 10): would remove 311 bytes"), "{out}");
    assert!(std::fs::read(&wal).unwrap() == original, "dry run changed the WAL");
    let (code, out, _) = run(&["repair", s(&wal)]);
    assert_eq!(code, 0, "{out}");
    let backup = out.lines().find_map(|l| l.strip_prefix("backup: ")).unwrap();
    assert_eq!(std::fs::read(backup).unwrap(), original[1289..]);
    assert_eq!(std::fs::read(&wal).unwrap(), original[..1289]);
    assert_eq!(run(&["verify", s(&wal)]).0, 0);
    let (code, out, _) = run(&["append", s(&wal), "noop"]);
    assert_eq!((code, out.trim()), (0, "10"));
    let (code, out, _) = run(&["repair", s(&wal)]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to repair"), "{out}");
}

#[test]
fn repair_refuses_mid_log_corruption_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("b.wal");
    std::fs::copy(nodedb("bad_crc_middle.wal"), &wal).unwrap();
    let original = std::fs::read(&wal).unwrap();
    let (code, out, _) = run(&["repair", s(&wal)]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("5 valid record(s) after it would be lost") && out.contains("refused"), "{out}");
    assert!(std::fs::read(&wal).unwrap() == original);
    let (code, out, _) = run(&["repair", "--force", s(&wal)]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read(&wal).unwrap(), original[..779]);
    assert_eq!(run(&["verify", s(&wal)]).0, 0);
}

#[test]
fn repair_of_a_directory_sets_later_segments_aside_when_forced() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("d");
    let (code, _, err) = run(&["corrupt", s(&nodedb("segmented")), s(&damaged), "--kind", "flip-crc", "--at", "30"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(run(&["repair", s(&damaged)]).0, 3);
    let (code, out, _) = run(&["repair", "--force", s(&damaged)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("12 later segment(s) set aside"), "{out}");
    let (code, out, _) = run(&["verify", s(&damaged)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("29 records in 2 segment(s), LSN 1..29"), "{out}");
}

/// Every corruption kind is classified by `verify` as what it is.
#[test]
fn corrupt_kinds_are_classified_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let src = nodedb("all_types.wal");
    let original = std::fs::read(&src).unwrap();
    for (kind, exit, finding) in [
        ("torn-tail", 1, "torn_payload"),
        ("torn-header", 1, "torn_header"),
        ("flip-crc", 3, "checksum_mismatch"),
        ("bad-magic", 3, "bad_magic: bad magic"),
        ("zero-fill", 3, "bad_magic: zero bytes where a record header should be"),
        ("lsn-gap", 3, "lsn_gap: LSN gap: 17 is followed by 19"),
        ("bad-version", 3, "unsupported_version: format_version 2 is not 1"),
    ] {
        let out_wal = dir.path().join(format!("{kind}.wal"));
        let (code, _, err) = run(&["corrupt", s(&src), s(&out_wal), "--kind", kind]);
        assert_eq!(code, 0, "{kind}: {err}");
        let (code, out, _) = run(&["verify", s(&out_wal)]);
        assert_eq!(code, exit, "{kind}: {out}");
        assert!(out.contains(finding), "{kind}: {out}");
        let (_, dump, _) = run(&["dump", "--format", "jsonl", s(&out_wal)]);
        let reasons: Vec<String> = jsonl(&dump)
            .iter()
            .filter(|l| l["kind"] == "damage")
            .map(|l| l["reason"].as_str().unwrap().to_string())
            .collect();
        let expected_reasons: &[&str] = match kind {
            "torn-tail" => &["torn_payload"],
            "torn-header" => &["torn_header"],
            "flip-crc" => &["checksum_mismatch"],
            "bad-magic" | "zero-fill" => &["bad_magic"],
            "lsn-gap" => &[],
            _ => &["unsupported_version"],
        };
        assert_eq!(reasons, expected_reasons, "{kind}");
    }
    assert!(std::fs::read(&src).unwrap() == original, "corrupt modified its input");
}

#[test]
fn corrupt_targets_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let src = nodedb("all_types.wal");
    let a = dir.path().join("a.wal");
    let (code, _, err) = run(&["corrupt", s(&src), s(&a), "--kind", "flip-crc", "--at", "5"]);
    assert_eq!(code, 0);
    assert!(err.contains("(LSN 5)"), "{err}");
    let (code, _, err) = run(&["corrupt", s(&src), s(&a), "--kind", "flip-crc"]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(&["corrupt", s(&src), s(&dir.path().join("b.wal")), "--kind", "flip-crc", "--at", "99"]);
    assert_eq!(code, 2);
    assert!(err.contains("no record with LSN 99"), "{err}");
    // Seeded choices are reproducible.
    for name in ["s1.wal", "s2.wal"] {
        run(&["corrupt", s(&src), s(&dir.path().join(name)), "--kind", "flip-crc", "--seed", "4"]);
    }
    assert_eq!(std::fs::read(dir.path().join("s1.wal")).unwrap(), std::fs::read(dir.path().join("s2.wal")).unwrap());
}
