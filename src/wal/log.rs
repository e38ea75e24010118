//! Whole-WAL traversal (§6.2): every segment behind a path, in order, as one stream.

use std::ops::ControlFlow;
use std::path::Path;

use crate::wal::WalError;
use crate::wal::scan::{Item, NodeDbView, ScanOptions, Scanner};
use crate::wal::segment::{SegmentData, SegmentInfo, discover};

/// Position of a segment within its WAL.
#[derive(Clone, Copy, Debug)]
pub struct SegmentCtx<'a> {
    pub info: &'a SegmentInfo,
    pub index: usize,
    pub count: usize,
    pub size: u64,
    /// First LSN of the following segment, from its name.
    pub next_first_lsn: Option<u64>,
    /// The segment's preamble (encrypted segments), needed to decrypt its records.
    pub preamble: Option<crate::wal::segment::Preamble>,
}

impl SegmentCtx<'_> {
    pub fn is_last(&self) -> bool {
        self.index + 1 == self.count
    }
}

pub enum Event<'a, 'b> {
    SegmentStart(&'b SegmentCtx<'a>),
    Item(&'b SegmentCtx<'a>, Item<'b>),
    SegmentEnd(&'b SegmentCtx<'a>, &'b NodeDbView),
}

/// Streams every item of every segment behind `path` to `visit`; stops early when the
/// visitor breaks. Each segment is mapped only while it is scanned.
pub fn walk(
    path: &Path,
    opts: ScanOptions,
    mut visit: impl FnMut(Event<'_, '_>) -> ControlFlow<()>,
) -> Result<(), WalError> {
    let segments = discover(path)?;
    walk_segments(&segments, opts, &mut visit)
}

pub fn walk_segments(
    segments: &[SegmentInfo],
    opts: ScanOptions,
    visit: &mut dyn FnMut(Event<'_, '_>) -> ControlFlow<()>,
) -> Result<(), WalError> {
    for_each_segment(segments, |ctx, data| {
        if visit(Event::SegmentStart(ctx)).is_break() {
            return Ok::<_, WalError>(ControlFlow::Break(()));
        }
        let mut scanner = Scanner::new(data, opts);
        for item in scanner.by_ref() {
            if visit(Event::Item(ctx, item)).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(visit(Event::SegmentEnd(ctx, &scanner.nodedb)))
    })
}

/// Total bytes of all segments behind `paths` (for progress reporting).
pub fn total_size(segments: &[SegmentInfo]) -> u64 {
    segments.iter().filter_map(|s| std::fs::metadata(&s.path).ok()).map(|m| m.len()).sum()
}

/// Opens each segment in turn and hands its bytes to `f`, which may scan them however
/// it likes (e.g. on several threads); stops when `f` breaks.
pub fn for_each_segment<E: From<WalError>>(
    segments: &[SegmentInfo],
    mut f: impl FnMut(&SegmentCtx<'_>, &SegmentData) -> Result<ControlFlow<()>, E>,
) -> Result<(), E> {
    for (index, info) in segments.iter().enumerate() {
        let data = SegmentData::open(&info.path)?;
        let ctx = SegmentCtx {
            info,
            index,
            count: segments.len(),
            size: data.bytes().len() as u64,
            next_first_lsn: segments.get(index + 1).and_then(|s| s.first_lsn),
            preamble: crate::wal::segment::Preamble::detect(data.bytes()),
        };
        if f(&ctx, &data)?.is_break() {
            break;
        }
    }
    Ok(())
}
