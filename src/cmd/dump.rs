//! `walkit dump`: every record, damage and padding of one or more WALs.

use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::render::{hexdump::hexdump, json, table};
use crate::wal::log::{Event, walk_segments};
use crate::wal::payload::{self, Decoded};
use crate::wal::scan::{Item, RecordRef, ScanOptions};
use crate::wal::segment::discover;
use crate::wal::types::{RecordType, parse_record_type};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Hex,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// WAL files or WAL directories
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub filter: Filter,
    /// Stop where NodeDB's reader stops (first damage or padding in each segment)
    #[arg(long)]
    pub stop_at_damage: bool,
}

#[derive(clap::Args, Debug, Default, Clone)]
pub struct Filter {
    /// Only records with LSN >= this
    #[arg(long)]
    pub from_lsn: Option<u64>,
    /// Only records with LSN <= this
    #[arg(long)]
    pub to_lsn: Option<u64>,
    /// Only these record types (name like `put` / `VectorPut`, or number); repeatable
    #[arg(long = "type", value_parser = parse_type_arg)]
    pub types: Vec<RecordType>,
    #[arg(long)]
    pub tenant: Option<u64>,
    #[arg(long)]
    pub vshard: Option<u32>,
    #[arg(long)]
    pub database: Option<u64>,
    /// Only records that write to this collection (per FORMAT.md §4.4)
    #[arg(long)]
    pub collection: Option<String>,
    /// Stop after this many records
    #[arg(long)]
    pub limit: Option<u64>,
}

pub fn parse_type_arg(s: &str) -> Result<RecordType, String> {
    parse_record_type(s).ok_or_else(|| {
        format!("unknown record type {s:?} (use a name like put, vector-put, or a number)")
    })
}

impl Filter {
    pub fn matches_header(&self, r: &RecordRef<'_>) -> bool {
        let h = &r.header;
        self.from_lsn.is_none_or(|l| h.lsn >= l)
            && self.to_lsn.is_none_or(|l| h.lsn <= l)
            && (self.types.is_empty()
                || self
                    .types
                    .iter()
                    .any(|t| t.logical() == h.record_type.logical()))
            && self.tenant.is_none_or(|t| h.tenant_id == t)
            && self.vshard.is_none_or(|v| h.vshard_id == v)
            && self.database.is_none_or(|d| h.database_id == d)
    }

    pub fn matches_payload(&self, decoded: Option<&Decoded>) -> bool {
        match &self.collection {
            None => true,
            Some(c) => decoded.is_some_and(|d| d.collections().iter().any(|(_, name)| name == c)),
        }
    }
}

/// Writes items in the chosen format. Table output is printed in pages so memory
/// stays bounded on huge WALs.
struct Sink<W: Write> {
    out: W,
    format: Format,
    line: Vec<u8>,
    rows: Vec<Vec<comfy_table::Cell>>,
    items: u64,
}

const TABLE_PAGE: usize = 1000;

impl<W: Write> Sink<W> {
    fn begin(&mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    fn emit(&mut self) -> std::io::Result<()> {
        match self.format {
            Format::Jsonl => self.line.push(b'\n'),
            Format::Json => {
                let sep: &[u8] = if self.items == 0 { b"\n" } else { b",\n" };
                self.out.write_all(sep)?;
            }
            _ => {}
        }
        self.items += 1;
        json::flush_into(&mut self.out, &mut self.line)
    }

    fn row(&mut self, row: Vec<comfy_table::Cell>) -> std::io::Result<()> {
        self.rows.push(row);
        self.items += 1;
        if self.rows.len() >= TABLE_PAGE {
            self.flush_table()
        } else {
            Ok(())
        }
    }

    fn flush_table(&mut self) -> std::io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut t = table::new_table(&table::DUMP_HEADER);
        for r in self.rows.drain(..) {
            t.add_row(r);
        }
        table::align_numbers(&mut t, &[0, 3, 4, 9, 10]);
        writeln!(self.out, "{t}")
    }

