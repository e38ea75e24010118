//! Payload codecs for every record type (FORMAT.md §4), both directions.
//!
//! Decoding yields named fields where the spec establishes a schema, a generic
//! MessagePack reading where it does not, and nothing (raw bytes only) otherwise.
//! Encoding accepts exactly the JSON that decoding produces.

pub mod fixed;
pub mod forms;
pub mod msgpack;
pub mod schema;

use serde_json::{Map, Value};

use crate::wal::types::RecordKind;
use fixed::*;
use forms::{Form, forms_for};

#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    #[error("payload truncated: needs {need} bytes, has {have}")]
    Truncated { need: usize, have: usize },
    #[error("payload must be exactly {want} bytes, has {have}")]
    Length { want: usize, have: usize },
    #[error("name of {0} bytes is longer than 255")]
    NameTooLong(usize),
    #[error("name is not valid UTF-8")]
    InvalidUtf8,
    #[error("{0} unexpected trailing bytes")]
    TrailingBytes(usize),
    #[error("unknown temporal-purge engine code {0}")]
    BadEngine(u8),
    #[error("array payload version byte is 0x{0:02x}, expected 0x03")]
    ArrayVersion(u8),
    #[error("MessagePack: {0}")]
    Msgpack(String),
    #[error("{0}")]
    Schema(String),
}

/// A fixed-layout payload, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixedPayload {
    CollectionTombstoned(CollectionTombstone),
    TemporalPurge(TemporalPurge),
    SurrogateAlloc(SurrogateAlloc),
    SurrogateBind(SurrogateBind),
    CalvinApplied(CalvinApplied),
    LsnMsAnchor(LsnMsAnchor),
}

impl FixedPayload {
    pub fn to_json(&self) -> Value {
        match self {
            FixedPayload::CollectionTombstoned(p) => p.to_json(),
            FixedPayload::TemporalPurge(p) => p.to_json(),
            FixedPayload::SurrogateAlloc(p) => p.to_json(),
            FixedPayload::SurrogateBind(p) => p.to_json(),
            FixedPayload::CalvinApplied(p) => p.to_json(),
            FixedPayload::LsnMsAnchor(p) => p.to_json(),
        }
    }
}

/// What a payload turned out to be.
#[derive(Clone, Debug)]
pub enum Decoded {
    Fixed(FixedPayload),
    /// One of the established MessagePack shapes of the record's type.
    Form {
        form: &'static str,
        value: Value,
        collection_at: Option<usize>,
    },
    /// Valid MessagePack, but in no established shape of the type.
    Generic(Value),
    /// No schema applies and it is not a single MessagePack value (CRDT deltas, raw bytes).
    Opaque,
    /// The type has a fixed layout (or version byte) and these bytes break it.
    Invalid(PayloadError),
}

impl Decoded {
    /// The JSON shown to users; `None` for opaque or invalid payloads.
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Decoded::Fixed(p) => Some(p.to_json()),
            Decoded::Form { form, value, .. } => Some(with_form(form, value.clone())),
            Decoded::Generic(v) => {
                let mut m = Map::new();
                m.insert("form".into(), Value::String("msgpack".into()));
                m.insert("value".into(), v.clone());
                Some(Value::Object(m))
            }
            Decoded::Opaque | Decoded::Invalid(_) => None,
        }
    }

    pub fn error(&self) -> Option<&PayloadError> {
        match self {
            Decoded::Invalid(e) => Some(e),
            _ => None,
        }
    }

    /// `(tenant override, collection)` pairs this payload writes to, per §4.4. A tenant
    /// of `None` means "the header's tenant".
    pub fn collections(&self) -> Vec<(Option<u64>, String)> {
        let s = |v: &Value| v.as_str().map(str::to_owned);
        match self {
            Decoded::Fixed(FixedPayload::CollectionTombstoned(t)) => {
                vec![(None, t.collection.clone())]
            }
            Decoded::Fixed(FixedPayload::TemporalPurge(t)) => vec![(None, t.name.clone())],
            Decoded::Fixed(FixedPayload::SurrogateBind(b)) => vec![(None, b.collection.clone())],
            Decoded::Form {
                form,
                value,
                collection_at,
            } => match *form {
                "array_put" | "array_delete" | "array_flush" => {
                    let id = &value["array_id"];
                    s(&id["name"])
                        .map(|c| vec![(id["tenant_id"].as_u64(), c)])
                        .unwrap_or_default()
                }
                "transaction" => value["sub_records"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|sub| {
                        if let Some(entry) = sub.get("entry") {
                            let write = entry["write"].as_object()?.values().next()?;
                            Some((entry["tenant_id"].as_u64(), s(&write["collection"])?))
                        } else {
                            Some((None, s(&sub.get("payload")?["collection"])?))
                        }
                    })
                    .collect(),
                _ if collection_at.is_some() => s(&value["collection"])
                    .map(|c| vec![(None, c)])
                    .unwrap_or_default(),
                _ => vec![],
            },
            _ => vec![],
        }
    }
}

