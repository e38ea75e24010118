//! A tiny schema language for NodeDB's MessagePack payloads. One description drives
//! both the strict decoder (bytes → named JSON) and the encoder (JSON → bytes), so
//! whatever walkit prints it can write back byte for byte.

use serde_json::{Map, Value};

use super::PayloadError;
use super::msgpack::{Decoder, Encoder};

pub enum Ty {
    Uint,
    Int,
    F32,
    F64,
    Bool,
    Str,
    /// `Vec<u8>` as an array of uints.
    Bytes,
    /// `Vec<u8>` as MessagePack `bin` (struct and enum-variant fields).
    Bin,
    Opt(&'static Ty),
    List(&'static Ty),
    /// Fixed-length array shown as a JSON object with these field names.
    Tuple(&'static [Field]),
    /// Fixed-length array shown as a JSON array.
    Seq(&'static [Ty]),
    /// A literal discriminator string; it names the form and is not shown as a field.
    Const(&'static str),
    /// Externally tagged enum: `[variant name, payload]`, shown as `{"Variant": payload}`.
    Enum(&'static [Field]),
    Nil,
    /// `bytes[]` holding a complete MessagePack value of the inner type.
    Nested(&'static Ty),
    /// Any MessagePack value, shown generically.
    Any,
}

pub struct Field(pub &'static str, pub Ty);

fn mismatch(path: &str, want: &str) -> PayloadError {
    PayloadError::Schema(format!("{path}: expected {want}"))
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

// ---------------------------------------------------------------- decoding

pub fn decode(ty: &Ty, d: &mut Decoder<'_>) -> Result<Value, PayloadError> {
    Ok(match ty {
        Ty::Uint => Value::from(d.uint()?),
        Ty::Int => Value::from(d.int()?),
        Ty::F32 => f32_to_json(d.f32()?),
        Ty::F64 => f64_to_json(d.f64()?),
        Ty::Bool => Value::Bool(d.bool()?),
        Ty::Str => Value::String(d.str()?.to_owned()),
        Ty::Bytes => bytes_to_json(&d.byte_array()?),
        Ty::Bin => bytes_to_json(d.bin()?),
        Ty::Opt(inner) => {
            if d.nil() {
                Value::Null
            } else {
                decode(inner, d)?
            }
        }
        Ty::List(inner) => {
            let n = d.array_len()?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                out.push(decode(inner, d)?);
            }
            Value::Array(out)
        }
        Ty::Tuple(fields) => {
            expect_len(d, fields.len())?;
            let mut obj = Map::new();
            for Field(name, fty) in fields.iter() {
                let v = decode(fty, d)?;
                if !matches!(fty, Ty::Const(_)) {
                    obj.insert((*name).to_string(), v);
                }
            }
            Value::Object(obj)
        }
        Ty::Seq(items) => {
            expect_len(d, items.len())?;
            let mut out = Vec::with_capacity(items.len());
            for t in items.iter() {
                out.push(decode(t, d)?);
            }
            Value::Array(out)
        }
        Ty::Const(s) => {
            let got = d.str()?;
            if got != *s {
                return Err(PayloadError::Schema(format!(
                    "discriminator {got:?} is not {s:?}"
                )));
            }
            Value::Null
        }
        Ty::Enum(variants) => {
            expect_len(d, 2)?;
            let name = d.str()?;
            let Some(Field(vname, vty)) = variants.iter().find(|f| f.0 == name) else {
                return Err(PayloadError::Schema(format!("unknown variant {name:?}")));
            };
            let mut obj = Map::new();
            obj.insert((*vname).to_string(), decode(vty, d)?);
            Value::Object(obj)
        }
        Ty::Nil => {
            if !d.nil() {
                return Err(PayloadError::Schema("expected nil".into()));
            }
            Value::Null
        }
        Ty::Nested(inner) => {
            let bytes = d.byte_array()?;
            decode_complete(inner, &bytes)?
        }
        Ty::Any => {
            let start = d.pos;
            let mut rest = d.rest();
            let before = rest.len();
            let v = rmpv::decode::read_value(&mut rest)
                .map_err(|e| PayloadError::Msgpack(format!("byte {start}: {e}")))?;
            d.pos += before - rest.len();
            msgpack_to_json(&v)
        }
    })
}

fn expect_len(d: &mut Decoder<'_>, want: usize) -> Result<(), PayloadError> {
    let n = d.array_len()?;
    if n != want {
        return Err(PayloadError::Schema(format!(
            "array of {n} elements, expected {want}"
        )));
    }
    Ok(())
}

/// Decodes `bytes` as exactly one value of `ty`, with nothing left over.
pub fn decode_complete(ty: &Ty, bytes: &[u8]) -> Result<Value, PayloadError> {
    let mut d = Decoder::new(bytes);
    let v = decode(ty, &mut d)?;
    if d.remaining() != 0 {
        return Err(PayloadError::TrailingBytes(d.remaining()));
    }
    Ok(v)
}

pub fn f32_to_json(x: f32) -> Value {
    // Shortest text that reads back as the same f32, so `0.1f32` shows as 0.1.
    let text = ryu::Buffer::new().format(x).to_owned();
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

pub fn f64_to_json(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Text stays readable; anything else is shown as hex (plus its MessagePack reading
/// when it holds exactly one MessagePack value, as document values do).
pub fn bytes_to_json(b: &[u8]) -> Value {
    if let Ok(s) = std::str::from_utf8(b)
        && !s
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Value::String(s.to_owned());
    }
    let mut obj = Map::new();
    obj.insert("hex".into(), Value::String(hex::encode(b)));
    if let Some(v) = generic_complete(b) {
        obj.insert("msgpack".into(), v);
    }
    Value::Object(obj)
}

/// Reads `b` as exactly one generic MessagePack value.
pub fn generic_complete(b: &[u8]) -> Option<Value> {
    if b.is_empty() {
        return None;
    }
    let mut rest = b;
    let v = rmpv::decode::read_value(&mut rest).ok()?;
    rest.is_empty().then(|| msgpack_to_json(&v))
}

pub fn msgpack_to_json(v: &rmpv::Value) -> Value {
    use rmpv::Value as M;
    match v {
        M::Nil => Value::Null,
        M::Boolean(b) => Value::Bool(*b),
        M::Integer(i) => {
            if let Some(u) = i.as_u64() {
                Value::from(u)
            } else {
                Value::from(i.as_i64().unwrap_or_default())
            }
        }
        M::F32(x) => f32_to_json(*x),
        M::F64(x) => f64_to_json(*x),
        M::String(s) => match s.as_str() {
            Some(t) => Value::String(t.to_owned()),
            None => serde_json::json!({ "hex": hex::encode(s.as_bytes()) }),
        },
        M::Binary(b) => serde_json::json!({ "bin": hex::encode(b) }),
        M::Array(items) => Value::Array(items.iter().map(msgpack_to_json).collect()),
        M::Map(pairs) => {
            if pairs.iter().all(|(k, _)| k.is_str()) {
                let mut obj = Map::new();
                for (k, val) in pairs {
                    obj.insert(
                        k.as_str().unwrap_or_default().to_owned(),
                        msgpack_to_json(val),
                    );
                }
                Value::Object(obj)
            } else {
                Value::Array(
                    pairs
                        .iter()
                        .map(|(k, val)| {
                            Value::Array(vec![msgpack_to_json(k), msgpack_to_json(val)])
                        })
                        .collect(),
                )
            }
        }
        M::Ext(t, data) => serde_json::json!({ "ext": t, "hex": hex::encode(data) }),
    }
}

// ---------------------------------------------------------------- encoding

pub fn encode(ty: &Ty, v: &Value, e: &mut Encoder, path: &str) -> Result<(), PayloadError> {
    match ty {
        Ty::Uint => e.uint(
            v.as_u64()
                .ok_or_else(|| mismatch(path, "an unsigned integer"))?,
        ),
        Ty::Int => e.int(
            v.as_i64()
                .ok_or_else(|| mismatch(path, "a signed 64-bit integer"))?,
        ),
        Ty::F32 => {
            let x = v.as_f64().ok_or_else(|| mismatch(path, "a number"))?;
            e.f32(x as f32)
        }
        Ty::F64 => e.f64(v.as_f64().ok_or_else(|| mismatch(path, "a number"))?),
        Ty::Bool => e.bool(v.as_bool().ok_or_else(|| mismatch(path, "true or false"))?),
        Ty::Str => e.str(v.as_str().ok_or_else(|| mismatch(path, "a string"))?),
        Ty::Bytes => e.byte_array(&json_to_bytes(v, path)?),
        Ty::Bin => e.bin(&json_to_bytes(v, path)?),
        Ty::Opt(inner) => {
            if v.is_null() {
                e.nil()
            } else {
                encode(inner, v, e, path)?
            }
        }
        Ty::List(inner) => {
            let items = v.as_array().ok_or_else(|| mismatch(path, "an array"))?;
            e.array_len(items.len());
            for (i, item) in items.iter().enumerate() {
                encode(inner, item, e, &format!("{path}[{i}]"))?;
            }
        }
        Ty::Tuple(fields) => {
            let obj = v.as_object().ok_or_else(|| mismatch(path, "an object"))?;
            e.array_len(fields.len());
            for Field(name, fty) in fields.iter() {
                let fpath = join(path, name);
                match fty {
                    Ty::Const(s) => e.str(s),
                    Ty::Opt(_) => encode(fty, obj.get(*name).unwrap_or(&Value::Null), e, &fpath)?,
                    _ => {
                        let fv = obj
                            .get(*name)
                            .ok_or_else(|| PayloadError::Schema(format!("{fpath}: missing")))?;
                        encode(fty, fv, e, &fpath)?
                    }
                }
            }
            if let Some(extra) = obj
                .keys()
                .find(|k| k.as_str() != "form" && !fields.iter().any(|f| f.0 == k.as_str()))
            {
                return Err(PayloadError::Schema(format!(
                    "{}: unknown field",
                    join(path, extra)
                )));
            }
        }
        Ty::Seq(items) => {
            let arr = v.as_array().ok_or_else(|| mismatch(path, "an array"))?;
            if arr.len() != items.len() {
                return Err(mismatch(
                    path,
                    &format!("an array of {} elements", items.len()),
                ));
            }
            e.array_len(items.len());
            for (i, (t, item)) in items.iter().zip(arr).enumerate() {
                encode(t, item, e, &format!("{path}[{i}]"))?;
            }
        }
        Ty::Const(s) => e.str(s),
        Ty::Enum(variants) => {
            let obj = v
                .as_object()
                .filter(|o| o.len() == 1)
                .ok_or_else(|| mismatch(path, "an object with one variant key"))?;
            let (name, payload) = obj.iter().next().unwrap();
            let Some(Field(vname, vty)) = variants.iter().find(|f| f.0 == name) else {
                let names: Vec<&str> = variants.iter().map(|f| f.0).collect();
                return Err(PayloadError::Schema(format!(
                    "{path}: unknown variant {name:?} (one of {})",
                    names.join(", ")
                )));
            };
            e.array_len(2);
            e.str(vname);
            encode(vty, payload, e, &join(path, vname))?;
        }
        Ty::Nil => {
            if !v.is_null() {
                return Err(mismatch(path, "null"));
            }
            e.nil()
        }
        Ty::Nested(inner) => {
            let mut sub = Encoder::new();
            encode(inner, v, &mut sub, path)?;
            e.byte_array(&sub.buf);
        }
        Ty::Any => encode_generic(v, e, path)?,
    }
    Ok(())
}

/// Plain JSON → MessagePack: non-negative integers as uint, negative as int, other
/// numbers as float64, objects as string-keyed maps.
pub fn encode_generic(v: &Value, e: &mut Encoder, path: &str) -> Result<(), PayloadError> {
    match v {
        Value::Null => e.nil(),
        Value::Bool(b) => e.bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                e.uint(u)
            } else if let Some(i) = n.as_i64() {
                e.int(i)
            } else {
                e.f64(
                    n.as_f64()
                        .ok_or_else(|| mismatch(path, "a finite number"))?,
                )
            }
        }
        Value::String(s) => e.str(s),
        Value::Array(items) => {
            e.array_len(items.len());
            for (i, item) in items.iter().enumerate() {
                encode_generic(item, e, &format!("{path}[{i}]"))?;
            }
        }
        Value::Object(obj) => {
            e.map_len(obj.len());
            for (k, item) in obj {
                e.str(k);
                encode_generic(item, e, &join(path, k))?;
            }
        }
    }
    Ok(())
}

/// Byte fields accept a UTF-8 string, an array of 0..=255, or `{"hex": …}` /
/// `{"msgpack": <JSON>}` — the shapes `bytes_to_json` prints.
pub fn json_to_bytes(v: &Value, path: &str) -> Result<Vec<u8>, PayloadError> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Array(items) => items
            .iter()
            .map(|x| x.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| mismatch(path, "an array of byte values 0..=255")),
        Value::Object(obj) => {
            if let Some(h) = obj.get("hex") {
                let h = h
                    .as_str()
                    .ok_or_else(|| mismatch(&join(path, "hex"), "a hex string"))?;
                hex::decode(h).map_err(|_| mismatch(&join(path, "hex"), "a hex string"))
            } else if let Some(m) = obj.get("msgpack") {
                let mut e = Encoder::new();
                encode_generic(m, &mut e, &join(path, "msgpack"))?;
                Ok(e.buf)
            } else {
                Err(mismatch(
                    path,
                    "bytes as a string, an array, {\"hex\":…} or {\"msgpack\":…}",
                ))
            }
        }
        _ => Err(mismatch(
            path,
            "bytes as a string, an array, {\"hex\":…} or {\"msgpack\":…}",
        )),
    }
}