    fn finish(&mut self) -> std::io::Result<()> {
        match self.format {
            Format::Json => self
                .out
                .write_all(if self.items == 0 { b"]\n" } else { b"\n]\n" })?,
            Format::Table => {
                self.flush_table()?;
                if self.items == 0 {
                    writeln!(self.out, "(no records)")?;
                }
            }
            _ => {}
        }
        self.out.flush()
    }
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut sink = Sink {
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        format: args.format,
        line: Vec::with_capacity(1 << 14),
        rows: Vec::new(),
        items: 0,
    };
    sink.begin()?;
    let mut remaining = args.filter.limit.unwrap_or(u64::MAX);
    let opts = ScanOptions {
        stop_at_damage: args.stop_at_damage,
    };
    for path in &args.paths {
        let segments =
            discover(path).with_context(|| format!("cannot open WAL {}", path.display()))?;
        let total = crate::wal::log::total_size(&segments);
        let pb = super::progress_bar(total);
        let mut done_bytes = 0u64;
        let mut write_err: Option<std::io::Error> = None;
        walk_segments(&segments, opts, &mut |ev| {
            if remaining == 0 {
                return ControlFlow::Break(());
            }
            let res = match ev {
                Event::SegmentStart(_) => Ok(()),
                Event::SegmentEnd(ctx, _) => {
                    done_bytes += ctx.size;
                    pb.set_position(done_bytes);
                    Ok(())
                }
                Event::Item(ctx, item) => {
                    if let Item::Record(r) = &item
                        && r.header.lsn % 4096 == 0
                    {
                        pb.set_position(done_bytes + r.offset);
                    }
                    emit_item(
                        &mut sink,
                        &args.filter,
                        &ctx.info.name,
                        &item,
                        &mut remaining,
                    )
                }
            };
            match res {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_err = Some(e);
                    ControlFlow::Break(())
                }
            }
        })
        .with_context(|| format!("cannot read WAL {}", path.display()))?;
        pb.finish_and_clear();
        if let Some(e) = write_err {
            return Err(e).context("writing output");
        }
    }
    sink.finish().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

fn emit_item<W: Write>(
    sink: &mut Sink<W>,
    filter: &Filter,
    seg: &str,
    item: &Item<'_>,
    remaining: &mut u64,
) -> std::io::Result<()> {
    match item {
        Item::Record(r) => {
            if !filter.matches_header(r) {
                return Ok(());
            }
            let (decoded, error) = decode_record(r);
            if !filter.matches_payload(decoded.as_ref()) {
                return Ok(());
            }
            *remaining -= 1;
            match sink.format {
                Format::Json | Format::Jsonl => {
                    json::record(&mut sink.line, Some(seg), r, None, decoded.as_ref(), error);
                    sink.emit()
                }
                Format::Table => {
                    let summary = table::payload_summary(decoded.as_ref(), r.payload, error);
                    sink.row(table::record_row(seg, r, summary))
                }
                Format::Hex => {
                    let h = &r.header;
                    let name = h
                        .record_type
                        .kind()
                        .map(|k| k.name().to_string())
                        .unwrap_or_else(|| format!("0x{:08x}", h.record_type.0));
                    writeln!(
                        sink.out,
                        "# {seg} offset {} lsn {} {name} payload_len {}",
                        r.offset, h.lsn, h.payload_len
                    )?;
                    let mut bytes = h.encode().to_vec();
                    bytes.extend_from_slice(r.payload);
                    sink.out.write_all(hexdump(r.offset, &bytes).as_bytes())
                }
            }
        }
        Item::Damage(d) => match sink.format {
            Format::Json | Format::Jsonl => {
                json::damage(&mut sink.line, Some(seg), d);
                sink.emit()
            }
            Format::Table => sink.row(table::damage_row(seg, d)),
            Format::Hex => {
                let lsn = d.lsn().map(|l| format!(" lsn {l}")).unwrap_or_default();
                writeln!(
                    sink.out,
                    "# {seg} offset {}{lsn} DAMAGE {} ({} bytes)",
                    d.offset,
                    d.kind.as_str(),
                    d.len
                )
            }
        },
        Item::Padding { offset, len } => match sink.format {
            Format::Json | Format::Jsonl => {
                json::padding(&mut sink.line, Some(seg), *offset, *len);
                sink.emit()
            }
            Format::Table => sink.row(table::plain_row(
                seg,
                *offset,
                "PADDING",
                format!("{len} zero bytes"),
            )),
            Format::Hex => writeln!(
                sink.out,
                "# {seg} offset {offset} PADDING ({len} zero bytes)"
            ),
        },
        Item::Preamble(p) => match sink.format {
            Format::Json | Format::Jsonl => {
                json::preamble(&mut sink.line, Some(seg), p);
                sink.emit()
            }
            Format::Table => sink.row(table::plain_row(
                seg,
                0,
                "PREAMBLE",
                format!("epoch {}", hex::encode(p.epoch)),
            )),
            Format::Hex => writeln!(
                sink.out,
                "# {seg} offset 0 PREAMBLE epoch {}",
                hex::encode(p.epoch)
            ),
        },
    }
}

/// Decodes a record's payload; encrypted payloads stay undecoded until a key is given.
fn decode_record(r: &RecordRef<'_>) -> (Option<Decoded>, Option<&'static str>) {
    if r.header.record_type.is_encrypted() {
        return (None, Some("encrypted payload; no key given"));
    }
    (
        Some(payload::decode(r.header.record_type.kind(), r.payload)),
        None,
    )
}