fn with_form(form: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("form".into(), Value::String(form.into()));
    if let Value::Object(fields) = value {
        m.extend(fields);
    }
    Value::Object(m)
}

fn fixed_decode(kind: RecordKind, b: &[u8]) -> Option<Result<FixedPayload, PayloadError>> {
    Some(match kind {
        RecordKind::CollectionTombstoned => {
            CollectionTombstone::decode(b).map(FixedPayload::CollectionTombstoned)
        }
        RecordKind::TemporalPurge => TemporalPurge::decode(b).map(FixedPayload::TemporalPurge),
        RecordKind::SurrogateAlloc => SurrogateAlloc::decode(b).map(FixedPayload::SurrogateAlloc),
        RecordKind::SurrogateBind => SurrogateBind::decode(b).map(FixedPayload::SurrogateBind),
        RecordKind::CalvinApplied => CalvinApplied::decode(b).map(FixedPayload::CalvinApplied),
        RecordKind::LsnMsAnchor => LsnMsAnchor::decode(b).map(FixedPayload::LsnMsAnchor),
        _ => return None,
    })
}

fn decode_form(form: &'static Form, b: &[u8]) -> Result<Value, PayloadError> {
    let body = match form.version_byte {
        Some(v) => match b.split_first() {
            Some((&got, rest)) if got == v => rest,
            Some((&got, _)) => return Err(PayloadError::ArrayVersion(got)),
            None => return Err(PayloadError::Truncated { need: 1, have: 0 }),
        },
        None => b,
    };
    let value = schema::decode_complete(form.ty, body)?;
    Ok(match form.whole {
        Some(field) => {
            let mut m = Map::new();
            m.insert(field.into(), value);
            Value::Object(m)
        }
        None => value,
    })
}

