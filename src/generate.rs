//! Deterministic, realistic record generation for fixtures and benchmarks.
//!
//! The random stream is SplitMix64, pinned here on purpose: a crate upgrade must
//! never change the bytes `walkit gen` produces for a given seed.

use crate::wal::payload::fixed::{
    CalvinApplied, CollectionTombstone, LsnMsAnchor, PurgeEngine, SurrogateAlloc, SurrogateBind, TemporalPurge,
};
use crate::wal::payload::forms::ARRAY_WAL_VERSION;
use crate::wal::payload::msgpack::Encoder;
use crate::wal::types::RecordKind;

pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi` (modulo bias is irrelevant for fixtures).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.next_u64() as usize % items.len()]
    }
    /// Uniform in [-1, 1).
    pub fn unit_f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

pub const DEFAULT_MIX: &[(RecordKind, u32)] = &[
    (RecordKind::Put, 40),
    (RecordKind::VectorPut, 25),
    (RecordKind::TimeseriesBatch, 25),
    (RecordKind::Delete, 4),
    (RecordKind::VectorDelete, 2),
    (RecordKind::CollectionTombstoned, 1),
    (RecordKind::Checkpoint, 1),
    (RecordKind::Transaction, 1),
    (RecordKind::CrdtDelta, 1),
];

#[derive(Clone, Debug)]
pub struct GenConfig {
    pub seed: u64,
    pub mix: Vec<(RecordKind, u32)>,
    pub payload_min: usize,
    pub payload_max: usize,
}

pub struct GenRecord {
    pub kind: RecordKind,
    pub tenant_id: u64,
    pub vshard_id: u32,
    pub payload: Vec<u8>,
}

const TENANTS: &[u64] = &[1, 2, 3, 4];
const DOCS: &[&str] = &["users", "orders", "sessions", "carts"];
const KV: &[&str] = &["cache", "tokens"];
const VECTORS: &[&str] = &["embeddings", "images"];
const SERIES: &[&str] = &["metrics", "cpu"];
const WORDS: &[&str] =
    &["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"];
/// 2025-01-01T00:00:00Z, the base of generated timestamps.
const BASE_MS: i64 = 1_735_689_600_000;

pub struct Generator {
    rng: SplitMix64,
    cfg: GenConfig,
    total_weight: u64,
}

impl Generator {
    pub fn new(cfg: GenConfig) -> Self {
        let total_weight = cfg.mix.iter().map(|(_, w)| *w as u64).sum::<u64>().max(1);
        Generator { rng: SplitMix64::new(cfg.seed), cfg, total_weight }
    }

    fn words(&mut self, min_len: usize) -> String {
        let mut s = String::with_capacity(min_len + 8);
        while s.len() < min_len {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(self.rng.pick(WORDS));
        }
        s
    }

    /// The record that will get LSN `lsn`.
    pub fn record(&mut self, lsn: u64) -> GenRecord {
        let mut pick = self.rng.next_u64() % self.total_weight;
        let mut kind = self.cfg.mix[0].0;
        for (k, w) in &self.cfg.mix {
            if pick < *w as u64 {
                kind = *k;
                break;
            }
            pick -= *w as u64;
        }
        let size =
            self.rng.range(self.cfg.payload_min as u64, self.cfg.payload_max.max(self.cfg.payload_min) as u64) as usize;
        let tenant_id = self.rng.pick(TENANTS);
        let vshard_id = self.rng.range(0, 63) as u32;
        let payload = self.payload(kind, size, lsn, tenant_id);
        let (tenant_id, vshard_id) = match kind {
            RecordKind::Checkpoint
            | RecordKind::SurrogateAlloc
            | RecordKind::SurrogateBind
            | RecordKind::LsnMsAnchor => (0, 0),
            RecordKind::CollectionTombstoned | RecordKind::TemporalPurge => (tenant_id, 0),
            RecordKind::CalvinApplied => (0, vshard_id),
            _ => (tenant_id, vshard_id),
        };
        GenRecord { kind, tenant_id, vshard_id, payload }
    }

    fn payload(&mut self, kind: RecordKind, size: usize, lsn: u64, tenant: u64) -> Vec<u8> {
        let mut e = Encoder::new();
        let n = self.rng.range(1, 99_999);
        match kind {
            RecordKind::Put if self.rng.range(0, 4) == 0 => {
                let key = format!("key-{n}");
                e.array_len(5);
                e.str("kv_put");
                e.str(self.rng.pick(KV));
                e.byte_array(key.as_bytes());
                let value = self.words(size.saturating_sub(40));
                e.byte_array(value.as_bytes());
                e.uint(if n.is_multiple_of(3) { 60_000 } else { 0 });
            }
            RecordKind::Put => {
                let coll = self.rng.pick(DOCS);
                let mut doc = Encoder::new();
                doc.map_len(4);
                doc.str("id");
                doc.uint(n);
                doc.str("name");
                let name = self.words(8);
                doc.str(&name);
                doc.str("created_ms");
                doc.int(BASE_MS + n as i64);
                doc.str("note");
                let note = self.words(size.saturating_sub(60) / 2);
                doc.str(&note);
                e.array_len(3);
                e.str(coll);
                e.str(&format!("d-{n}"));
                e.byte_array(&doc.buf);
            }
            RecordKind::Delete if n.is_multiple_of(4) => {
                e.array_len(3);
                e.str("kv_delete");
                e.str(self.rng.pick(KV));
                e.array_len(1);
                e.byte_array(format!("key-{n}").as_bytes());
            }
            RecordKind::Delete => {
                e.array_len(2);
                e.str(self.rng.pick(DOCS));
                e.str(&format!("d-{n}"));
            }
            RecordKind::VectorPut => {
                let dim = (size.saturating_sub(40) / 5).max(1);
                e.array_len(6);
                e.str(self.rng.pick(VECTORS));
                e.array_len(dim);
                for _ in 0..dim {
                    let x = self.rng.unit_f32();
                    e.f32(x);
                }
                e.uint(dim as u64);
                e.str("emb");
                e.nil();
                e.uint(n);
            }
            RecordKind::VectorDelete => {
                e.array_len(2);
                e.str(self.rng.pick(VECTORS));
                e.uint(n);
            }
            RecordKind::VectorParams => {
                e.array_len(8);
                e.str(self.rng.pick(VECTORS));
                for v in [16, 200] {
                    e.uint(v);
                }
                e.str("cosine");
                e.str("hnsw");
                for v in [8, 256, 4] {
                    e.uint(v);
                }
            }
            RecordKind::TimeseriesBatch | RecordKind::LogBatch => {
                let coll = self.rng.pick(if kind == RecordKind::LogBatch { &["app_logs"][..] } else { SERIES });
                let mut text = String::new();
                let mut t = BASE_MS + (lsn as i64) * 1000;
                while text.len() + 20 < size {
                    let host = self.rng.range(1, 8);
                    let v = self.rng.range(0, 10_000) as f64 / 100.0;
                    text.push_str(&format!("{coll},host=web-{host:02} value={v} {t}000000\n"));
                    t += 1000;
                }
                e.array_len(2);
                e.str(coll);
                e.byte_array(text.as_bytes());
            }
            RecordKind::CrdtDelta | RecordKind::Noop => {
                let len = if kind == RecordKind::Noop { 0 } else { size };
                return (0..len).map(|_| self.rng.next_u64() as u8).collect();
            }
            RecordKind::CollectionTombstoned => {
                let family = self.rng.range(0, 2);
                let coll = self.rng.pick(match family {
                    0 => DOCS,
                    1 => VECTORS,
                    _ => SERIES,
                });
                let purge_lsn = lsn.saturating_sub(self.rng.range(0, lsn / 2)).max(1);
                return CollectionTombstone { collection: coll.into(), purge_lsn }.encode().expect("short name");
            }
            RecordKind::Checkpoint => e.uint(lsn.saturating_sub(1).max(1)),
            RecordKind::Transaction => {
                let subs = self.rng.range(1, 3) as usize;
                e.array_len(subs);
                for i in 0..subs {
                    let mut entry = Encoder::new();
                    entry.array_len(4);
                    entry.uint(tenant);
                    entry.uint(self.rng.range(0, 63));
                    entry.uint(self.rng.next_u64() | 1);
                    entry.array_len(2);
                    entry.str("PointPut");
                    entry.array_len(3);
                    entry.str(self.rng.pick(DOCS));
                    entry.str(&format!("d-{n}-{i}"));
                    let body = self.words(size / (subs * 3) + 1);
                    let mut doc = Encoder::new();
                    doc.map_len(1);
                    doc.str("body");
                    doc.str(&body);
                    entry.bin(&doc.buf);
                    e.array_len(2);
                    e.uint(RecordKind::Put.code() as u64);
                    e.byte_array(&entry.buf);
                }
            }
            RecordKind::ArrayPut | RecordKind::ArrayDelete | RecordKind::ArrayFlush => {
                if kind != RecordKind::ArrayFlush {
                    e.buf.push(ARRAY_WAL_VERSION);
                }
                e.array_len(if kind == RecordKind::ArrayFlush { 3 } else { 2 });
                e.array_len(2);
                e.uint(tenant);
                e.str("grid");
                match kind {
                    RecordKind::ArrayPut => {
                        e.array_len(1);
                        e.array_len(6);
                        e.array_len(1);
                        e.array_len(2);
                        e.str("Int64");
                        e.array_len(1);
                        e.int(n as i64);
                        e.array_len(1);
                        e.array_len(2);
                        e.str("Float64");
                        e.array_len(1);
                        e.f64(n as f64 / 7.0);
                        e.uint(0);
                        e.int(BASE_MS);
                        e.int(BASE_MS);
                        e.int(i64::MAX);
                    }
                    RecordKind::ArrayDelete => {
                        e.array_len(1);
                        e.array_len(3);
                        e.array_len(1);
                        e.array_len(2);
                        e.str("Int64");
                        e.array_len(1);
                        e.int(n as i64);
                        e.int(BASE_MS);
                        e.bool(false);
                    }
                    _ => {
                        e.str(&format!("{n:08}.ndas"));
                        e.array_len(1);
                        e.array_len(2);
                        e.uint(n);
                        e.int(BASE_MS);
                    }
                }
            }
            RecordKind::SurrogateAlloc => return SurrogateAlloc { hi: n as u32 }.encode(),
            RecordKind::SurrogateBind => {
                return SurrogateBind {
                    surrogate: n as u32,
                    collection: (self.rng.pick(DOCS)).into(),
                    pk: format!("d-{n}").into_bytes(),
                }
                .encode();
            }
            RecordKind::CalvinApplied => {
                return CalvinApplied {
                    epoch: lsn,
                    position: (n % 16) as u32,
                    vshard_id: self.rng.range(0, 63) as u32,
                }
                .encode();
            }
            RecordKind::LsnMsAnchor => {
                return LsnMsAnchor { lsn, wall_ms: BASE_MS + lsn as i64 }.encode();
            }
            RecordKind::TemporalPurge => {
                return TemporalPurge {
                    engine: PurgeEngine::DocumentStrict,
                    name: (self.rng.pick(DOCS)).into(),
                    cutoff_system_ms: BASE_MS,
                    purged_count: n,
                }
                .encode()
                .expect("short name");
            }
        }
        e.buf
    }
}

/// Parses `put=60,vector-put=30`.
pub fn parse_mix(text: &str) -> Result<Vec<(RecordKind, u32)>, String> {
    let mut mix = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, weight) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected TYPE=WEIGHT"))?;
        let kind = RecordKind::from_name(name).ok_or_else(|| format!("{name:?}: unknown record type"))?;
        let weight: u32 = weight.parse().map_err(|_| format!("{part:?}: weight must be a whole number"))?;
        if weight > 0 {
            mix.push((kind, weight));
        }
    }
    if mix.is_empty() {
        return Err("the mix needs at least one type with a weight above 0".into());
    }
    Ok(mix)
}
