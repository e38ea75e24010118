//! `walkit replay`: what NodeDB would recover, record by record (FORMAT.md §8).

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use comfy_table::Cell;
use serde_json::{Value, json};

use crate::render::{json::Obj, table};
use crate::wal::crypto;
use crate::wal::replay::{self, CollectionKey, Decided, Decision, Outcome, ReplayState, SegmentStop};
use crate::wal::segment::discover;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 replay completes; 2 usage or I/O error;\n\
3 replay fails (an unknown required record type), as it would in NodeDB")]
pub struct Args {
    /// WAL files or WAL directories (each replayed on its own)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only the summary: counts per decision and per collection, tombstones, checkpoint
    #[arg(long)]
    pub summary: bool,
    #[command(flatten)]
    pub key: super::KeyArgs,
}

const DECISIONS: [&str; 5] =
    ["applied", "skipped_tombstoned", "skipped_unknown_optional", "skipped_flushed", "not_replayed"];
const EXTENSION_NOTE: &str =
    "walkit extension: sub-records filtered individually; NodeDB 0.1.0 does not replay Transaction records";

fn slot(d: &Decision) -> usize {
    DECISIONS.iter().position(|n| *n == d.as_str()).expect("every decision is listed")
}

#[derive(Default)]
struct Summary {
    records: u64,
    decisions: [u64; 5],
    collections: BTreeMap<CollectionKey, [u64; 5]>,
    stops: Vec<SegmentStop>,
}

fn shadow_json(d: &Decision) -> Value {
    match d {
        Decision::SkippedTombstoned { key, tombstone } => json!({
            "tenant_id": key.0, "collection": key.1, "purge_lsn": tombstone.purge_lsn, "tombstone_lsn": tombstone.record_lsn,
        }),
        _ => Value::Null,
    }
}

fn decision_line(out: &mut Vec<u8>, d: &Decided<'_, '_>) {
    let h = &d.record.header;
    let mut o = Obj::new(out, "decision");
    o.str("segment", &d.ctx.info.name)
        .u64("offset", d.record.offset)
        .u64("lsn", h.lsn)
        .opt_str("type", h.record_type.kind().map(|k| k.name()))
        .u64("tenant_id", d.key.as_ref().map_or(h.tenant_id, |k| k.0))
        .opt_str("collection", d.key.as_ref().map(|k| k.1.as_str()))
        .str("decision", d.decision.as_str())
        .value("shadowed_by", &shadow_json(&d.decision));
    if let Decision::SkippedFlushed { watermark } = d.decision {
        o.u64("flush_watermark", watermark);
    }
    if let Some(slot) = d.record.dwb_slot {
        o.u64("dwb_slot", slot as u64)
            .str("note", "CRC fails in the segment; replayed from the intact .dwb copy, as NodeDB does");
    }
    if h.record_type.kind() == Some(crate::wal::RecordKind::Transaction) {
        let subs: Vec<Value> = d
            .subs
            .iter()
            .map(|s| {
                json!({
                    "tenant_id": s.key.as_ref().map(|k| k.0), "collection": s.key.as_ref().map(|k| k.1.clone()),
                    "decision": s.decision.as_str(), "shadowed_by": shadow_json(&s.decision),
                })
            })
            .collect();
        o.value("sub_records", &Value::Array(subs)).str("note", EXTENSION_NOTE);
    }
    o.end();
}