/// Decodes a plaintext payload of a record of type `kind` (`None` = unknown type).
pub fn decode(kind: Option<RecordKind>, b: &[u8]) -> Decoded {
    let Some(kind) = kind else {
        return generic_or_opaque(b);
    };
    if let Some(r) = fixed_decode(kind, b) {
        return match r {
            Ok(p) => Decoded::Fixed(p),
            Err(e) => Decoded::Invalid(e),
        };
    }
    if kind == RecordKind::Transaction
        && let Some(value) = decode_transaction(b)
    {
        return Decoded::Form {
            form: "transaction",
            value,
            collection_at: None,
        };
    }
    let mut first_err = None;
    for form in forms_for(kind) {
        match decode_form(form, b) {
            Ok(value) => {
                return Decoded::Form {
                    form: form.name,
                    value,
                    collection_at: form.collection_at,
                };
            }
            Err(e @ PayloadError::ArrayVersion(_)) => return Decoded::Invalid(e),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    generic_or_opaque(b)
}

/// Transaction payload (§4.3.6): `[[sub_type, bytes[]]*]`. NodeDB's server puts a
/// `ReplicatedEntry` in each sub-record; other writers put a plain record payload of
/// `sub_type`. Each sub-record is shown as `entry`, `payload` (only if it re-encodes to
/// the same bytes) or raw `bytes`.
fn decode_transaction(b: &[u8]) -> Option<Value> {
    let mut d = msgpack::Decoder::new(b);
    let n = d.array_len().ok()?;
    let mut subs = Vec::with_capacity(n);
    for _ in 0..n {
        if d.array_len().ok()? != 2 {
            return None;
        }
        let sub_type = d.uint().ok()?;
        let bytes = d.byte_array().ok()?;
        let mut obj = Map::new();
        obj.insert("sub_type".into(), Value::from(sub_type));
        if let Ok(entry) = schema::decode_complete(&forms::REPLICATED_ENTRY, &bytes) {
            obj.insert("entry".into(), entry);
        } else {
            let kind = u32::try_from(sub_type).ok().and_then(RecordKind::from_code);
            let json = decode(kind, &bytes)
                .to_json()
                .filter(|j| encode(kind, j).ok().as_deref() == Some(&bytes[..]));
            match json {
                Some(j) => obj.insert("payload".into(), j),
                None => obj.insert("bytes".into(), schema::bytes_to_json(&bytes)),
            };
        }
        subs.push(Value::Object(obj));
    }
    if d.remaining() != 0 {
        return None;
    }
    let mut m = Map::new();
    m.insert("sub_records".into(), Value::Array(subs));
    Some(Value::Object(m))
}

fn encode_transaction(obj: &Map<String, Value>) -> Result<Vec<u8>, PayloadError> {
    let subs = field(obj, "sub_records")?
        .as_array()
        .ok_or_else(|| PayloadError::Schema("sub_records: expected an array".into()))?;
    let mut e = msgpack::Encoder::new();
    e.array_len(subs.len());
    for (i, sub) in subs.iter().enumerate() {
        let path = format!("sub_records[{i}]");
        let sub = sub
            .as_object()
            .ok_or_else(|| PayloadError::Schema(format!("{path}: expected an object")))?;
        let sub_type: u64 =
            uint_field(sub, "sub_type").map_err(|e| PayloadError::Schema(format!("{path}.{e}")))?;
        let bytes = if let Some(entry) = sub.get("entry") {
            let mut inner = msgpack::Encoder::new();
            schema::encode(
                &forms::REPLICATED_ENTRY,
                entry,
                &mut inner,
                &format!("{path}.entry"),
            )?;
            inner.buf
        } else if let Some(payload) = sub.get("payload") {
            let kind = u32::try_from(sub_type).ok().and_then(RecordKind::from_code);
            encode(kind, payload)
                .map_err(|e| PayloadError::Schema(format!("{path}.payload.{e}")))?
        } else if let Some(raw) = sub.get("bytes") {
            schema::json_to_bytes(raw, &format!("{path}.bytes"))?
        } else {
            return Err(PayloadError::Schema(format!(
                "{path}: needs \"entry\", \"payload\" or \"bytes\""
            )));
        };
        e.array_len(2);
        e.uint(sub_type);
        e.byte_array(&bytes);
    }
    Ok(e.buf)
}

fn generic_or_opaque(b: &[u8]) -> Decoded {
    match schema::generic_complete(b) {
        Some(v) => Decoded::Generic(v),
        None => Decoded::Opaque,
    }
}

// ---------------------------------------------------------------- encoding

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value, PayloadError> {
    obj.get(name)
        .ok_or_else(|| PayloadError::Schema(format!("{name}: missing")))
}
fn uint_field<T: TryFrom<u64>>(obj: &Map<String, Value>, name: &str) -> Result<T, PayloadError> {
    field(obj, name)?
        .as_u64()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| {
            PayloadError::Schema(format!(
                "{name}: expected an unsigned integer of {} bits",
                size_of::<T>() * 8
            ))
        })
}
fn i64_field(obj: &Map<String, Value>, name: &str) -> Result<i64, PayloadError> {
    field(obj, name)?
        .as_i64()
        .ok_or_else(|| PayloadError::Schema(format!("{name}: expected a signed 64-bit integer")))
}
fn str_field(obj: &Map<String, Value>, name: &str) -> Result<String, PayloadError> {
    field(obj, name)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PayloadError::Schema(format!("{name}: expected a string")))
}

