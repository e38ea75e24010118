//! `walkit dump`: every record, damage and padding of one or more WALs.

use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::render::{hexdump::hexdump, json, table};
use std::sync::mpsc::sync_channel;

use crate::wal::log::{Event, for_each_segment, total_size, walk_segments};
use std::borrow::Cow;

use comfy_table::Cell;

use crate::wal::crypto::{self, CryptoError, KeyRing};
use crate::wal::dwb::Dwb;
use crate::wal::payload;
use crate::wal::scan::{Item, RecordRef, ScanOptions, Scanner};
use crate::wal::segment::Preamble;
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
#[command(after_help = super::SIMPLE_EXIT_CODES)]
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
    /// List the slots of the WAL's `.dwb` double-write companions instead of records
    #[arg(long)]
    pub dwb: bool,
    /// JSON output: leave `payload` null instead of decoding it (`payload_hex` has the
    /// bytes); several times faster on large WALs
    #[arg(long)]
    pub no_decode: bool,
    /// Keep watching for appended records and new segments (like `tail -f`); Ctrl-C exits 0
    #[arg(long, conflicts_with_all = ["dwb", "stop_at_damage"])]
    pub follow: bool,
    #[command(flatten)]
    pub key: super::KeyArgs,
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
    parse_record_type(s)
        .ok_or_else(|| format!("unknown record type {s:?} (use a name like put, vector-put, or a number)"))
}

impl Filter {
    pub fn matches_header(&self, r: &RecordRef<'_>) -> bool {
        let h = &r.header;
        self.from_lsn.is_none_or(|l| h.lsn >= l)
            && self.to_lsn.is_none_or(|l| h.lsn <= l)
            && (self.types.is_empty() || self.types.iter().any(|t| t.logical() == h.record_type.logical()))
            && self.tenant.is_none_or(|t| h.tenant_id == t)
            && self.vshard.is_none_or(|v| h.vshard_id == v)
            && self.database.is_none_or(|d| h.database_id == d)
    }

    /// The collection filter, on the readable payload (encrypted ones without a key never match).
    pub fn matches_payload(&self, r: &RecordRef<'_>, plain: Result<&[u8], &CryptoError>) -> bool {
        match (&self.collection, plain) {
            (None, _) => true,
            (Some(c), Ok(p)) => payload::collections(r.header.record_type.kind(), p).iter().any(|(_, name)| name == c),
            (Some(_), Err(_)) => false,
        }
    }
}

/// One rendered batch: the bytes, and where each emitted item ends (with whether it
/// was a record, for `--limit`).
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    ends: Vec<(usize, bool)>,
}

/// How a worker reads payloads: the key ring and the segment's preamble.
#[derive(Clone, Copy)]
pub(crate) struct Keys<'k> {
    pub ring: Option<&'k KeyRing>,
    pub preamble: Option<Preamble>,
    /// Decode payloads into `payload` (off with --no-decode).
    pub decode: bool,
}

impl Keys<'_> {
    fn plain<'a>(&self, r: &RecordRef<'a>) -> Result<Cow<'a, [u8]>, CryptoError> {
        crypto::plaintext(self.ring, self.preamble.as_ref(), r)
    }
}

/// Renders one item as a JSON object (no trailing newline); returns false if filtered out.
pub(crate) fn render_json(filter: &Filter, seg: &str, keys: Keys<'_>, item: &Item<'_>, out: &mut Vec<u8>) -> bool {
    match item {
        Item::Record(r) => {
            if !filter.matches_header(r) {
                return false;
            }
            let plain = keys.plain(r);
            let plain = plain.as_deref();
            if !filter.matches_payload(r, plain) {
                return false;
            }
            json::record(out, Some(seg), r, plain, keys.decode);
        }
        Item::Damage(d) => json::damage(out, Some(seg), d),
        Item::Padding { offset, len } => json::padding(out, Some(seg), *offset, *len),
        Item::Preamble(p) => json::preamble(out, Some(seg), p),
    }
    true
}

