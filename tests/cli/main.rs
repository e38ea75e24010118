//! End-to-end tests: run the real `walkit` binary on real files.

mod append;
mod dump;
mod dwb;
mod encryption;
mod follow;
mod generate;
mod repair;
mod replay;
mod safety;
mod stats;
mod verify;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn walkit() -> Command {
    Command::cargo_bin("walkit").unwrap()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

pub fn nodedb(name: &str) -> PathBuf {
    fixture("nodedb").join(name)
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs walkit and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = walkit().args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

pub fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Builds a WAL file record by record with the engine writer.
pub fn write_wal(path: &Path, records: &[(u32, u64, &[u8])]) {
    use walkit::wal::types::RecordType;
    use walkit::wal::writer::{NewRecord, WalWriter, WriterOptions};
    let mut w = WalWriter::open(path, WriterOptions::default()).unwrap();
    for (rt, tenant, payload) in records {
        w.append(&NewRecord {
            record_type: RecordType(*rt),
            tenant_id: *tenant,
            vshard_id: 0,
            database_id: 0,
            payload,
        })
        .unwrap();
    }
    w.sync().unwrap();
}
