//! `walkit append`: typed single records and all-or-nothing JSON Lines batches.

use std::borrow::Cow;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::wal::payload::{self, fixed::PurgeEngine};
use crate::wal::segment::parse_segment_name;
use crate::wal::types::{RecordKind, RecordType, parse_record_type};
use crate::wal::writer::{DEFAULT_SEGMENT_SIZE, NewRecord, WalWriter, WriterOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
#[command(after_help = super::SIMPLE_EXIT_CODES)]
pub struct Args {
    /// WAL file or WAL directory; created if missing (a name with an extension
    /// becomes a single file, anything else a directory)
    pub path: PathBuf,
    #[command(subcommand)]
    pub record: Option<Typed>,
    /// Append every record of a JSON Lines file (`-` for stdin) in the schema `dump
    /// --format jsonl` prints. All lines are validated before anything is written.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub format: Format,
    /// Roll to a new segment at this many bytes (WAL directories only)
    #[arg(long, global = true, default_value_t = DEFAULT_SEGMENT_SIZE)]
    pub segment_size: u64,
    /// Wait for another writer to finish instead of failing
    #[arg(long, global = true)]
    pub wait: bool,
    /// With a key, appended records are encrypted (AES-256-GCM) as NodeDB does
    #[command(flatten)]
    pub key: super::KeyArgs,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Header {
    #[arg(long, default_value_t = 0)]
    pub tenant: u64,
    /// Virtual shard (default 0; calvin-applied defaults to --for-vshard)
    #[arg(long)]
    pub vshard: Option<u32>,
    #[arg(long, default_value_t = 0)]
    pub database: u64,
}

/// Exact payload input, for every MessagePack type.
#[derive(clap::Args, Debug, Clone)]
#[group(multiple = false)]
pub struct Payload {
    /// Payload as JSON: the form `dump` prints (`{"form":"document_put",…}`), a
    /// positional array in one of the type's shapes, or any JSON for untyped payloads
    #[arg(long)]
    pub payload_json: Option<String>,
    /// Exact payload bytes in hex
    #[arg(long)]
    pub payload_hex: Option<String>,
    /// Exact payload bytes from a file (`-` for stdin)
    #[arg(long)]
    pub payload_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Typed {
    /// Checkpoint marker (payload: the checkpoint LSN)
    Checkpoint {
        #[command(flatten)]
        h: Header,
        #[arg(long)]
        checkpoint_lsn: u64,
    },
    /// CollectionTombstoned: collection hard-delete, shadows writes below --purge-lsn
    Tombstone {
        #[command(flatten)]
        h: Header,
        #[arg(long)]
        collection: String,
        #[arg(long)]
        purge_lsn: u64,
    },
    /// TemporalPurge audit record
    TemporalPurge {
        #[command(flatten)]
        h: Header,
        #[arg(long, value_parser = parse_engine)]
        engine: PurgeEngine,
        #[arg(long)]
        collection: String,
        #[arg(long, allow_hyphen_values = true)]
        cutoff_ms: i64,
        #[arg(long)]
        count: u64,
    },
    /// Surrogate allocator high-watermark
    SurrogateAlloc {
        #[command(flatten)]
        h: Header,
        #[arg(long)]
        hi: u32,
    },
    /// Surrogate ↔ primary-key binding
    SurrogateBind {
        #[command(flatten)]
        h: Header,
        #[arg(long)]
        surrogate: u32,
        #[arg(long)]
        collection: String,
        /// Primary key as text
        #[arg(long, conflicts_with = "pk_hex", required_unless_present = "pk_hex")]
        pk: Option<String>,
        /// Primary key bytes in hex
        #[arg(long)]
        pk_hex: Option<String>,
    },
    /// Calvin transaction applied on a vshard
    CalvinApplied {
        #[command(flatten)]
        h: Header,
        #[arg(long)]
        epoch: u64,
        #[arg(long)]
        position: u32,
        /// The vshard inside the payload (authoritative for recovery)
        #[arg(long)]
        for_vshard: u32,
    },
    /// LSN ↔ wall-clock anchor
    LsnAnchor {
        #[command(flatten)]
        h: Header,
        #[arg(long, allow_hyphen_values = true)]
        wall_ms: i64,
        /// Anchored LSN (default: the record's own LSN)
        #[arg(long)]
        anchor_lsn: Option<u64>,
    },
    /// Put: document (--collection --id --value-json) or KV (--collection --key --value)
    Put {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        #[arg(long)]
        collection: Option<String>,
        /// Document id (document put)
        #[arg(long, conflicts_with = "key")]
        id: Option<String>,
        /// Document value as JSON, stored as MessagePack
        #[arg(long, conflicts_with = "value_hex")]
        value_json: Option<String>,
        /// Document or KV value bytes in hex
        #[arg(long)]
        value_hex: Option<String>,
        /// KV key (text); makes this a kv_put
        #[arg(long)]
        key: Option<String>,
        /// KV value (text)
        #[arg(long, conflicts_with_all = ["value_hex", "value_json"])]
        value: Option<String>,
        #[arg(long, default_value_t = 0)]
        ttl_ms: u64,
    },
    /// Delete: document (--collection --id) or KV keys (--collection --key …)
    Delete {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        #[arg(long)]
        collection: Option<String>,
        #[arg(long, conflicts_with = "key")]
        id: Option<String>,
        /// KV key to delete (repeatable); makes this a kv_delete
        #[arg(long)]
        key: Vec<String>,
    },
    /// VectorPut (--collection --vector 0.1,0.2 --field emb)
    VectorPut {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        #[arg(long)]
        collection: Option<String>,
        /// Comma-separated f32 components
        #[arg(long, allow_hyphen_values = true)]
        vector: Option<String>,
        #[arg(long, default_value = "")]
        field: String,
        #[arg(long, default_value_t = 0)]
        surrogate: u64,
    },
    /// VectorDelete (--collection --vector-id N)
    VectorDelete {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        #[arg(long)]
        collection: Option<String>,
        #[arg(long)]
        vector_id: Option<u64>,
    },
    /// VectorParams (--collection --m --ef-construction --metric …)
    VectorParams {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        #[arg(long)]
        collection: Option<String>,
        #[arg(long, default_value_t = 16)]
        m: u64,
        #[arg(long, default_value_t = 200)]
        ef_construction: u64,
        #[arg(long, default_value = "cosine")]
        metric: String,
        #[arg(long, default_value = "hnsw")]
        index_type: String,
        #[arg(long, default_value_t = 0)]
        pq_m: u64,
        #[arg(long, default_value_t = 0)]
        ivf_cells: u64,
        #[arg(long, default_value_t = 0)]
        ivf_nprobe: u64,
    },
    /// CrdtDelta (opaque delta bytes)
    CrdtDelta {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
    },
    /// TimeseriesBatch (--collection --ilp 'cpu v=1 1')
    TimeseriesBatch {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        #[arg(long)]
        collection: Option<String>,
        /// InfluxDB line protocol text
        #[arg(long)]
        ilp: Option<String>,
    },
    /// LogBatch (--collection --text)
    LogBatch {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        #[arg(long)]
        collection: Option<String>,
        #[arg(long)]
        text: Option<String>,
    },
    /// ArrayPut (payload JSON in the array_put form)
    ArrayPut {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
    },
    /// ArrayDelete (payload JSON in the array_delete form)
    ArrayDelete {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
    },
    /// ArrayFlush (payload JSON in the array_flush form)
    ArrayFlush {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
    },
    /// Transaction (payload JSON in the transaction form)
    Transaction {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
    },
    /// Noop (empty payload unless given)
    Noop {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
    },
    /// Any record type code, e.g. unknown types for tests
    Raw {
        #[command(flatten)]
        h: Header,
        #[command(flatten)]
        p: Payload,
        /// Record type as a number (decimal or 0x-hex, flags included) or a name
        #[arg(long, value_parser = super::dump::parse_type_arg)]
        type_code: RecordType,
    },
}

fn parse_engine(s: &str) -> Result<PurgeEngine, String> {
    PurgeEngine::from_name(s).ok_or_else(|| "expected edge-store, document-strict, columnar, crdt or array".to_string())
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("reading stdin")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn hex_arg(flag: &str, h: &str) -> Result<Vec<u8>> {
    crate::wal::payload::schema::decode_hex(h.trim()).map_err(|e| anyhow!("{flag}: not valid hex ({e})"))
}

fn parse_json_arg(flag: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| anyhow!("{flag}: not valid JSON ({e})"))
}

/// Exact payload from --payload-json/-hex/-file, if one was given.
fn exact_payload(kind: Option<RecordKind>, p: &Payload) -> Result<Option<Vec<u8>>> {
    if let Some(j) = &p.payload_json {
        let v = parse_json_arg("--payload-json", j)?;
        return payload::encode_json(kind, &v).map(Some).map_err(|e| anyhow!("--payload-json: {e}"));
    }
    if let Some(h) = &p.payload_hex {
        return hex_arg("--payload-hex", h).map(Some);
    }
    if let Some(f) = &p.payload_file {
        return read_input(f).map(Some);
    }
    Ok(None)
}

fn need<'a, T>(v: &'a Option<T>, flag: &str, kind: RecordKind) -> Result<&'a T> {
    v.as_ref()
        .ok_or_else(|| anyhow!("{} needs {flag} (or --payload-json / --payload-hex / --payload-file)", kind.cli_name()))
}

/// Encodes the form object through the engine's codecs, so flags and JSON share one path.
fn form(kind: RecordKind, v: Value) -> Result<Vec<u8>> {
    payload::encode(Some(kind), &v).map_err(|e| anyhow!("{}: {e}", kind.cli_name()))
}

/// Type, header and a payload builder (which may need the LSN the record will get).
type Build = Box<dyn FnOnce(u64) -> Result<Vec<u8>>>;

fn typed(t: &Typed) -> Result<(RecordType, Header, Build)> {
    use RecordKind as K;
    let fixed = |kind: K, h: &Header, v: Value| -> Result<(RecordType, Header, Build)> {
        let bytes = form(kind, v)?;
        Ok((kind.record_type(), h.clone(), Box::new(move |_| Ok(bytes))))
    };
    let with_payload = |kind: K,
                        h: &Header,
                        p: &Payload,
                        natural: &dyn Fn() -> Result<Vec<u8>>|
     -> Result<(RecordType, Header, Build)> {
        let bytes = match exact_payload(Some(kind), p)? {
            Some(b) => b,
            None => natural()?,
        };
        Ok((kind.record_type(), h.clone(), Box::new(move |_| Ok(bytes))))
    };
    match t {
        Typed::Checkpoint { h, checkpoint_lsn } => fixed(K::Checkpoint, h, json!({ "checkpoint_lsn": checkpoint_lsn })),
        Typed::Tombstone { h, collection, purge_lsn } => {
            fixed(K::CollectionTombstoned, h, json!({ "collection": collection, "purge_lsn": purge_lsn }))
        }
        Typed::TemporalPurge { h, engine, collection, cutoff_ms, count } => fixed(
            K::TemporalPurge,
            h,
            json!({ "engine": engine.name(), "collection": collection, "cutoff_system_ms": cutoff_ms, "purged_count": count }),
        ),
        Typed::SurrogateAlloc { h, hi } => fixed(K::SurrogateAlloc, h, json!({ "hi": hi })),
        Typed::SurrogateBind { h, surrogate, collection, pk, pk_hex } => {
            let pk = match (pk, pk_hex) {
                (_, Some(hx)) => hex_arg("--pk-hex", hx)?,
                (Some(text), None) => text.as_bytes().to_vec(),
                (None, None) => bail!("surrogate-bind needs --pk or --pk-hex"),
            };
            fixed(
                K::SurrogateBind,
                h,
                json!({ "surrogate": surrogate, "collection": collection, "pk": {"hex": faster_hex::hex_string(&pk)} }),
            )
        }
        Typed::CalvinApplied { h, epoch, position, for_vshard } => {
            let mut h = h.clone();
            h.vshard.get_or_insert(*for_vshard);
            fixed(K::CalvinApplied, &h, json!({ "epoch": epoch, "position": position, "vshard_id": for_vshard }))
        }
        Typed::LsnAnchor { h, wall_ms, anchor_lsn } => {
            let (wall_ms, anchor_lsn) = (*wall_ms, *anchor_lsn);
            Ok((
                K::LsnMsAnchor.record_type(),
                h.clone(),
                Box::new(move |own_lsn| {
                    form(K::LsnMsAnchor, json!({ "lsn": anchor_lsn.unwrap_or(own_lsn), "wall_ms": wall_ms }))
                }),
            ))
        }
        Typed::Put { h, p, collection, id, value_json, value_hex, key, value, ttl_ms } => {
            with_payload(K::Put, h, p, &|| {
                let collection = need(collection, "--collection", K::Put)?;
                let bytes_of = |json_flag: &Option<String>| -> Result<Option<Value>> {
                    Ok(match (json_flag, value_hex) {
                        (Some(j), _) => Some(json!({ "msgpack": parse_json_arg("--value-json", j)? })),
                        (None, Some(hx)) => {
                            Some(json!({ "hex": faster_hex::hex_string(&hex_arg("--value-hex", hx)?) }))
                        }
                        _ => None,
                    })
                };
                if let Some(k) = key {
                    let v = match value {
                        Some(text) => json!(text),
                        None => bytes_of(&None)?.ok_or_else(|| anyhow!("kv put needs --value or --value-hex"))?,
                    };
                    return form(
                        K::Put,
                        json!({ "form": "kv_put", "collection": collection, "key": k, "value": v, "ttl_ms": ttl_ms }),
                    );
                }
                let id = need(id, "--id (document) or --key (KV)", K::Put)?;
                let v =
                    bytes_of(value_json)?.ok_or_else(|| anyhow!("document put needs --value-json or --value-hex"))?;
                form(K::Put, json!({ "form": "document_put", "collection": collection, "document_id": id, "value": v }))
            })
        }
        Typed::Delete { h, p, collection, id, key } => with_payload(K::Delete, h, p, &|| {
            let collection = need(collection, "--collection", K::Delete)?;
            if !key.is_empty() {
                return form(K::Delete, json!({ "form": "kv_delete", "collection": collection, "keys": key }));
            }
            let id = need(id, "--id (document) or --key (KV)", K::Delete)?;
            form(K::Delete, json!({ "form": "document_delete", "collection": collection, "document_id": id }))
        }),
        Typed::VectorPut { h, p, collection, vector, field, surrogate } => with_payload(K::VectorPut, h, p, &|| {
            let collection = need(collection, "--collection", K::VectorPut)?;
            let components: Vec<f32> = need(vector, "--vector", K::VectorPut)?
                .split(',')
                .map(|x| x.trim().parse::<f32>().map_err(|_| anyhow!("--vector: {x:?} is not a number")))
                .collect::<Result<_>>()?;
            let dim = components.len();
            form(
                K::VectorPut,
                json!({ "form": "vector_put", "collection": collection, "vector": components, "dim": dim,
                        "field_name": field, "doc_id": null, "surrogate": surrogate }),
            )
        }),
        Typed::VectorDelete { h, p, collection, vector_id } => with_payload(K::VectorDelete, h, p, &|| {
            let collection = need(collection, "--collection", K::VectorDelete)?;
            let id = need(vector_id, "--vector-id", K::VectorDelete)?;
            form(K::VectorDelete, json!({ "form": "vector_delete", "collection": collection, "vector_id": id }))
        }),
        Typed::VectorParams {
            h,
            p,
            collection,
            m,
            ef_construction,
            metric,
            index_type,
            pq_m,
            ivf_cells,
            ivf_nprobe,
        } => with_payload(K::VectorParams, h, p, &|| {
            let collection = need(collection, "--collection", K::VectorParams)?;
            form(
                K::VectorParams,
                json!({ "form": "vector_params", "collection": collection, "m": m, "ef_construction": ef_construction,
                            "metric": metric, "index_type": index_type, "pq_m": pq_m, "ivf_cells": ivf_cells, "ivf_nprobe": ivf_nprobe }),
            )
        }),
        Typed::TimeseriesBatch { h, p, collection, ilp } => with_payload(K::TimeseriesBatch, h, p, &|| {
            let collection = need(collection, "--collection", K::TimeseriesBatch)?;
            let ilp = need(ilp, "--ilp", K::TimeseriesBatch)?;
            form(K::TimeseriesBatch, json!({ "form": "timeseries_ingest", "collection": collection, "payload": ilp }))
        }),
        Typed::LogBatch { h, p, collection, text } => with_payload(K::LogBatch, h, p, &|| {
            let collection = need(collection, "--collection", K::LogBatch)?;
            let text = need(text, "--text", K::LogBatch)?;
            form(K::LogBatch, json!({ "form": "log_batch", "collection": collection, "payload": text }))
        }),
        Typed::Noop { h, p } => with_payload(K::Noop, h, p, &|| Ok(Vec::new())),
        Typed::CrdtDelta { h, p } => payload_only(K::CrdtDelta, h, p),
        Typed::ArrayPut { h, p } => payload_only(K::ArrayPut, h, p),
        Typed::ArrayDelete { h, p } => payload_only(K::ArrayDelete, h, p),
        Typed::ArrayFlush { h, p } => payload_only(K::ArrayFlush, h, p),
        Typed::Transaction { h, p } => payload_only(K::Transaction, h, p),
        Typed::Raw { h, p, type_code } => {
            if type_code.is_encrypted() {
                bail!("--type-code has the encrypted bit (0x4000) set; encrypted records need a key");
            }
            let bytes = exact_payload(type_code.kind(), p)?.unwrap_or_default();
            Ok((*type_code, h.clone(), Box::new(move |_| Ok(bytes))))
        }
    }
}

fn payload_only(kind: RecordKind, h: &Header, p: &Payload) -> Result<(RecordType, Header, Build)> {
    let bytes = exact_payload(Some(kind), p)?
        .ok_or_else(|| anyhow!("{} needs --payload-json, --payload-hex or --payload-file", kind.cli_name()))?;
    Ok((kind.record_type(), h.clone(), Box::new(move |_| Ok(bytes))))
}

fn open_writer(args: &Args) -> Result<WalWriter> {
    let encrypt = args.key.load()?;
    WalWriter::open(&args.path, WriterOptions { segment_size: args.segment_size, wait_for_lock: args.wait, encrypt })
        .context("cannot append")
}

pub fn run(args: &Args) -> Result<ExitCode> {
    match (&args.record, &args.jsonl) {
        (Some(_), Some(_)) => bail!("give either a record type or --jsonl, not both"),
        (Some(t), None) => append_one(args, t),
        (None, Some(input)) => append_batch(args, input),
        (None, None) => {
            bail!("give a record type (e.g. `walkit append wal put …`) or --jsonl FILE")
        }
    }
}

fn append_one(args: &Args, t: &Typed) -> Result<ExitCode> {
    // Everything that can be checked without the WAL is checked before it is opened.
    let (record_type, h, build) = typed(t)?;
    let mut w = open_writer(args)?;
    let lsn = w.next_lsn();
    let payload = match build(lsn) {
        Ok(p) => p,
        Err(e) => {
            w.discard_if_unused();
            return Err(e);
        }
    };
    let rec = NewRecord {
        record_type,
        tenant_id: h.tenant,
        vshard_id: h.vshard.unwrap_or(0),
        database_id: h.database,
        payload: &payload,
    };
    let appended = match w.append(&rec).and_then(|a| w.sync().map(|()| a)) {
        Ok(a) => a,
        Err(e) => {
            w.discard_if_unused();
            return Err(e).context("cannot append");
        }
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => writeln!(out, "{}", appended.lsn)?,
        Format::Json => {
            writeln!(out, "{}", json!({ "lsn": appended.lsn, "segment": appended.segment, "offset": appended.offset }))?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of `dump --format jsonl`; fields not listed (offset, crc32c, …) are derived
/// on write and ignored here.
#[derive(Deserialize)]
struct Line<'a> {
    kind: Option<Cow<'a, str>>,
    lsn: Option<u64>,
    #[serde(rename = "type")]
    type_name: Option<Cow<'a, str>>,
    record_type: Option<u32>,
    tenant_id: Option<u64>,
    vshard_id: Option<u32>,
    database_id: Option<u64>,
    encrypted: Option<bool>,
    payload_len: Option<u64>,
    segment: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload_hex: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// A validated record waiting to be written; its payload lives in the chunk's buffer.
struct Staged {
    line_no: usize,
    lsn: Option<u64>,
    record_type: RecordType,
    tenant_id: u64,
    vshard_id: u32,
    database_id: u64,
    payload: std::ops::Range<usize>,
    segment: Option<String>,
    /// Start a new segment before this record (follows the input's `segment` fields).
    new_segment: bool,
}

/// The staged records of one slice of the input, payloads back to back in `bytes`.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    records: Vec<Staged>,
    /// Lines in this slice of the input.
    lines: usize,
}

/// Parses and validates one line into `chunk`; `Ok(false)` for lines that hold no
/// record (blank lines, preambles).
fn stage_line(text: &[u8], line_no: usize, chunk: &mut Chunk) -> Result<bool> {
    if text.trim_ascii().is_empty() {
        return Ok(false);
    }
    let line: Line<'_> = serde_json::from_slice(text).map_err(|e| anyhow!("not a valid JSON object: {e}"))?;
    match line.kind.as_deref() {
        Some("record") | None => {}
        Some("preamble") => return Ok(false),
        Some(other) => bail!("kind {other:?} cannot be appended (only records)"),
    }
    let record_type = match (line.record_type, line.type_name.as_deref()) {
        (Some(code), name) => {
            let rt = RecordType(code);
            // Fast path: `dump` prints NodeDB's exact name.
            if let Some(name) = name.filter(|n| rt.kind().map(RecordKind::name) != Some(*n)) {
                let named = parse_record_type(name).ok_or_else(|| anyhow!("unknown record type {name:?}"))?;
                if named.logical() != rt.logical() {
                    bail!("type {name:?} does not match record_type {code}");
                }
            }
            rt
        }
        (None, Some(name)) => parse_record_type(name).ok_or_else(|| anyhow!("unknown record type {name:?}"))?,
        (None, None) => bail!("needs \"type\" or \"record_type\""),
    };
    if record_type.is_encrypted() || line.encrypted == Some(true) {
        bail!("encrypted records cannot be re-appended: their ciphertext is bound to the original segment");
    }
    let start = chunk.bytes.len();
    match (line.payload_hex.as_deref(), line.payload) {
        (Some(h), _) => {
            if h.len() % 2 != 0 {
                bail!("payload_hex: odd number of hex digits");
            }
            chunk.bytes.resize(start + h.len() / 2, 0);
            faster_hex::hex_decode(h.as_bytes(), &mut chunk.bytes[start..])
                .map_err(|e| anyhow!("payload_hex: not valid hex ({e})"))?;
        }
        (None, Some(raw)) if raw.get() != "null" => {
            let v: Value = serde_json::from_str(raw.get()).map_err(|e| anyhow!("payload: {e}"))?;
            let bytes = payload::encode_json(record_type.kind(), &v).map_err(|e| anyhow!("payload: {e}"))?;
            chunk.bytes.extend_from_slice(&bytes);
        }
        _ => bail!("needs \"payload_hex\" or a non-null \"payload\""),
    }
    let len = chunk.bytes.len() - start;
    if let Some(declared) = line.payload_len
        && declared != len as u64
    {
        bail!("payload_len {declared} but the payload has {len} bytes");
    }
    if len > crate::wal::header::MAX_PAYLOAD_LEN as usize {
        bail!("payload of {len} bytes exceeds the 64 MiB limit");
    }
    chunk.records.push(Staged {
        line_no,
        lsn: line.lsn,
        record_type,
        tenant_id: line.tenant_id.unwrap_or(0),
        vshard_id: line.vshard_id.unwrap_or(0),
        database_id: line.database_id.unwrap_or(0),
        payload: start..start + len,
        segment: line.segment.map(Cow::into_owned),
        new_segment: false,
    });
    Ok(true)
}

/// Stages one slice of the input. Line numbers are relative to the slice (1-based)
/// until `stage_all` knows where the slice starts; an error carries its line.
fn stage_chunk(text: &[u8]) -> Result<Chunk, (usize, anyhow::Error)> {
    // Payload bytes are at most half the hex text: reserve once, never reallocate.
    let mut chunk = Chunk { bytes: Vec::with_capacity(text.len() / 2), ..Default::default() };
    let mut start = 0;
    while start < text.len() {
        chunk.lines += 1;
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |p| start + p);
        stage_line(&text[start..end], chunk.lines, &mut chunk).map_err(|e| (chunk.lines, e))?;
        start = end + 1;
    }
    Ok(chunk)
}

/// The input, mapped if it is a file (no copy), read fully if it is stdin.
enum Input {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Input {
    fn open(path: &Path) -> Result<Input> {
        if path == Path::new("-") {
            return read_input(path).map(Input::Read);
        }
        let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
        let len = file.metadata().with_context(|| format!("reading {}", path.display()))?.len();
        if len == 0 || !file.metadata()?.is_file() {
            return read_input(path).map(Input::Read);
        }
        // SAFETY: read-only map of an input file that is not expected to change while read.
        let map = unsafe { memmap2::Mmap::map(&file) }.with_context(|| format!("reading {}", path.display()))?;
        Ok(Input::Mapped(map))
    }
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Read(v) => v,
        }
    }
}

fn append_batch(args: &Args, input: &Path) -> Result<ExitCode> {
    let data = Input::open(input)?;
    let text = data.bytes();
    let mut w = open_writer(args)?;
    let first_lsn = w.next_lsn();
    let chunks = match stage_all(text, first_lsn, w.active_segment_name()) {
        Ok(c) => c,
        Err(e) => {
            w.discard_if_unused();
            return Err(e.context(format!("nothing was written to {}", args.path.display())));
        }
    };
    let mut bytes = 0u64;
    let mut n = 0u64;
    let result = (|| -> Result<()> {
        for chunk in &chunks {
            for s in &chunk.records {
                if s.new_segment && w.is_directory() {
                    w.start_segment()?;
                }
                let payload = &chunk.bytes[s.payload.clone()];
                w.append(&NewRecord {
                    record_type: s.record_type,
                    tenant_id: s.tenant_id,
                    vshard_id: s.vshard_id,
                    database_id: s.database_id,
                    payload,
                })?;
                bytes += 54 + payload.len() as u64;
                n += 1;
            }
        }
        w.sync()?;
        Ok(())
    })();
    if let Err(e) = result {
        w.discard_if_unused();
        return Err(e).context("cannot append");
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text if n == 0 => writeln!(out, "appended 0 records")?,
        Format::Text => writeln!(out, "appended {n} records, LSN {first_lsn}..{}, {bytes} bytes", first_lsn + n - 1)?,
        Format::Json => writeln!(
            out,
            "{}",
            json!({ "records": n, "first_lsn": (n > 0).then_some(first_lsn), "last_lsn": (n > 0).then(|| first_lsn + n - 1), "bytes": bytes })
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses and validates every line (on all cores); nothing is written unless all of
/// them are good. Then checks LSNs and places segment boundaries, in order.
fn stage_all(text: &[u8], first_lsn: u64, active_segment: Option<String>) -> Result<Vec<Chunk>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    // Split at line boundaries into roughly equal slices.
    let mut slices = Vec::with_capacity(threads);
    let mut start = 0usize;
    for i in 1..=threads {
        let mut end = if i == threads { text.len() } else { (text.len() * i / threads).max(start) };
        if end < text.len() {
            end += memchr::memchr(b'\n', &text[end..]).map_or(text.len() - end, |p| p + 1);
        }
        slices.push(&text[start..end]);
        start = end;
    }
    let results: Vec<Result<Chunk, (usize, anyhow::Error)>> = std::thread::scope(|s| {
        let handles: Vec<_> = slices.iter().map(|&slice| s.spawn(move || stage_chunk(slice))).collect();
        handles.into_iter().map(|h| h.join().expect("staging thread panicked")).collect()
    });
    // The first failing slice holds the first failing line; earlier slices succeeded,
    // so their line counts place it.
    let mut chunks = Vec::with_capacity(results.len());
    let mut lines_before = 0;
    for r in results {
        let mut chunk = r.map_err(|(line, e)| e.context(format!("line {}", lines_before + line)))?;
        for s in &mut chunk.records {
            s.line_no += lines_before;
        }
        lines_before += chunk.lines;
        chunks.push(chunk);
    }
    let mut lsn = first_lsn;
    let mut current_segment = active_segment;
    for chunk in &mut chunks {
        for s in &mut chunk.records {
            if let Some(given) = s.lsn
                && given != lsn
            {
                bail!(
                    "line {}: lsn {given} but this record would get LSN {lsn}; drop the \"lsn\" fields to renumber",
                    s.line_no
                );
            }
            // A canonical segment name whose first LSN is this record's LSN starts that
            // segment, so a copy of a WAL directory has the same boundaries.
            if let Some(seg) = &s.segment
                && parse_segment_name(seg) == Some(lsn)
                && current_segment.as_deref() != Some(seg.as_str())
            {
                s.new_segment = true;
                current_segment = Some(seg.clone());
            }
            lsn += 1;
        }
    }
    Ok(chunks)
}