/// Renders a batch. JSON Lines items end with a newline; JSON array items start with
/// `,\n` (the writer drops the comma of the very first one).
fn render_chunk(filter: &Filter, seg: &str, keys: Keys<'_>, items: &[Item<'_>], array: bool) -> Chunk {
    let mut c = Chunk { bytes: Vec::with_capacity(1 << 16), ends: Vec::with_capacity(items.len()) };
    for item in items {
        let mark = c.bytes.len();
        if array {
            c.bytes.extend_from_slice(b",\n");
        }
        if render_json(filter, seg, keys, item, &mut c.bytes) {
            if !array {
                c.bytes.push(b'\n');
            }
            c.ends.push((c.bytes.len(), matches!(item, Item::Record(_))));
        } else {
            c.bytes.truncate(mark);
        }
    }
    c
}

/// Streams JSON / JSON Lines output, keeping item order.
struct JsonOut<W: Write> {
    out: W,
    array: bool,
    items: u64,
    remaining: u64,
}

impl<W: Write> JsonOut<W> {
    fn write_chunk(&mut self, c: &Chunk) -> std::io::Result<()> {
        // Everything up to the item that exhausts --limit goes out in one write.
        let mut cut = 0;
        let first = self.items == 0;
        for &(end, is_record) in &c.ends {
            if self.remaining == 0 {
                break;
            }
            if is_record {
                self.remaining -= 1;
            }
            self.items += 1;
            cut = end;
        }
        let skip = usize::from(self.array && first && cut > 0);
        self.out.write_all(&c.bytes[skip..cut])
    }
}

/// A rendering batch ends after this many items or payload bytes: small enough to
/// keep memory flat, large enough to amortise the hand-off between threads.
const BATCH_ITEMS: usize = 256;
const BATCH_BYTES: usize = 128 << 10;

fn dump_json(args: &Args) -> Result<()> {
    let ring = args.key.load()?;
    let stdout = std::io::stdout();
    let mut sink = JsonOut {
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        array: args.format == Format::Json,
        items: 0,
        remaining: args.filter.limit.unwrap_or(u64::MAX),
    };
    if sink.array {
        sink.out.write_all(b"[")?;
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let opts = ScanOptions { stop_at_damage: args.stop_at_damage, ..Default::default() };
    for path in &args.paths {
        let segments = discover(path).context("cannot open WAL")?;
        let pb = super::progress_bar(total_size(&segments));
        let mut done_bytes = 0u64;
        for_each_segment(&segments, |ctx, data| -> Result<ControlFlow<()>> {
            let seg = ctx.info.name.as_str();
            let filter = &args.filter;
            std::thread::scope(|s| -> Result<()> {
                let mut jobs = Vec::with_capacity(workers);
                let mut results = Vec::with_capacity(workers);
                for _ in 0..workers {
                    let (job_tx, job_rx) = sync_channel::<Vec<Item<'_>>>(2);
                    let (res_tx, res_rx) = sync_channel::<Chunk>(2);
                    let array = sink.array;
                    let keys = Keys { ring: ring.as_ref(), preamble: ctx.preamble, decode: !args.no_decode };
                    s.spawn(move || {
                        for batch in job_rx {
                            if res_tx.send(render_chunk(filter, seg, keys, &batch, array)).is_err() {
                                break;
                            }
                        }
                    });
                    jobs.push(job_tx);
                    results.push(res_rx);
                }
                let (mut sent, mut written) = (0usize, 0usize);
                let mut outcome = Ok(());
                let mut batch = Vec::with_capacity(BATCH_ITEMS);
                let mut batch_bytes = 0;
                let mut scanner = Scanner::new(data, ScanOptions { keep_pages: true, ..opts });
                // Scan position at the end of each batch in flight, to release its pages
                // once it is written.
                let mut batch_ends = std::collections::VecDeque::new();
                let mut released = 0usize;
                loop {
                    let item = scanner.next();
                    let end = item.is_none();
                    if let Some(item) = item {
                        if let Item::Record(r) = &item {
                            batch_bytes += r.payload.len();
                        }
                        batch.push(item);
                    }
                    if batch.len() >= BATCH_ITEMS || batch_bytes >= BATCH_BYTES || (end && !batch.is_empty()) {
                        batch_bytes = 0;
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ITEMS));
                        jobs[sent % workers].send(full).expect("worker alive");
                        batch_ends.push_back(scanner.position() as usize);
                        sent += 1;
                        pb.set_position(done_bytes + scanner.position());
                    }
                    // Keep at most two batches per worker in flight, then write in order.
                    while written < sent && (end || sent - written >= 2 * workers) {
                        let chunk = results[written % workers].recv().expect("worker alive");
                        written += 1;
                        let end = batch_ends.pop_front().unwrap_or(released);
                        data.release(released, end);
                        released = end;
                        if outcome.is_ok() {
                            outcome = sink.write_chunk(&chunk);
                        }
                    }
                    if end || sink.remaining == 0 || outcome.is_err() {
                        break;
                    }
                }
                drop(jobs);
                // Drain what is still in flight so the workers can finish.
                while written < sent {
                    let _ = results[written % workers].recv();
                    written += 1;
                }
                data.release(released, data.bytes().len());
                outcome.context("writing output")
            })?;
            done_bytes += ctx.size;
            pb.set_position(done_bytes);
            Ok(if sink.remaining == 0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
        })
        .context("cannot read WAL")?;
        pb.finish_and_clear();
        if sink.remaining == 0 {
            break;
        }
    }
    if sink.array {
        sink.out.write_all(if sink.items == 0 { b"]\n" } else { b"\n]\n" })?;
    }
    sink.out.flush().context("writing output")?;
    Ok(())
}

