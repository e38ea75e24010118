//! `walkit gen`: deterministic fixture and benchmark WALs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::generate::{DEFAULT_MIX, GenConfig, Generator, parse_mix};
use crate::wal::writer::{NewRecord, WalWriter, WriterOptions};

#[derive(clap::Args, Debug)]
#[command(after_help = super::SIMPLE_EXIT_CODES)]
pub struct Args {
    /// Output: a file (name with an extension) or a WAL directory; must not exist
    pub out: PathBuf,
    #[arg(long)]
    pub records: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Weights per record type, e.g. put=60,vector-put=30,tombstone=1
    #[arg(long, value_parser = parse_mix_arg)]
    pub mix: Option<Mix>,
    /// Roll segments at this many bytes (directory output only)
    #[arg(long, default_value_t = crate::wal::writer::DEFAULT_SEGMENT_SIZE)]
    pub segment_size: u64,
    /// Payload size range in bytes, MIN..MAX
    #[arg(long, default_value = "64..4096", value_parser = parse_range)]
    pub payload_size: (usize, usize),
}

/// Record-type weights (a newtype so clap treats it as one value).
#[derive(Clone, Debug)]
pub struct Mix(pub Vec<(crate::wal::RecordKind, u32)>);

fn parse_mix_arg(s: &str) -> Result<Mix, String> {
    parse_mix(s).map(Mix)
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s.split_once("..").ok_or("expected MIN..MAX")?;
    let a: usize = a.trim().parse().map_err(|_| "MIN is not a number")?;
    let b: usize = b.trim().parse().map_err(|_| "MAX is not a number")?;
    if a > b {
        return Err("MIN is larger than MAX".into());
    }
    Ok((a, b))
}

pub fn run(args: &Args) -> Result<ExitCode> {
    if args.out.exists() {
        bail!("{} already exists; gen only creates new WALs", args.out.display());
    }
    let cfg = GenConfig {
        seed: args.seed,
        mix: args.mix.clone().map_or_else(|| DEFAULT_MIX.to_vec(), |m| m.0),
        payload_min: args.payload_size.0,
        payload_max: args.payload_size.1,
    };
    let mut generator = Generator::new(cfg);
    let mut w = WalWriter::open(&args.out, WriterOptions { segment_size: args.segment_size, ..Default::default() })?;
    for _ in 0..args.records {
        let lsn = w.next_lsn();
        let r = generator.record(lsn);
        w.append(&NewRecord {
            record_type: r.kind.record_type(),
            tenant_id: r.tenant_id,
            vshard_id: r.vshard_id,
            database_id: 0,
            payload: &r.payload,
        })
        .context("cannot write")?;
    }
    w.sync().context("cannot sync")?;
    eprintln!("wrote {} records to {}", args.records, args.out.display());
    Ok(ExitCode::SUCCESS)
}