/// Encodes the JSON form of a payload (as `Decoded::to_json` prints it) for `kind`.
pub fn encode(kind: Option<RecordKind>, v: &Value) -> Result<Vec<u8>, PayloadError> {
    let obj = v
        .as_object()
        .ok_or_else(|| PayloadError::Schema("payload: expected an object".into()))?;
    let form_name = obj.get("form").and_then(Value::as_str);
    if form_name == Some("msgpack") {
        let mut e = msgpack::Encoder::new();
        schema::encode_generic(field(obj, "value")?, &mut e, "value")?;
        return Ok(e.buf);
    }
    let Some(kind) = kind else {
        return Err(PayloadError::Schema(
            "unknown record type: give payload_hex or a payload with \"form\":\"msgpack\"".into(),
        ));
    };
    match kind {
        RecordKind::CollectionTombstoned => {
            return CollectionTombstone {
                collection: str_field(obj, "collection")?,
                purge_lsn: uint_field(obj, "purge_lsn")?,
            }
            .encode();
        }
        RecordKind::TemporalPurge => {
            let engine_name = str_field(obj, "engine")?;
            let engine = PurgeEngine::from_name(&engine_name).ok_or_else(|| {
                PayloadError::Schema(format!("engine: unknown engine {engine_name:?}"))
            })?;
            return TemporalPurge {
                engine,
                name: str_field(obj, "collection")?,
                cutoff_system_ms: i64_field(obj, "cutoff_system_ms")?,
                purged_count: uint_field(obj, "purged_count")?,
            }
            .encode();
        }
        RecordKind::SurrogateAlloc => {
            return Ok(SurrogateAlloc {
                hi: uint_field(obj, "hi")?,
            }
            .encode());
        }
        RecordKind::SurrogateBind => {
            return Ok(SurrogateBind {
                surrogate: uint_field(obj, "surrogate")?,
                collection: str_field(obj, "collection")?,
                pk: schema::json_to_bytes(field(obj, "pk")?, "pk")?,
            }
            .encode());
        }
        RecordKind::CalvinApplied => {
            return Ok(CalvinApplied {
                epoch: uint_field(obj, "epoch")?,
                position: uint_field(obj, "position")?,
                vshard_id: uint_field(obj, "vshard_id")?,
            }
            .encode());
        }
        RecordKind::LsnMsAnchor => {
            return Ok(LsnMsAnchor {
                lsn: uint_field(obj, "lsn")?,
                wall_ms: i64_field(obj, "wall_ms")?,
            }
            .encode());
        }
        _ => {}
    }
    if kind == RecordKind::Transaction && form_name != Some("msgpack") {
        return encode_transaction(obj);
    }
    let forms = forms_for(kind);
    let names = || {
        forms
            .iter()
            .map(|f| f.name)
            .chain(["msgpack"])
            .collect::<Vec<_>>()
            .join(", ")
    };
    let form = match form_name {
        Some(name) => forms.iter().find(|f| f.name == name).ok_or_else(|| {
            PayloadError::Schema(format!(
                "form {name:?} is not a {} payload (one of: {})",
                kind.name(),
                names()
            ))
        })?,
        None if forms.len() == 1 => &forms[0],
        None => {
            return Err(PayloadError::Schema(format!(
                "payload needs a \"form\" for {} (one of: {})",
                kind.name(),
                names()
            )));
        }
    };
    let mut e = msgpack::Encoder::new();
    if let Some(vb) = form.version_byte {
        e.buf.push(vb);
    }
    match form.whole {
        Some(name) => schema::encode(form.ty, field(obj, name)?, &mut e, name)?,
        None => schema::encode(form.ty, v, &mut e, "")?,
    }
    Ok(e.buf)
}

#[cfg(test)]
mod tests;
