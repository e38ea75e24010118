use super::*;

/// A segment whose LSN 2 fails its CRC, with an intact copy in the `.dwb` companion.
fn damaged_with_copy(dir: &Path) -> PathBuf {
    let wal_dir = dir.join("wal");
    std::fs::create_dir(&wal_dir).unwrap();
    let seg = wal_dir.join("wal-00000000000000000001.seg");
    write_wal(&seg, &[(0x8001, 1, b"first"), (0x8001, 1, b"second"), (0x8001, 1, b"third")]);
    let mut bytes = std::fs::read(&seg).unwrap();
    let second = bytes[59..59 + 60].to_vec();
    std::fs::write(wal_dir.join("wal-00000000000000000001.dwb"), walkit::wal::dwb::build(&[&bytes[..59], &second]))
        .unwrap();
    bytes[59 + 54] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    wal_dir
}

#[test]
fn damaged_record_is_recovered_from_the_dwb_like_nodedb() {
    let dir = tempfile::tempdir().unwrap();
    let wal = damaged_with_copy(dir.path());
    let (_, out, _) = run(&["dump", "--format", "jsonl", s(&wal)]);
    let lines = jsonl(&out);
    assert_eq!(lines[1]["kind"], "damage");
    assert_eq!(lines[1]["reason"], "checksum_mismatch");
    assert_eq!(lines[1]["recovered_from_dwb"], true);
    assert_eq!(lines[2]["lsn"], 2);
    assert_eq!(lines[2]["dwb_slot"], 1);
    assert_eq!(lines[2]["payload_hex"], "7365636f6e64");
    assert_eq!(lines[2]["nodedb_visible"], true);
    assert_eq!(lines[3]["lsn"], 3);
    assert_eq!(lines[3]["nodedb_visible"], true, "NodeDB continues after the repaired record");
    let (code, out, _) = run(&["verify", s(&wal)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning: ") && out.contains("an intact copy in the .dwb companion recovers it"), "{out}");
    assert!(out.contains("NodeDB's reader returns 3"), "{out}");
    let (_, out, _) = run(&["replay", "--format", "jsonl", s(&wal)]);
    let decisions: Vec<serde_json::Value> = jsonl(&out).into_iter().filter(|l| l["kind"] == "decision").collect();
    let lsns: Vec<u64> = decisions.iter().map(|l| l["lsn"].as_u64().unwrap()).collect();
    assert_eq!(lsns, [1, 2, 3]);
    assert_eq!(decisions[1]["dwb_slot"], 1, "replay says it used the copy");
    // Without the companion the same damage is corruption inside the log.
    std::fs::remove_file(wal.join("wal-00000000000000000001.dwb")).unwrap();
    assert_eq!(run(&["verify", s(&wal)]).0, 3);
}

#[test]
fn dump_dwb_lists_the_slots() {
    let dir = tempfile::tempdir().unwrap();
    let wal = damaged_with_copy(dir.path());
    let (code, out, _) = run(&["dump", "--dwb", "--format", "jsonl", s(&wal)]);
    assert_eq!(code, 0);
    let slots = jsonl(&out);
    assert_eq!(slots.len(), 2);
    assert_eq!(
        (slots[1]["slot"].as_u64(), slots[1]["lsn"].as_u64(), slots[1]["valid"].as_bool()),
        (Some(1), Some(2), Some(true))
    );
    assert_eq!(slots[0]["write_pos"], 2);
    let (_, table, _) = run(&["dump", "--dwb", s(&wal)]);
    assert!(table.contains("wal-00000000000000000001.dwb") && table.contains("yes"), "{table}");
}
