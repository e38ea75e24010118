use super::*;

/// FORMAT.md §10.4, byte for byte: key 32 × 0x42, epoch 01020304, Put LSN 1 "hello".
const SPEC_10_4: &str = "57414c500100000001020304000000 00\
574e5953010001c000000100000000000000010000000000000002000000150000000000000000000000000000000000\
0000be6274b573edaa991bf5c6ed90378a659a04a1e638561e843c";

#[test]
fn reads_the_spec_example() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("spec.wal");
    std::fs::write(&wal, hex::decode(SPEC_10_4.replace(' ', "")).unwrap()).unwrap();
    let key = dir.path().join("k.key");
    std::fs::write(&key, [0x42u8; 32]).unwrap();
    let (code, out, _) = run(&["dump", "--format", "jsonl", "--key-file", s(&key), s(&wal)]);
    assert_eq!(code, 0);
    let lines = jsonl(&out);
    assert_eq!(lines[0]["kind"], "preamble");
    assert_eq!(lines[0]["epoch_hex"], "01020304");
    assert_eq!(lines[1]["encrypted"], true);
    assert_eq!(lines[1]["record_type"], 0xC001);
    assert_eq!(lines[1]["payload_hex"], "73edaa991bf5c6ed90378a659a04a1e638561e843c");
    assert_eq!(lines[1]["plaintext_hex"], "68656c6c6f");
    assert_eq!(lines[1]["crc32c"], 0xB57462BEu64);
    // Without a key: CRC still checked, payload not shown.
    let (_, out, _) = run(&["dump", "--format", "jsonl", s(&wal)]);
    let rec = &jsonl(&out)[1];
    assert!(rec["payload"].is_null() && rec.get("plaintext_hex").is_none());
    assert_eq!(rec["payload_error"], "encrypted payload; no key given");
    assert_eq!(run(&["verify", s(&wal)]).0, 0);
    // A wrong key: a clear error per record, never garbage; verify flags it.
    let wrong = "43".repeat(32);
    let (_, out, _) = run(&["dump", "--format", "jsonl", "--key-hex", &wrong, s(&wal)]);
    assert_eq!(jsonl(&out)[1]["payload_error"], "decryption failed: wrong key, or the record was altered or moved");
    let (code, out, _) = run(&["verify", "--key-hex", &wrong, s(&wal)]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("authentication_failed"), "{out}");
    // Key rotation: the current key fails, the previous one decrypts.
    let (_, out, _) = run(&["dump", "--format", "jsonl", "--key-hex", &wrong, "--key-file", s(&key), s(&wal)]);
    assert_eq!(jsonl(&out)[1]["plaintext_hex"], "68656c6c6f");
}

#[test]
fn encrypted_appends_follow_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("wal");
    let key = "42".repeat(32);
    let (code, _, err) = run(&[
        "append",
        s(&wal),
        "--key-hex",
        &key,
        "--segment-size",
        "100",
        "put",
        "--tenant",
        "1",
        "--vshard",
        "2",
        "--payload-hex",
        "68656c6c6f",
    ]);
    assert_eq!(code, 0, "{err}");
    for _ in 0..3 {
        assert_eq!(run(&["append", s(&wal), "--key-hex", &key, "--segment-size", "100", "noop"]).0, 0);
    }
    // Each segment starts with its own preamble and a fresh epoch.
    let seg1 = std::fs::read(wal.join("wal-00000000000000000001.seg")).unwrap();
    assert_eq!(&seg1[..8], b"WALP\x01\x00\x00\x00");
    let seg3 = std::fs::read(wal.join("wal-00000000000000000003.seg")).unwrap();
    assert_eq!(&seg3[..4], b"WALP");
    // Record 1 re-encrypted independently with the segment's epoch gives the stored bytes.
    let epoch: [u8; 4] = seg1[8..12].try_into().unwrap();
    let preamble = walkit::wal::segment::Preamble::new(epoch);
    let header = walkit::wal::header::RecordHeader::new(walkit::wal::RecordKind::Put.record_type(), 1, 1, 2);
    let ct = walkit::wal::crypto::encrypt(&walkit::wal::crypto::Key::new([0x42; 32]), &preamble, &header, b"hello");
    assert_eq!(&seg1[16 + 54..16 + 54 + 21], &ct[..]);
    let (code, out, _) = run(&["verify", "--key-hex", &key, s(&wal)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 records in 2 segment(s)"), "{out}");
    // Appending without the key (or with another) is refused.
    let (code, _, err) = run(&["append", s(&wal), "noop"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs its key"), "{err}");
    let (code, _, err) = run(&["append", s(&wal), "--key-hex", &"11".repeat(32), "noop"]);
    assert_eq!(code, 2);
    assert!(err.contains("refusing to mix keys"), "{err}");
    // WALKIT_KEY works too.
    let out = walkit().args(["dump", "--format", "jsonl", s(&wal)]).env("WALKIT_KEY", &key).output().unwrap();
    assert_eq!(jsonl(&String::from_utf8(out.stdout).unwrap())[1]["plaintext_hex"], "68656c6c6f");
}

#[test]
fn bad_keys_are_usage_errors() {
    let (code, _, err) = run(&["dump", "--key-hex", "abcd", nodedb("all_types.wal").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("a key must be 32 bytes (raw) or 64 hex digits"), "{err}");
}
