//! Subcommands: each turns arguments into engine calls and hands results to `render`.

pub mod append;
pub mod corrupt;
pub mod dump;
pub mod follow;
pub mod generate;
pub mod repair;
pub mod replay;
pub mod stats;
pub mod verify;

use std::process::ExitCode;

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};

use crate::wal::crypto::{Key, KeyRing};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success; for verify: the WAL is clean
  1  verify: only a torn tail (normal after a crash; `walkit repair` removes it)
  2  usage or I/O error (bad arguments, unreadable file, refused write)
  3  verify: corruption inside the log (damaged record followed by valid ones,
     unknown required record type, LSN gap, segment name mismatch)";

/// For commands whose only failure is an error.
pub const SIMPLE_EXIT_CODES: &str = "Exit codes: 0 success; 2 usage or I/O error (nothing is changed)";

#[derive(Parser, Debug)]
#[command(name = "walkit", version, about = "Read, verify, author and replay NodeDB write-ahead logs", after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Decode records, damage and padding as a table, JSON, JSON Lines or hex
    Dump(dump::Args),
    /// Check every CRC, header, LSN and segment name; exit code tells the verdict
    Verify(verify::Args),
    /// Count records and bytes per record type (and per tenant / collection)
    Stats(stats::Args),
    /// Generate a deterministic, realistic WAL (same arguments, same bytes)
    Gen(generate::Args),
    /// Append typed records, or a JSON Lines batch, safely (locked, all or nothing)
    Append(append::Args),
    /// Cut a torn tail to the last valid record, keeping a backup of what is removed
    Repair(repair::Args),
    /// Write a damaged copy of a WAL (for tests); never modifies the input
    Corrupt(corrupt::Args),
    /// Simulate NodeDB's tombstone-filtered replay: a decision for every record
    Replay(replay::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Dump(a) => dump::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Stats(a) => stats::run(&a),
        Command::Gen(a) => generate::run(&a),
        Command::Append(a) => append::run(&a),
        Command::Repair(a) => repair::run(&a),
        Command::Corrupt(a) => corrupt::run(&a),
        Command::Replay(a) => replay::run(&a),
    }
}

/// A byte-count progress bar on stderr; indicatif draws nothing unless stderr is a terminal.
pub fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}") {
        pb.set_style(style);
    }
    pb
}

/// Keys for encrypted WALs. The first key given is the current one; any others are
/// older keys tried when decrypting (key rotation).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// AES-256 key file: 32 raw bytes or 64 hex digits (repeatable)
    #[arg(long, value_name = "FILE", global = true)]
    pub key_file: Vec<PathBuf>,
    /// AES-256 key as 64 hex digits (repeatable; or set WALKIT_KEY)
    #[arg(long, value_name = "HEX", env = "WALKIT_KEY", hide_env_values = true, global = true)]
    pub key_hex: Vec<String>,
}

impl KeyArgs {
    pub fn load(&self) -> anyhow::Result<Option<KeyRing>> {
        let mut keys = Vec::new();
        for f in &self.key_file {
            let bytes = std::fs::read(f).with_context(|| format!("reading key file {}", f.display()))?;
            keys.push(Key::from_file_bytes(&bytes).map_err(|e| anyhow!("key file {}: {e}", f.display()))?);
        }
        for h in &self.key_hex {
            keys.push(Key::from_file_bytes(h.as_bytes()).map_err(|e| anyhow!("--key-hex: {e}"))?);
        }
        let mut it = keys.into_iter();
        Ok(it.next().map(|current| KeyRing { current, previous: it.collect() }))
    }
}
