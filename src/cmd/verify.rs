//! `walkit verify`: structural verification with a verdict in the exit code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::ValueEnum;
use serde_json::json;

use crate::wal::check::{Checker, Severity};
use crate::wal::log::{Event, total_size, walk_segments};
use crate::wal::scan::ScanOptions;
use crate::wal::segment::discover;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
#[command(after_help = super::EXIT_CODES)]
pub struct Args {
    /// WAL files or WAL directories
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also print informational findings (padding, unknown optional types)
    #[arg(long, short)]
    pub verbose: bool,
    /// With a key, encrypted records are also authenticated
    #[command(flatten)]
    pub key: super::KeyArgs,
}

pub fn exit_code(worst: Option<Severity>) -> u8 {
    match worst {
        Some(Severity::Corruption) => 3,
        Some(Severity::TornTail) => 1,
        _ => 0,
    }
}

fn verdict(worst: Option<Severity>) -> &'static str {
    match worst {
        Some(Severity::Corruption) => "corrupt",
        Some(Severity::TornTail) => "torn tail",
        _ => "clean",
    }
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let keys = args.key.load()?;
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut worst = None;
    for path in &args.paths {
        let segments = discover(path).context("cannot open WAL")?;
        let pb = super::progress_bar(total_size(&segments));
        let mut checker = Checker::new();
        checker.keys = keys.clone();
        let mut done = 0u64;
        walk_segments(&segments, ScanOptions::default(), &mut |ev| {
            if let Event::SegmentEnd(ctx, _) = &ev {
                done += ctx.size;
                pb.set_position(done);
            }
            checker.feed(&ev);
            std::ops::ControlFlow::Continue(())
        })
        .context("cannot read WAL")?;
        pb.finish_and_clear();
        worst = worst.max(checker.worst());
        reports.push((path, checker));
    }
    let elapsed = started.elapsed();
    let bytes: u64 = reports.iter().map(|(_, c)| c.summary.bytes).sum();
    let records: u64 = reports.iter().map(|(_, c)| c.summary.records).sum();
    let mb_per_s = bytes as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9);
    let code = exit_code(worst);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let paths: Vec<_> = reports
                .iter()
                .map(|(path, c)| {
                    let s = &c.summary;
                    json!({
                        "path": path.display().to_string(),
                        "status": verdict(c.worst()),
                        "segments": s.segments, "records": s.records, "bytes": s.bytes,
                        "first_lsn": s.first_lsn, "last_lsn": s.last_lsn,
                        "nodedb_records": s.nodedb_records,
                        "findings": c.findings.iter().map(|f| json!({
                            "severity": f.severity.as_str(), "code": f.code, "segment": f.segment,
                            "offset": f.offset, "lsn": f.lsn, "message": f.message,
                        })).collect::<Vec<_>>(),
                        "findings_not_shown": c.dropped_findings,
                    })
                })
                .collect();
            let doc = json!({
                "status": verdict(worst), "exit_code": code, "records": records, "bytes": bytes,
                "elapsed_ms": elapsed.as_secs_f64() * 1e3, "throughput_mb_s": mb_per_s, "paths": paths,
            });
            writeln!(out, "{doc}")?;
        }
        Format::Text => {
            for (path, c) in &reports {
                for f in &c.findings {
                    if f.severity == Severity::Info && !args.verbose {
                        continue;
                    }
                    let at = match (f.offset, f.lsn) {
                        (Some(o), Some(l)) => format!("offset {o} (LSN {l})"),
                        (Some(o), None) => format!("offset {o}"),
                        (None, _) => String::new(),
                    };
                    let file = if path.is_dir() { path.join(&f.segment) } else { path.to_path_buf() };
                    writeln!(out, "{}: {}: {at}: {}: {}", f.severity.as_str(), file.display(), f.code, f.message)?;
                }
                if c.dropped_findings > 0 {
                    writeln!(out, "... {} more findings not shown", c.dropped_findings)?;
                }
                let s = &c.summary;
                let lsns = match (s.first_lsn, s.last_lsn) {
                    (Some(a), Some(b)) => format!(", LSN {a}..{b}"),
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "{}: {}: {} records in {} segment(s){lsns}; NodeDB's reader returns {}",
                    path.display(),
                    verdict(c.worst()),
                    s.records,
                    s.segments,
                    s.nodedb_records
                )?;
            }
            writeln!(
                out,
                "verified {records} records, {bytes} bytes in {:.1} ms ({mb_per_s:.0} MB/s): {} (exit {code})",
                elapsed.as_secs_f64() * 1e3,
                verdict(worst)
            )?;
        }
    }
    Ok(ExitCode::from(code))
}
