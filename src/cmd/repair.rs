//! `walkit repair`: cut a torn tail (with a backup of what is removed).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::wal::repair;
use crate::wal::writer::lock_existing;

#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 repaired or nothing to repair; 2 usage or I/O error;\n\
3 refused: the damage is inside the log and valid records would be lost (use --force)")]
pub struct Args {
    /// WAL file or WAL directory
    pub path: PathBuf,
    /// Show what would be removed, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also cut corruption inside the log, losing the valid records after it (backed up)
    #[arg(long)]
    pub force: bool,
    /// Wait for a running writer instead of failing
    #[arg(long)]
    pub wait: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let _lock = lock_existing(&args.path, args.wait).context("cannot repair")?;
    let mut out = std::io::stdout().lock();
    let Some(plan) = repair::plan(&args.path).context("cannot read WAL")? else {
        writeln!(out, "{}: nothing to repair", args.path.display())?;
        return Ok(ExitCode::SUCCESS);
    };
    let removed = plan.segment_len - plan.cut_offset;
    let lsn = plan.lsn.map(|l| format!(" (LSN {l})")).unwrap_or_default();
    let refused = !plan.is_tail_only() && !args.force;
    writeln!(
        out,
        "{}: {} at offset {}{lsn}: {} {removed} bytes from offset {} to the end",
        plan.segment.display(),
        plan.reason,
        plan.cut_offset,
        if args.dry_run || refused { "would remove" } else { "removing" },
        plan.cut_offset
    )?;
    if !plan.is_tail_only() {
        writeln!(
            out,
            "the damage is inside the log: {} valid record(s) after it would be lost{}",
            plan.records_lost,
            if plan.later_segments.is_empty() {
                String::new()
            } else {
                format!(", and {} later segment(s) set aside", plan.later_segments.len())
            }
        )?;
        if refused {
            writeln!(out, "refused: run with --force to cut it anyway (the removed bytes are backed up first)")?;
            return Ok(ExitCode::from(3));
        }
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let backups = repair::apply(&plan).context("repair failed")?;
    for b in backups {
        writeln!(out, "backup: {}", b.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
