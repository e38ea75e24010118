//! Crash and concurrency safety with real processes: SIGKILL during a batch append,
//! and two appenders at once.

use std::process::{Command as Proc, Stdio};
use std::time::{Duration, Instant};

use super::*;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("walkit")
}

/// A batch in dump's JSONL schema, without LSNs so it can follow any WAL.
fn batch(dir: &Path, name: &str, records: &str, seed: &str, tenant_mix: &str) -> PathBuf {
    let src = dir.join(format!("{name}.src.wal"));
    let (code, _, err) = run(&["gen", s(&src), "--records", records, "--seed", seed, "--mix", tenant_mix]);
    assert_eq!(code, 0, "{err}");
    let (_, dump, _) = run(&["dump", "--format", "jsonl", s(&src)]);
    let mut out = String::new();
    for mut line in jsonl(&dump) {
        line.as_object_mut().unwrap().remove("lsn");
        out.push_str(&line.to_string());
        out.push('\n');
    }
    let path = dir.join(format!("{name}.jsonl"));
    std::fs::write(&path, out).unwrap();
    path
}

fn record_count(wal: &Path) -> u64 {
    let (_, out, _) = run(&["dump", "--format", "jsonl", s(wal)]);
    jsonl(&out).iter().filter(|l| l["kind"] == "record").count() as u64
}

#[test]
fn sigkill_during_batch_append_leaves_old_bytes_then_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.wal");
    assert_eq!(run(&["gen", s(&base), "--records", "20", "--seed", "1"]).0, 0);
    let base_bytes = std::fs::read(&base).unwrap();
    let input = batch(dir.path(), "batch", "3000", "2", "put=3,vector-put=2,timeseries-batch=2");

    // The complete result, and how long it takes.
    let full_path = dir.path().join("full.wal");
    std::fs::copy(&base, &full_path).unwrap();
    let started = Instant::now();
    let (code, _, err) = run(&["append", s(&full_path), "--jsonl", s(&input)]);
    let total = started.elapsed();
    assert_eq!(code, 0, "{err}");
    let full = std::fs::read(&full_path).unwrap();
    assert!(full.len() > base_bytes.len() + 1_000_000);

    let kills = 24;
    let (mut untouched, mut partial, mut complete, mut torn) = (0, 0, 0, 0);
    for i in 0..kills {
        let wal = dir.path().join(format!("crash-{i}.wal"));
        std::fs::copy(&base, &wal).unwrap();
        let mut child = Proc::new(bin())
            .args(["append", s(&wal), "--jsonl", s(&input)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if i < 4 {
            // While the batch is still being validated.
            std::thread::sleep(total.mul_f64(0.1 * (i + 1) as f64));
        } else {
            // Once writing has begun, at staggered moments through it.
            let deadline = Instant::now() + total * 3;
            while std::fs::metadata(&wal).unwrap().len() == base_bytes.len() as u64
                && child.try_wait().unwrap().is_none()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_micros(100));
            }
            std::thread::sleep(Duration::from_micros(400 * (i as u64 - 4)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let got = std::fs::read(&wal).unwrap();
        assert!(got.len() >= base_bytes.len(), "kill {i}: old bytes lost");
        assert!(full.starts_with(&got), "kill {i}: WAL is not the old content followed by a prefix of the batch");
        match got.len() {
            n if n == base_bytes.len() => untouched += 1,
            n if n == full.len() => complete += 1,
            _ => partial += 1,
        }
        // What happens next: a torn tail is refused until repaired; a clean tail continues.
        let (code, out, _) = run(&["verify", s(&wal)]);
        match code {
            0 => {}
            1 => {
                torn += 1;
                let (code, _, err) = run(&["append", s(&wal), "noop"]);
                assert_eq!(code, 2, "kill {i}: appended after a torn tail");
                assert!(err.contains("walkit repair"), "{err}");
                assert_eq!(run(&["repair", s(&wal)]).0, 0);
                assert_eq!(run(&["verify", s(&wal)]).0, 0);
            }
            other => panic!("kill {i}: verify exit {other}: {out}"),
        }
        let records = record_count(&wal);
        let (code, out, _) = run(&["append", s(&wal), "noop"]);
        assert_eq!(code, 0);
        assert_eq!(out.trim(), (records + 1).to_string(), "kill {i}: wrong next LSN");
    }
    eprintln!("{kills} kills: {untouched} before writing, {partial} mid-write ({torn} torn), {complete} after");
    assert_eq!(untouched + partial + complete, kills);
    assert!(partial >= 5, "too few kills landed while writing ({partial}); the test lost its point");
}

#[test]
fn two_appenders_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("shared.wal");
    let a = batch(dir.path(), "a", "400", "3", "put=1");
    let b = batch(dir.path(), "b", "400", "4", "vector-put=1");
    let spawn = |input: &Path| {
        Proc::new(bin())
            .args(["append", s(&wal), "--wait", "--jsonl", s(input)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (pa.wait_with_output().unwrap(), pb.wait_with_output().unwrap());
    assert!(oa.status.success() && ob.status.success(), "{oa:?} {ob:?}");
    let (code, out, _) = run(&["verify", s(&wal)]);
    assert_eq!(code, 0, "{out}");
    let (_, dump, _) = run(&["dump", "--format", "jsonl", s(&wal)]);
    let types: Vec<String> = jsonl(&dump).iter().map(|l| l["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types.len(), 800);
    // Each batch is one contiguous run: the type changes exactly once.
    let changes = types.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(changes, 1, "batches interleaved");

    // Without --wait, racing appenders either win or fail fast with a clear message;
    // the WAL holds exactly the winners' batches, each contiguous.
    let race = dir.path().join("race.wal");
    let spawn_nowait = |input: &Path| {
        Proc::new(bin())
            .args(["append", s(&race), "--jsonl", s(input)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn_nowait(&a), spawn_nowait(&b));
    let (oa, ob) = (pa.wait_with_output().unwrap(), pb.wait_with_output().unwrap());
    let mut expected = 0;
    for o in [&oa, &ob] {
        if o.status.success() {
            expected += 400;
        } else {
            assert_eq!(o.status.code(), Some(2));
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("another walkit process holds the write lock"),
                "{o:?}"
            );
        }
    }
    assert!(expected > 0);
    assert_eq!(run(&["verify", s(&race)]).0, 0);
    let (_, dump, _) = run(&["dump", "--format", "jsonl", s(&race)]);
    let types: Vec<String> = jsonl(&dump).iter().map(|l| l["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types.len(), expected);
    assert!(types.windows(2).filter(|w| w[0] != w[1]).count() <= 1, "batches interleaved");
}
