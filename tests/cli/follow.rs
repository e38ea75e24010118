use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Proc, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::*;

/// Reads the follower's stdout lines on a thread so the test can wait with a timeout.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<serde_json::Value> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    rx
}

fn next(rx: &mpsc::Receiver<serde_json::Value>) -> serde_json::Value {
    rx.recv_timeout(Duration::from_secs(20)).expect("follower printed nothing")
}

#[test]
fn follow_prints_appends_new_segments_and_completed_torn_tails() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("wal");
    let append = |args: &[&str]| {
        let mut full = vec!["append", s(&wal), "--segment-size", "200"];
        full.extend_from_slice(args);
        assert_eq!(run(&full).0, 0);
    };
    append(&["put", "--collection", "c", "--key", "k1", "--value", "v"]);
    let mut child = Proc::new(assert_cmd::cargo::cargo_bin("walkit"))
        .args(["dump", "--follow", "--format", "jsonl", s(&wal)])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    assert_eq!(next(&rx)["lsn"], 1);
    // A concurrent appender: records and rolled segments show up as they land.
    for i in 2..=6u64 {
        append(&["put", "--collection", "c", "--key", &format!("k{i}"), "--value", "v"]);
        let line = next(&rx);
        assert_eq!(line["lsn"], i, "{line}");
    }
    let last_seg = std::fs::read_dir(&wal).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).max().unwrap();
    assert_ne!(last_seg.file_name().unwrap(), "wal-00000000000000000001.seg", "the test should cross segments");
    // A record written in two halves is printed once, when complete.
    let record = {
        let mut h = walkit::wal::header::RecordHeader::new(walkit::wal::RecordKind::Noop.record_type(), 7, 0, 0);
        let mut bytes = h.seal(b"xyz").to_vec();
        bytes.extend_from_slice(b"xyz");
        bytes
    };
    let mut f = std::fs::OpenOptions::new().append(true).open(&last_seg).unwrap();
    f.write_all(&record[..30]).unwrap();
    f.flush().unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(600)).is_err(), "printed a torn record");
    f.write_all(&record[30..]).unwrap();
    f.flush().unwrap();
    let line = next(&rx);
    assert_eq!((line["lsn"].as_u64(), line["type"].as_str()), (Some(7), Some("Noop")));
    // Ctrl-C ends it with exit 0.
    let pid = child.id().to_string();
    assert!(Proc::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn follow_limits_and_refuses_json_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("x.wal");
    write_wal(&wal, &[(0x8001, 1, b"a"), (0x8001, 1, b"b")]);
    let (code, out, _) = run(&["dump", "--follow", "--format", "jsonl", "--limit", "2", s(&wal)]);
    assert_eq!(code, 0);
    assert_eq!(jsonl(&out).len(), 2);
    let (code, _, err) = run(&["dump", "--follow", "--format", "json", s(&wal)]);
    assert_eq!(code, 2);
    assert!(err.contains("--follow needs a streaming format"), "{err}");
}