/// One item for people: a table row, or hex-dump text.
pub(crate) enum Human {
    Row(Vec<Cell>),
    Text(String),
}

/// Renders one item as a table row or hex text; `None` if the filter drops it.
pub(crate) fn human_item(args: &Args, keys: Keys<'_>, seg: &str, item: &Item<'_>) -> Option<Human> {
    let table = args.format == Format::Table;
    Some(match item {
        Item::Record(r) => {
            let plain = keys.plain(r);
            let plain = plain.as_deref();
            if !args.filter.matches_header(r) || !args.filter.matches_payload(r, plain) {
                return None;
            }
            if table {
                let summary = match plain {
                    Ok(p) => table::payload_summary(Some(&payload::decode(r.header.record_type.kind(), p)), p, None),
                    Err(e) => table::payload_summary(None, r.payload, Some(&e.to_string())),
                };
                Human::Row(table::record_row(seg, r, summary))
            } else {
                let h = &r.header;
                let name =
                    h.record_type.kind().map_or_else(|| format!("0x{:08x}", h.record_type.0), |k| k.name().to_string());
                let mut bytes = h.encode().to_vec();
                bytes.extend_from_slice(r.payload);
                Human::Text(format!(
                    "# {seg} offset {} lsn {} {name} payload_len {}\n{}",
                    r.offset,
                    h.lsn,
                    h.payload_len,
                    hexdump(r.offset, &bytes)
                ))
            }
        }
        Item::Damage(d) if table => Human::Row(table::damage_row(seg, d)),
        Item::Damage(d) => {
            let lsn = d.lsn().map(|l| format!(" lsn {l}")).unwrap_or_default();
            Human::Text(format!("# {seg} offset {}{lsn} DAMAGE {} ({} bytes)\n", d.offset, d.kind.as_str(), d.len))
        }
        Item::Padding { offset, len } if table => {
            Human::Row(table::plain_row(seg, *offset, "PADDING", format!("{len} zero bytes")))
        }
        Item::Padding { offset, len } => Human::Text(format!("# {seg} offset {offset} PADDING ({len} zero bytes)\n")),
        Item::Preamble(p) if table => {
            Human::Row(table::plain_row(seg, 0, "PREAMBLE", format!("epoch {}", faster_hex::hex_string(&p.epoch))))
        }
        Item::Preamble(p) => {
            Human::Text(format!("# {seg} offset 0 PREAMBLE epoch {}\n", faster_hex::hex_string(&p.epoch)))
        }
    })
}

/// Prints buffered rows as one table.
pub(crate) fn flush_table(out: &mut impl Write, rows: &mut Vec<Vec<Cell>>) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut t = table::new_table(&table::DUMP_HEADER);
    for r in rows.drain(..) {
        t.add_row(r);
    }
    table::align_numbers(&mut t, &[0, 3, 4, 9, 10]);
    writeln!(out, "{t}")
}