fn decision_row(d: &Decided<'_, '_>) -> Vec<Cell> {
    let h = &d.record.header;
    let name = h.record_type.kind().map_or_else(|| format!("0x{:08x}", h.record_type.0), |k| k.name().to_string());
    let detail = match &d.decision {
        Decision::SkippedTombstoned { key, tombstone } => {
            format!("tombstone {}/{} purge_lsn {} (LSN {})", key.0, key.1, tombstone.purge_lsn, tombstone.record_lsn)
        }
        Decision::SkippedFlushed { watermark } => format!("flushed up to LSN {watermark}"),
        _ if d.record.dwb_slot.is_some() => "from the .dwb copy (CRC fails in the segment)".to_string(),
        _ if !d.subs.is_empty() => {
            let skipped = d.subs.iter().filter(|s| s.decision != Decision::Applied).count();
            format!("{} sub-record(s), {skipped} tombstoned (walkit extension)", d.subs.len())
        }
        _ => String::new(),
    };
    vec![
        Cell::new(&d.ctx.info.name),
        Cell::new(d.record.offset),
        Cell::new(h.lsn),
        Cell::new(name),
        Cell::new(d.key.as_ref().map_or(h.tenant_id, |k| k.0)),
        Cell::new(d.key.as_ref().map_or("", |k| k.1.as_str())),
        Cell::new(d.decision.as_str()),
        Cell::new(detail),
    ]
}

fn summary_json(path: &str, s: &Summary, st: &ReplayState, outcome: &Outcome) -> Value {
    let counts =
        |c: &[u64; 5]| -> Value { DECISIONS.iter().zip(c).map(|(n, v)| ((*n).to_string(), json!(v))).collect() };
    json!({
        "kind": "summary",
        "path": path,
        "outcome": match outcome { Outcome::Completed => "completed", Outcome::Failed { .. } => "failed" },
        "error": match outcome {
            Outcome::Completed => Value::Null,
            Outcome::Failed { segment, offset, lsn, record_type } => json!({
                "reason": "unknown_required_type", "segment": segment, "offset": offset, "lsn": lsn, "record_type": record_type,
            }),
        },
        "records": s.records,
        "decisions": counts(&s.decisions),
        "collections": s.collections.iter().map(|((t, c), v)| {
            let mut o = json!({"tenant_id": t, "collection": c});
            for (n, x) in DECISIONS.iter().zip(v) { o[*n] = json!(x); }
            o
        }).collect::<Vec<_>>(),
        "tombstones": st.tombstones.iter().map(|((t, c), tomb)| json!({
            "tenant_id": t, "collection": c, "purge_lsn": tomb.purge_lsn, "tombstone_lsn": tomb.record_lsn,
        })).collect::<Vec<_>>(),
        "latest_checkpoint_lsn": st.latest_checkpoint,
        "segment_stops": s.stops.iter().map(|x| json!({"segment": x.segment, "offset": x.offset, "reason": x.reason})).collect::<Vec<_>>(),
    })
}

