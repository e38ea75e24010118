//! `walkit stats`: record counts and bytes per type (and per tenant / collection).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use comfy_table::Cell;
use serde_json::json;

use crate::render::{human_bytes, percent, table};
use crate::wal::crypto;
use crate::wal::log::{Event, total_size, walk_segments};
use crate::wal::payload;
use crate::wal::scan::{Item, ScanOptions};
use crate::wal::segment::discover;
use crate::wal::stats::{Stats, Tally};
use crate::wal::types::RecordType;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
#[command(after_help = super::SIMPLE_EXIT_CODES)]
pub struct Args {
    /// WAL files or WAL directories (all are counted together)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Add a per-tenant breakdown
    #[arg(long)]
    pub by_tenant: bool,
    /// Add a per-(tenant, collection) breakdown (decodes payloads, slower)
    #[arg(long)]
    pub by_collection: bool,
    /// Key for encrypted WALs (needed for --by-collection)
    #[command(flatten)]
    pub key: super::KeyArgs,
}

fn type_label(logical: u32) -> String {
    RecordType(logical).kind().map(|k| k.name().to_string()).unwrap_or_else(|| format!("unknown 0x{logical:08x}"))
}

pub fn collect(args: &Args) -> Result<Stats> {
    let keys = args.key.load()?;
    let mut stats = Stats::default();
    for path in &args.paths {
        let segments = discover(path).context("cannot open WAL")?;
        let pb = super::progress_bar(total_size(&segments));
        let mut done = 0u64;
        walk_segments(&segments, ScanOptions::default(), &mut |ev| {
            match ev {
                Event::SegmentStart(ctx) => {
                    stats.segments += 1;
                    stats.file_bytes += ctx.size;
                }
                Event::SegmentEnd(ctx, _) => {
                    done += ctx.size;
                    pb.set_position(done);
                }
                Event::Item(ctx, Item::Record(r)) => {
                    stats.record(&r);
                    let plain = if args.by_collection {
                        crypto::plaintext(keys.as_ref(), ctx.preamble.as_ref(), &r).ok()
                    } else {
                        None
                    };
                    if let Some(p) = plain {
                        for (tenant, c) in payload::collections(r.header.record_type.kind(), &p) {
                            stats.collection(tenant.unwrap_or(r.header.tenant_id), &c, r.payload.len() as u64);
                        }
                    }
                }
                Event::Item(_, Item::Damage(d)) => {
                    stats.damage_count += 1;
                    stats.damage_bytes += d.len;
                }
                Event::Item(_, Item::Padding { len, .. }) => stats.padding_bytes += len,
                Event::Item(_, Item::Preamble(_)) => {}
            }
            std::ops::ControlFlow::Continue(())
        })
        .context("cannot read WAL")?;
        pb.finish_and_clear();
    }
    Ok(stats)
}

fn tally_json(t: &Tally, total: &Tally) -> serde_json::Value {
    json!({
        "records": t.records, "bytes": t.bytes, "payload_bytes": t.payload_bytes,
        "records_pct": t.records as f64 * 100.0 / total.records.max(1) as f64,
        "bytes_pct": t.bytes as f64 * 100.0 / total.bytes.max(1) as f64,
    })
}

fn tally_table(first: &str, rows: Vec<(String, &Tally)>, total: &Tally) -> comfy_table::Table {
    let mut t = table::new_table(&[first, "Records", "Records %", "Bytes", "Bytes %", "Payload bytes", "Avg record"]);
    let row = |label: String, x: &Tally| {
        vec![
            Cell::new(label),
            Cell::new(x.records),
            Cell::new(percent(x.records, total.records)),
            Cell::new(x.bytes),
            Cell::new(percent(x.bytes, total.bytes)),
            Cell::new(x.payload_bytes),
            Cell::new(x.bytes.checked_div(x.records).map_or_else(|| "-".into(), human_bytes)),
        ]
    };
    for (label, x) in rows {
        t.add_row(row(label, x));
    }
    t.add_row(row("Total".into(), total));
    table::align_numbers(&mut t, &[0]);
    t
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let s = collect(args)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let mut doc = json!({
                "segments": s.segments, "file_bytes": s.file_bytes, "total": tally_json(&s.total, &s.total),
                "damage": {"count": s.damage_count, "bytes": s.damage_bytes}, "padding_bytes": s.padding_bytes,
                "by_type": s.by_type.iter().map(|(t, x)| {
                    let mut v = tally_json(x, &s.total);
                    v["type"] = json!(RecordType(*t).kind().map(|k| k.name()));
                    v["record_type"] = json!(t);
                    v
                }).collect::<Vec<_>>(),
            });
            if args.by_tenant {
                doc["by_tenant"] = s
                    .by_tenant
                    .iter()
                    .map(|(t, x)| {
                        let mut v = tally_json(x, &s.total);
                        v["tenant_id"] = json!(t);
                        v
                    })
                    .collect();
            }
            if args.by_collection {
                doc["by_collection"] = s
                    .by_collection
                    .iter()
                    .map(|((t, c), x)| {
                        let mut v = tally_json(x, &s.total);
                        v["tenant_id"] = json!(t);
                        v["collection"] = json!(c);
                        v
                    })
                    .collect();
            }
            writeln!(out, "{doc}")?;
        }
        Format::Table => {
            let rows = s.by_type.iter().map(|(t, x)| (type_label(*t), x)).collect();
            writeln!(out, "{}", tally_table("Type", rows, &s.total))?;
            if args.by_tenant {
                let rows = s.by_tenant.iter().map(|(t, x)| (t.to_string(), x)).collect();
                writeln!(out, "{}", tally_table("Tenant", rows, &s.total))?;
            }
            if args.by_collection {
                let rows = s.by_collection.iter().map(|((t, c), x)| (format!("{t}/{c}"), x)).collect();
                writeln!(out, "{}", tally_table("Tenant/collection", rows, &s.total))?;
            }
            writeln!(
                out,
                "{} segment(s), {} file bytes; {} damaged region(s) ({} bytes); {} padding bytes",
                s.segments, s.file_bytes, s.damage_count, s.damage_bytes, s.padding_bytes
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