/// Table and hex output: for people, so sequential and paged.
fn dump_human(args: &Args) -> Result<()> {
    let ring = args.key.load()?;
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut shown = 0u64;
    let mut remaining = args.filter.limit.unwrap_or(u64::MAX);
    let opts = ScanOptions { stop_at_damage: args.stop_at_damage, ..Default::default() };
    for path in &args.paths {
        let segments = discover(path).context("cannot open WAL")?;
        let mut write_err = None;
        walk_segments(&segments, opts, &mut |ev| {
            let Event::Item(ctx, item) = ev else {
                return ControlFlow::Continue(());
            };
            let keys = Keys { ring: ring.as_ref(), preamble: ctx.preamble, decode: !args.no_decode };
            let res = match human_item(args, keys, &ctx.info.name, &item) {
                None => Ok(()),
                Some(h) => {
                    shown += 1;
                    if matches!(item, Item::Record(_)) {
                        remaining -= 1;
                    }
                    match h {
                        Human::Text(t) => out.write_all(t.as_bytes()),
                        Human::Row(r) => {
                            rows.push(r);
                            if rows.len() >= TABLE_PAGE { flush_table(&mut out, &mut rows) } else { Ok(()) }
                        }
                    }
                }
            };
            if let Err(e) = res {
                write_err = Some(e);
                return ControlFlow::Break(());
            }
            if remaining == 0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .context("cannot read WAL")?;
        if let Some(e) = write_err {
            return Err(e).context("writing output");
        }
        if remaining == 0 {
            break;
        }
    }
    flush_table(&mut out, &mut rows)?;
    if shown == 0 && args.format == Format::Table {
        writeln!(out, "(no records)")?;
    }
    out.flush().context("writing output")
}

/// Rows per printed table page, so memory stays bounded on huge WALs.
const TABLE_PAGE: usize = 1000;

/// `--dwb`: every slot of every companion, in the chosen format.
fn dump_dwb(args: &Args) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut t = table::new_table(&["File", "Slot", "Len", "LSN", "Type", "Tenant", "Valid"]);
    let mut rows = 0;
    let mut values = Vec::new();
    for path in &args.paths {
        for seg in discover(path).context("cannot open WAL")? {
            let Some(d) = Dwb::for_segment(&seg.path).context("cannot read .dwb")? else { continue };
            let file = d.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let (magic_ok, count, write_pos) = d.header();
            if !magic_ok {
                eprintln!("{}: bad magic in the header block; slots read anyway", d.path.display());
            }
            for slot in d.slots() {
                let h = slot.header;
                let name = h.and_then(|h| h.record_type.kind()).map(|k| k.name());
                values.push(serde_json::json!({
                    "kind": "dwb_slot", "file": file, "count": count, "write_pos": write_pos, "slot": slot.index,
                    "len": slot.len, "lsn": h.map(|h| h.lsn), "type": name, "record_type": h.map(|h| h.record_type.0),
                    "tenant_id": h.map(|h| h.tenant_id), "valid": slot.valid,
                }));
                t.add_row(vec![
                    Cell::new(&file),
                    Cell::new(slot.index),
                    Cell::new(slot.len),
                    Cell::new(h.map_or(String::new(), |h| h.lsn.to_string())),
                    Cell::new(name.unwrap_or("")),
                    Cell::new(h.map_or(String::new(), |h| h.tenant_id.to_string())),
                    Cell::new(if slot.valid { "yes" } else { "no" }),
                ]);
                rows += 1;
            }
        }
    }
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::Value::Array(values))?,
        Format::Jsonl => {
            for v in values {
                writeln!(out, "{v}")?;
            }
        }
        _ if rows == 0 => writeln!(out, "(no .dwb slots)")?,
        _ => writeln!(out, "{t}")?,
    }
    out.flush().context("writing output")
}

pub fn run(args: &Args) -> Result<ExitCode> {
    if args.follow {
        super::follow::run(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.dwb {
        dump_dwb(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    match args.format {
        Format::Json | Format::Jsonl => dump_json(args)?,
        Format::Table | Format::Hex => dump_human(args)?,
    }
    Ok(ExitCode::SUCCESS)
}
