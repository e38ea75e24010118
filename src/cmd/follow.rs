//! `walkit dump --follow`: print records as they are appended, like `tail -f`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::dump::{Args, Format, Human, Keys, flush_table, human_item, render_json};
use crate::wal::scan::{DamageKind, Item, NodeDbView, ScanOptions, Scanner};
use crate::wal::segment::{Preamble, SegmentData, discover};

const POLL: Duration = Duration::from_millis(100);

/// Where the follower stands: a segment and the record boundary it has printed up to.
struct Position {
    segment: String,
    offset: usize,
    nodedb: NodeDbView,
}

pub fn run(args: &Args) -> Result<()> {
    let [path] = args.paths.as_slice() else { bail!("--follow watches exactly one WAL path") };
    if args.format == Format::Json {
        bail!("--follow needs a streaming format: --format jsonl, table or hex");
    }
    let ring = args.key.load()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("installing the Ctrl-C handler")?;
    let mut out = std::io::stdout().lock();
    let mut at: Option<Position> = None;
    let mut remaining = args.filter.limit.unwrap_or(u64::MAX);
    let opts = ScanOptions::default();
    while !stop.load(Ordering::SeqCst) && remaining > 0 {
        let segments = discover(path).context("cannot open WAL")?;
        let first = at.as_ref().and_then(|p| segments.iter().position(|s| s.name == p.segment)).unwrap_or(0);
        let mut rows = Vec::new();
        for (i, seg) in segments.iter().enumerate().skip(first) {
            let is_last = i + 1 == segments.len();
            let data = SegmentData::open(&seg.path).context("cannot read WAL")?;
            let keys = Keys { ring: ring.as_ref(), preamble: Preamble::detect(data.bytes()), decode: !args.no_decode };
            let mut scanner = match at.take().filter(|p| p.segment == seg.name) {
                Some(p) => Scanner::resume(&data, opts, p.offset, p.nodedb),
                None => Scanner::new(&data, opts),
            };
            let mut printed_to = scanner.position() as usize;
            while let Some(item) = scanner.next() {
                // A torn tail of the active segment may still be being written: wait for it.
                if let Item::Damage(d) = &item {
                    let torn = matches!(
                        d.kind,
                        DamageKind::TornHeader | DamageKind::TornPayload | DamageKind::ChecksumMismatch
                    );
                    if is_last && d.at_tail && torn {
                        if scanner.nodedb.stop.is_some_and(|(o, _)| o == d.offset) {
                            scanner.nodedb.stop = None;
                        }
                        break;
                    }
                }
                emit(args, keys, &seg.name, &item, &mut out, &mut rows, &mut remaining)?;
                printed_to = scanner.position() as usize;
                if remaining == 0 {
                    break;
                }
            }
            at = Some(Position { segment: seg.name.clone(), offset: printed_to, nodedb: scanner.nodedb.clone() });
            if remaining == 0 {
                break;
            }
        }
        flush_table(&mut out, &mut rows)?;
        out.flush().context("writing output")?;
        std::thread::sleep(POLL);
    }
    Ok(())
}

fn emit(
    args: &Args,
    keys: Keys<'_>,
    seg: &str,
    item: &Item<'_>,
    out: &mut impl Write,
    rows: &mut Vec<Vec<comfy_table::Cell>>,
    remaining: &mut u64,
) -> Result<()> {
    let is_record = matches!(item, Item::Record(_));
    if args.format == Format::Jsonl {
        let mut line = Vec::new();
        if render_json(&args.filter, seg, keys, item, &mut line) {
            line.push(b'\n');
            out.write_all(&line)?;
            *remaining -= u64::from(is_record);
        }
        return Ok(());
    }
    match human_item(args, keys, seg, item) {
        Some(Human::Text(t)) => out.write_all(t.as_bytes())?,
        Some(Human::Row(r)) => rows.push(r),
        None => return Ok(()),
    }
    *remaining -= u64::from(is_record);
    Ok(())
}
