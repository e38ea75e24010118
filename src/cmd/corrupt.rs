//! `walkit corrupt`: damaged copies of a WAL, for tests. Never modifies the input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::generate::SplitMix64;
use crate::wal::corrupt::{CorruptKind, Placed, corrupt};
use crate::wal::scan::{Item, ScanOptions, Scanner};
use crate::wal::segment::{SegmentData, discover};

fn parse_kind(s: &str) -> Result<CorruptKind, String> {
    CorruptKind::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = CorruptKind::ALL.iter().map(|k| k.name()).collect();
        format!("expected one of: {}", names.join(", "))
    })
}

#[derive(clap::Args, Debug)]
#[command(after_help = super::SIMPLE_EXIT_CODES)]
pub struct Args {
    /// Clean WAL file or directory to copy
    pub input: PathBuf,
    /// Where the damaged copy goes; must not exist
    pub output: PathBuf,
    /// torn-tail, torn-header, flip-crc, bad-magic, zero-fill, lsn-gap or bad-version
    #[arg(long, value_parser = parse_kind)]
    pub kind: CorruptKind,
    /// Damage the record with this LSN
    #[arg(long, conflicts_with = "offset")]
    pub at: Option<u64>,
    /// Damage the record starting at this byte offset (single files)
    #[arg(long)]
    pub offset: Option<u64>,
    /// Pick the record and byte at random, reproducibly
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    if args.output.exists() {
        bail!("{} already exists; corrupt writes a new copy", args.output.display());
    }
    let segments = discover(&args.input).context("cannot open WAL")?;
    // Every record of the WAL, per segment.
    let mut all: Vec<(usize, Placed)> = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        let data = SegmentData::open(&seg.path).context("cannot read WAL")?;
        for item in Scanner::new(&data, ScanOptions::default()) {
            if let Item::Record(r) = item {
                all.push((i, Placed { offset: r.offset as usize, len: r.total_len() as usize, lsn: r.header.lsn }));
            }
        }
    }
    if all.is_empty() {
        bail!("{} holds no records to damage", args.input.display());
    }
    let kind = args.kind;
    let mut rng = SplitMix64::new(args.seed.unwrap_or(0));
    let chosen = if let Some(lsn) = args.at {
        all.iter().position(|(_, p)| p.lsn == lsn).with_context(|| format!("no record with LSN {lsn}"))?
    } else if let Some(off) = args.offset {
        if segments.len() != 1 {
            bail!("--offset needs a single-file WAL; use --at LSN for directories");
        }
        all.iter()
            .position(|(_, p)| p.offset as u64 == off)
            .with_context(|| format!("no record starts at offset {off}"))?
    } else if args.seed.is_some() {
        rng.next_u64() as usize % all.len()
    } else if kind.defaults_to_last() {
        all.len() - 1
    } else {
        all.len() / 2
    };
    let (seg_index, target) = all[chosen];
    let in_segment: Vec<Placed> = all.iter().filter(|(s, _)| *s == seg_index).map(|(_, p)| *p).collect();
    let target_index = in_segment.iter().position(|p| *p == target).expect("target is in its segment");

    let is_dir = args.input.is_dir();
    if is_dir {
        std::fs::create_dir(&args.output).with_context(|| format!("creating {}", args.output.display()))?;
    }
    let out_path = |seg: &Path| -> PathBuf {
        if is_dir { args.output.join(seg.file_name().expect("segment file name")) } else { args.output.clone() }
    };
    let mut description = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let mut data = std::fs::read(&seg.path).with_context(|| format!("reading {}", seg.path.display()))?;
        if i == seg_index {
            description = corrupt(&mut data, &in_segment, target_index, kind, rng.next_u64());
        }
        let dest = out_path(&seg.path);
        std::fs::write(&dest, &data).with_context(|| format!("writing {}", dest.display()))?;
    }
    eprintln!("{}: {description}", out_path(&segments[seg_index].path).display());
    Ok(ExitCode::SUCCESS)
}
