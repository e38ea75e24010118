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
    /// One of the established MessagePack shapes of the record's type, as JSON text.
    Form {
        form: &'static str,
        json: String,
    },
    /// Valid MessagePack in no established shape of the type, as JSON text.
    Generic(String),
    /// No schema applies and it is not a single MessagePack value (CRDT deltas, raw bytes).
    Opaque,
    /// The type has a fixed layout (or version byte) and these bytes break it.
    Invalid(PayloadError),
}

/// What `render` wrote.
#[derive(Clone, Debug)]
pub enum Rendered {
    Fixed(FixedPayload),
    Form(&'static str),
    Generic,
    /// Nothing was written.
    Opaque,
    /// Nothing was written.
    Invalid(PayloadError),
}

impl Decoded {
    /// The JSON shown to users; `None` for opaque or invalid payloads.
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Decoded::Fixed(p) => Some(p.to_json()),
            Decoded::Form { json, .. } | Decoded::Generic(json) => serde_json::from_str(json).ok(),
            Decoded::Opaque | Decoded::Invalid(_) => None,
        }
    }

    pub fn error(&self) -> Option<&PayloadError> {
        match self {
            Decoded::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

fn fixed_decode(kind: RecordKind, b: &[u8]) -> Option<Result<FixedPayload, PayloadError>> {
    Some(match kind {
        RecordKind::CollectionTombstoned => CollectionTombstone::decode(b).map(FixedPayload::CollectionTombstoned),
        RecordKind::TemporalPurge => TemporalPurge::decode(b).map(FixedPayload::TemporalPurge),
        RecordKind::SurrogateAlloc => SurrogateAlloc::decode(b).map(FixedPayload::SurrogateAlloc),
        RecordKind::SurrogateBind => SurrogateBind::decode(b).map(FixedPayload::SurrogateBind),
        RecordKind::CalvinApplied => CalvinApplied::decode(b).map(FixedPayload::CalvinApplied),
        RecordKind::LsnMsAnchor => LsnMsAnchor::decode(b).map(FixedPayload::LsnMsAnchor),
        _ => return None,
    })
}

/// Writes `{"form":"<name>", fields…}` for one established shape.
fn write_form(form: &'static Form, b: &[u8], out: &mut Vec<u8>) -> Result<(), PayloadError> {
    let body = match form.version_byte {
        Some(v) => match b.split_first() {
            Some((&got, rest)) if got == v => rest,
            Some((&got, _)) => return Err(PayloadError::ArrayVersion(got)),
            None => return Err(PayloadError::Truncated { need: 1, have: 0 }),
        },
        None => b,
    };
    out.extend_from_slice(b"{\"form\":");
    schema::write_str(out, form.name);
    let mut d = msgpack::Decoder::new(body);
    match (form.whole, form.ty) {
        (Some(field), ty) => {
            out.push(b',');
            schema::write_str(out, field);
            out.push(b':');
            schema::write(ty, &mut d, out)?;
        }
        (None, schema::Ty::Tuple(fields)) => schema::write_fields(fields, &mut d, out, false)?,
        (None, _) => unreachable!("forms without `whole` are tuples"),
    }
    if d.remaining() != 0 {
        return Err(PayloadError::TrailingBytes(d.remaining()));
    }
    out.push(b'}');
    Ok(())
}

/// Writes the JSON of a plaintext payload of type `kind` (`None` = unknown type) into
/// `out`. Opaque and invalid payloads write nothing. This is the hot path of `dump`.
pub fn render(kind: Option<RecordKind>, b: &[u8], out: &mut Vec<u8>) -> Rendered {
    let Some(kind) = kind else {
        return render_generic(b, out);
    };
    if let Some(r) = fixed_decode(kind, b) {
        return match r {
            Ok(p) => {
                serde_json::to_writer(&mut *out, &p.to_json()).expect("writing to a Vec cannot fail");
                Rendered::Fixed(p)
            }
            Err(e) => Rendered::Invalid(e),
        };
    }
    if kind == RecordKind::Transaction
        && let Some(value) = decode_transaction(b)
    {
        serde_json::to_writer(&mut *out, &value).expect("writing to a Vec cannot fail");
        return Rendered::Form("transaction");
    }
    let mark = out.len();
    for form in forms_for(kind) {
        match write_form(form, b, out) {
            Ok(()) => return Rendered::Form(form.name),
            Err(e @ PayloadError::ArrayVersion(_)) => {
                out.truncate(mark);
                return Rendered::Invalid(e);
            }
            Err(_) => out.truncate(mark),
        }
    }
    render_generic(b, out)
}

fn render_generic(b: &[u8], out: &mut Vec<u8>) -> Rendered {
    let mark = out.len();
    out.extend_from_slice(b"{\"form\":\"msgpack\",\"value\":");
    if schema::write_generic_complete(out, b) {
        out.push(b'}');
        Rendered::Generic
    } else {
        out.truncate(mark);
        Rendered::Opaque
    }
}

/// Decodes a plaintext payload of a record of type `kind` (`None` = unknown type).
pub fn decode(kind: Option<RecordKind>, b: &[u8]) -> Decoded {
    let mut out = Vec::new();
    let text = |out: Vec<u8>| String::from_utf8(out).expect("decoders emit UTF-8");
    match render(kind, b, &mut out) {
        Rendered::Fixed(p) => Decoded::Fixed(p),
        Rendered::Form(form) => Decoded::Form { form, json: text(out) },
        Rendered::Generic => Decoded::Generic(text(out)),
        Rendered::Opaque => Decoded::Opaque,
        Rendered::Invalid(e) => Decoded::Invalid(e),
    }
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
        let mut entry = Vec::new();
        if schema::write_complete(&forms::REPLICATED_ENTRY, &bytes, &mut entry).is_ok() {
            obj.insert("entry".into(), serde_json::from_slice(&entry).expect("valid JSON"));
        } else {
            let kind = u32::try_from(sub_type).ok().and_then(RecordKind::from_code);
            let json = decode(kind, &bytes).to_json().filter(|j| encode(kind, j).ok().as_deref() == Some(&bytes[..]));
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
    m.insert("form".into(), Value::String("transaction".into()));
    m.insert("sub_records".into(), Value::Array(subs));
    Some(Value::Object(m))
}

/// `(tenant override, collection)` pairs a payload writes to, per §4.4, read straight
/// from the bytes (no full decode). A tenant of `None` means "the header's tenant".
pub fn collections(kind: Option<RecordKind>, b: &[u8]) -> Vec<(Option<u64>, String)> {
    let Some(kind) = kind else { return Vec::new() };
    match kind {
        RecordKind::CollectionTombstoned => {
            CollectionTombstone::decode(b).map(|t| vec![(None, t.collection)]).unwrap_or_default()
        }
        RecordKind::TemporalPurge => TemporalPurge::decode(b).map(|t| vec![(None, t.name)]).unwrap_or_default(),
        RecordKind::SurrogateBind => SurrogateBind::decode(b).map(|t| vec![(None, t.collection)]).unwrap_or_default(),
        RecordKind::ArrayPut | RecordKind::ArrayDelete | RecordKind::ArrayFlush => {
            let body = if kind == RecordKind::ArrayFlush {
                b
            } else {
                match b.split_first() {
                    Some((&forms::ARRAY_WAL_VERSION, rest)) => rest,
                    _ => return Vec::new(),
                }
            };
            let mut d = msgpack::Decoder::new(body);
            let id = (|| {
                d.array_len().ok()?;
                if d.array_len().ok()? != 2 {
                    return None;
                }
                Some((d.uint().ok()?, d.str().ok()?.to_owned()))
            })();
            id.map(|(t, name)| vec![(Some(t), name)]).unwrap_or_default()
        }
        RecordKind::Transaction => decode_transaction(b)
            .map(|v| {
                v["sub_records"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|sub| match sub.get("entry") {
                        Some(entry) => {
                            let write = entry["write"].as_object()?.values().next()?;
                            Some((entry["tenant_id"].as_u64(), write["collection"].as_str()?.to_owned()))
                        }
                        None => Some((None, sub.get("payload")?["collection"].as_str()?.to_owned())),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => {
            let forms = forms_for(kind);
            if forms.iter().all(|f| f.collection_at.is_none()) {
                return Vec::new();
            }
            let mut d = msgpack::Decoder::new(b);
            let Ok(n) = d.array_len() else {
                return Vec::new();
            };
            let Ok(first) = d.str() else {
                return Vec::new();
            };
            // A KV discriminator with its family's arity moves the collection to element 1.
            let at = forms
                .iter()
                .find_map(|f| match f.ty {
                    schema::Ty::Tuple(fields) => match fields.first() {
                        Some(schema::Field(_, schema::Ty::Const(c))) if *c == first && fields.len() == n => {
                            Some(f.collection_at)
                        }
                        _ => None,
                    },
                    _ => None,
                })
                .unwrap_or(Some(0));
            match at {
                Some(0) => vec![(None, first.to_owned())],
                Some(1) => d.str().map(|c| vec![(None, c.to_owned())]).unwrap_or_default(),
                _ => Vec::new(),
            }
        }
    }
}

// ---------------------------------------------------------------- encoding

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value, PayloadError> {
    obj.get(name).ok_or_else(|| PayloadError::Schema(format!("{name}: missing")))
}
fn uint_field<T: TryFrom<u64>>(obj: &Map<String, Value>, name: &str) -> Result<T, PayloadError> {
    field(obj, name)?.as_u64().and_then(|v| T::try_from(v).ok()).ok_or_else(|| {
        PayloadError::Schema(format!("{name}: expected an unsigned integer of {} bits", size_of::<T>() * 8))
    })
}
fn i64_field(obj: &Map<String, Value>, name: &str) -> Result<i64, PayloadError> {
    field(obj, name)?.as_i64().ok_or_else(|| PayloadError::Schema(format!("{name}: expected a signed 64-bit integer")))
}
fn str_field(obj: &Map<String, Value>, name: &str) -> Result<String, PayloadError> {
    field(obj, name)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PayloadError::Schema(format!("{name}: expected a string")))
}

fn encode_transaction(obj: &Map<String, Value>) -> Result<Vec<u8>, PayloadError> {
    let subs = field(obj, "sub_records")?
        .as_array()
        .ok_or_else(|| PayloadError::Schema("sub_records: expected an array".into()))?;
    let mut e = msgpack::Encoder::new();
    e.array_len(subs.len());
    for (i, sub) in subs.iter().enumerate() {
        let path = format!("sub_records[{i}]");
        let sub = sub.as_object().ok_or_else(|| PayloadError::Schema(format!("{path}: expected an object")))?;
        let sub_type: u64 = uint_field(sub, "sub_type").map_err(|e| PayloadError::Schema(format!("{path}.{e}")))?;
        let bytes = if let Some(entry) = sub.get("entry") {
            let mut inner = msgpack::Encoder::new();
            schema::encode(&forms::REPLICATED_ENTRY, entry, &mut inner, &format!("{path}.entry"))?;
            inner.buf
        } else if let Some(payload) = sub.get("payload") {
            let kind = u32::try_from(sub_type).ok().and_then(RecordKind::from_code);
            encode(kind, payload).map_err(|e| PayloadError::Schema(format!("{path}.payload.{e}")))?
        } else if let Some(raw) = sub.get("bytes") {
            schema::json_to_bytes(raw, &format!("{path}.bytes"))?
        } else {
            return Err(PayloadError::Schema(format!("{path}: needs \"entry\", \"payload\" or \"bytes\"")));
        };
        e.array_len(2);
        e.uint(sub_type);
        e.byte_array(&bytes);
    }
    Ok(e.buf)
}

/// Encodes the JSON form of a payload (as `Decoded::to_json` prints it) for `kind`.
pub fn encode(kind: Option<RecordKind>, v: &Value) -> Result<Vec<u8>, PayloadError> {
    let obj = v.as_object().ok_or_else(|| PayloadError::Schema("payload: expected an object".into()))?;
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
            let engine = PurgeEngine::from_name(&engine_name)
                .ok_or_else(|| PayloadError::Schema(format!("engine: unknown engine {engine_name:?}")))?;
            return TemporalPurge {
                engine,
                name: str_field(obj, "collection")?,
                cutoff_system_ms: i64_field(obj, "cutoff_system_ms")?,
                purged_count: uint_field(obj, "purged_count")?,
            }
            .encode();
        }
        RecordKind::SurrogateAlloc => {
            return Ok(SurrogateAlloc { hi: uint_field(obj, "hi")? }.encode());
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
            return Ok(LsnMsAnchor { lsn: uint_field(obj, "lsn")?, wall_ms: i64_field(obj, "wall_ms")? }.encode());
        }
        _ => {}
    }
    if kind == RecordKind::Transaction && form_name != Some("msgpack") {
        return encode_transaction(obj);
    }
    let forms = forms_for(kind);
    let names = || forms.iter().map(|f| f.name).chain(["msgpack"]).collect::<Vec<_>>().join(", ");
    let form = match form_name {
        Some(name) => forms.iter().find(|f| f.name == name).ok_or_else(|| {
            PayloadError::Schema(format!("form {name:?} is not a {} payload (one of: {})", kind.name(), names()))
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

/// The shapes of `kind`, for error messages: `document_put [collection, document_id, value]`.
pub fn describe_forms(kind: RecordKind) -> String {
    forms_for(kind)
        .iter()
        .map(|f| match (f.whole, f.ty) {
            (Some(name), _) => format!("{} {name}", f.name),
            (None, schema::Ty::Tuple(fields)) => {
                let names: Vec<String> = fields
                    .iter()
                    .map(|schema::Field(n, t)| match t {
                        schema::Ty::Const(c) => format!("{c:?}"),
                        _ => (*n).to_string(),
                    })
                    .collect();
                format!("{} [{}]", f.name, names.join(", "))
            }
            (None, _) => f.name.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn is_fixed(kind: RecordKind) -> bool {
    fixed_decode(kind, &[]).is_some()
}

/// Encodes JSON as a person or script would write it: the decoded form that `dump`
/// prints (`{"form":…}`, or a fixed payload's fields), a positional array in one of
/// the type's shapes (`["users","u1",[129,161,97,1]]`), a bare number for Checkpoint,
/// or — for types without an established shape — any JSON, encoded generically.
/// Whatever is encoded is validated against the type's shapes first.
pub fn encode_json(kind: Option<RecordKind>, v: &Value) -> Result<Vec<u8>, PayloadError> {
    if v.is_object() {
        return encode(kind, v);
    }
    let generic = |v: &Value| {
        let mut e = msgpack::Encoder::new();
        schema::encode_generic(v, &mut e, "payload")?;
        Ok(e.buf)
    };
    let Some(k) = kind else { return generic(v) };
    if let Some(form) = forms_for(k).iter().find(|f| f.whole.is_some() && !matches!(f.ty, schema::Ty::Tuple(_)))
        && (!v.is_array() || matches!(form.ty, schema::Ty::List(_)))
    {
        let mut m = Map::new();
        m.insert(form.whole.unwrap().into(), v.clone());
        return encode(kind, &Value::Object(m));
    }
    if let Value::Array(items) = v {
        let mut best_err = None;
        for form in forms_for(k) {
            let schema::Ty::Tuple(fields) = form.ty else {
                continue;
            };
            if form.whole.is_some() || fields.len() != items.len() {
                continue;
            }
            let mut obj = Map::new();
            obj.insert("form".into(), Value::String(form.name.into()));
            let mut consts_ok = true;
            for (schema::Field(name, ty), item) in fields.iter().zip(items) {
                match ty {
                    schema::Ty::Const(c) => consts_ok &= item.as_str() == Some(*c),
                    _ => {
                        obj.insert((*name).to_string(), item.clone());
                    }
                }
            }
            if !consts_ok {
                continue;
            }
            match encode(kind, &Value::Object(obj)) {
                Ok(b) => return Ok(b),
                Err(e) => {
                    best_err.get_or_insert(PayloadError::Schema(format!("as {}: {e}", form.name)));
                }
            }
        }
        if k == RecordKind::Transaction {
            let bytes = generic(v)?;
            if decode_transaction(&bytes).is_some() {
                return Ok(bytes);
            }
        }
        if let Some(e) = best_err {
            return Err(e);
        }
    }
    if forms_for(k).is_empty() && !is_fixed(k) && k != RecordKind::Transaction {
        return generic(v);
    }
    Err(PayloadError::Schema(format!(
        "does not match any {} payload shape ({})",
        k.name(),
        if is_fixed(k) { "give an object with its fields".to_string() } else { describe_forms(k) }
    )))
}

#[cfg(test)]
mod tests;