fn print_summary_tables(out: &mut impl Write, v: &Value) -> std::io::Result<()> {
    let mut t = table::new_table(&["Decision", "Records"]);
    for n in DECISIONS {
        t.add_row(vec![Cell::new(n), Cell::new(&v["decisions"][n])]);
    }
    writeln!(out, "{t}")?;
    let mut header = vec!["Tenant", "Collection"];
    header.extend(DECISIONS);
    let mut t = table::new_table(&header);
    for c in v["collections"].as_array().into_iter().flatten() {
        let mut row = vec![Cell::new(&c["tenant_id"]), Cell::new(c["collection"].as_str().unwrap_or(""))];
        row.extend(DECISIONS.iter().map(|n| Cell::new(&c[*n])));
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    let mut t = table::new_table(&["Tenant", "Collection", "Purge LSN", "Tombstone record LSN"]);
    for x in v["tombstones"].as_array().into_iter().flatten() {
        t.add_row(vec![
            Cell::new(&x["tenant_id"]),
            Cell::new(x["collection"].as_str().unwrap_or("")),
            Cell::new(&x["purge_lsn"]),
            Cell::new(&x["tombstone_lsn"]),
        ]);
    }
    writeln!(out, "{t}")?;
    let checkpoint = v["latest_checkpoint_lsn"].as_u64().map_or("none".to_string(), |c| c.to_string());
    writeln!(
        out,
        "{}: {} records, latest checkpoint LSN {checkpoint}, replay {}",
        v["path"].as_str().unwrap_or(""),
        v["records"],
        v["outcome"].as_str().unwrap_or("")
    )?;
    for stop in v["segment_stops"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "NodeDB's reader stops {} at offset {} ({})",
            stop["segment"].as_str().unwrap_or(""),
            stop["offset"],
            stop["reason"].as_str().unwrap_or("")
        )?;
    }
    if let Some(e) = v["error"].as_object() {
        writeln!(
            out,
            "replay fails: unknown required record type 0x{:08x} at {} offset {} (LSN {})",
            e["record_type"].as_u64().unwrap_or(0),
            e["segment"].as_str().unwrap_or(""),
            e["offset"],
            e["lsn"]
        )?;
    }
    Ok(())
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let keys = args.key.load()?;
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut failed = false;
    let mut first_json = true;
    if args.format == Format::Json {
        out.write_all(b"[")?;
    }
    for path in &args.paths {
        let segments = discover(path).context("cannot open WAL")?;
        let plain = |ctx: &crate::wal::log::SegmentCtx<'_>, r: &crate::wal::scan::RecordRef<'_>| {
            crypto::plaintext(keys.as_ref(), ctx.preamble.as_ref(), r).ok().map(std::borrow::Cow::into_owned)
        };
        let st = replay::prepare(&segments, &mut { plain }).context("cannot read WAL")?;
        let mut summary = Summary::default();
        let mut line = Vec::with_capacity(512);
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let mut io_err: Option<std::io::Error> = None;
        let mut stops = Vec::new();
        let outcome = replay::decide(
            &segments,
            &st,
            &mut { plain },
            &mut |d| {
                summary.records += 1;
                summary.decisions[slot(&d.decision)] += 1;
                if let Some(k) = &d.key {
                    summary.collections.entry(k.clone()).or_default()[slot(&d.decision)] += 1;
                }
                for sub in &d.subs {
                    if let Some(k) = &sub.key {
                        summary.collections.entry(k.clone()).or_default()[slot(&sub.decision)] += 1;
                    }
                }
                if args.summary || io_err.is_some() {
                    return;
                }
                let res = match args.format {
                    Format::Table => {
                        rows.push(decision_row(&d));
                        if rows.len() >= 1000 { flush_rows(&mut out, &mut rows) } else { Ok(()) }
                    }
                    Format::Jsonl | Format::Json => {
                        line.clear();
                        if args.format == Format::Json {
                            line.extend_from_slice(if first_json { b"\n" } else { b",\n" });
                            first_json = false;
                        }
                        decision_line(&mut line, &d);
                        if args.format == Format::Jsonl {
                            line.push(b'\n');
                        }
                        out.write_all(&line)
                    }
                };
                if let Err(e) = res {
                    io_err = Some(e);
                }
            },
            &mut |stop| stops.push(stop),
        )
        .context("cannot read WAL")?;
        if let Some(e) = io_err {
            return Err(e).context("writing output");
        }
        summary.stops = stops;
        failed |= outcome != Outcome::Completed;
        let v = summary_json(&path.display().to_string(), &summary, &st, &outcome);
        match args.format {
            Format::Table => {
                flush_rows(&mut out, &mut rows)?;
                print_summary_tables(&mut out, &v)?;
            }
            Format::Jsonl => writeln!(out, "{v}")?,
            Format::Json => {
                write!(out, "{}{v}", if first_json { "\n" } else { ",\n" })?;
                first_json = false;
            }
        }
    }
    if args.format == Format::Json {
        out.write_all(b"\n]\n")?;
    }
    out.flush()?;
    Ok(ExitCode::from(if failed { 3 } else { 0 }))
}

fn flush_rows(out: &mut impl Write, rows: &mut Vec<Vec<Cell>>) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut t = table::new_table(&["Segment", "Offset", "LSN", "Type", "Tenant", "Collection", "Decision", "Why"]);
    for r in rows.drain(..) {
        t.add_row(r);
    }
    table::align_numbers(&mut t, &[0, 3, 5, 6, 7]);
    writeln!(out, "{t}")
}
