//! A tiny schema language for NodeDB's MessagePack payloads. One description drives
//! both the strict decoder (bytes → named JSON) and the encoder (JSON → bytes), so
//! whatever walkit prints it can write back byte for byte.

use serde_json::Value;

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
    if path.is_empty() { field.to_string() } else { format!("{path}.{field}") }
}

// ---------------------------------------------------------------- decoding
//
// Decoding writes JSON text straight into the caller's buffer: this is the hot path of
// `dump`, and building `serde_json::Value` trees first costs an order of magnitude.
// On error the caller truncates the buffer back to where it started.

pub fn write(ty: &Ty, d: &mut Decoder<'_>, out: &mut Vec<u8>) -> Result<(), PayloadError> {
    match ty {
        Ty::Uint => write_u64(out, d.uint()?),
        Ty::Int => write_i64(out, d.int()?),
        Ty::F32 => write_f32(out, d.f32()?),
        Ty::F64 => write_f64(out, d.f64()?),
        Ty::Bool => out.extend_from_slice(if d.bool()? { b"true" } else { b"false" }),
        Ty::Str => write_str(out, d.str()?),
        Ty::Bytes => write_bytes(out, &d.byte_array()?),
        Ty::Bin => write_bytes(out, d.bin()?),
        Ty::Opt(inner) => {
            if d.nil() {
                out.extend_from_slice(b"null");
            } else {
                write(inner, d, out)?;
            }
        }
        Ty::List(inner) => {
            let n = d.array_len()?;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                write(inner, d, out)?;
            }
            out.push(b']');
        }
        Ty::Tuple(fields) => {
            out.push(b'{');
            write_fields(fields, d, out, true)?;
            out.push(b'}');
        }
        Ty::Seq(items) => {
            expect_len(d, items.len())?;
            out.push(b'[');
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(t, d, out)?;
            }
            out.push(b']');
        }
        Ty::Const(s) => {
            let got = d.str()?;
            if got != *s {
                return Err(PayloadError::Schema(format!("discriminator {got:?} is not {s:?}")));
            }
        }
        Ty::Enum(variants) => {
            expect_len(d, 2)?;
            let name = d.str()?;
            let Some(Field(vname, vty)) = variants.iter().find(|f| f.0 == name) else {
                return Err(PayloadError::Schema(format!("unknown variant {name:?}")));
            };
            out.push(b'{');
            write_str(out, vname);
            out.push(b':');
            write(vty, d, out)?;
            out.push(b'}');
        }
        Ty::Nil => {
            if !d.nil() {
                return Err(PayloadError::Schema("expected nil".into()));
            }
            out.extend_from_slice(b"null");
        }
        Ty::Nested(inner) => {
            let bytes = d.byte_array()?;
            write_complete(inner, &bytes, out)?;
        }
        Ty::Any => {
            let start = d.pos;
            let mut rest = d.rest();
            let before = rest.len();
            let v = rmpv::decode::read_value_ref(&mut rest)
                .map_err(|e| PayloadError::Msgpack(format!("byte {start}: {e}")))?;
            d.pos += before - rest.len();
            write_value_ref(out, &v);
        }
    }
    Ok(())
}

/// Writes the named fields of a tuple as `"name":value` pairs (no braces); `first`
/// says whether no pair precedes them in the object.
pub fn write_fields(
    fields: &[Field],
    d: &mut Decoder<'_>,
    out: &mut Vec<u8>,
    mut first: bool,
) -> Result<(), PayloadError> {
    expect_len(d, fields.len())?;
    for Field(name, fty) in fields {
        if matches!(fty, Ty::Const(_)) {
            write(fty, d, out)?;
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, name);
        out.push(b':');
        write(fty, d, out)?;
    }
    Ok(())
}

fn expect_len(d: &mut Decoder<'_>, want: usize) -> Result<(), PayloadError> {
    let n = d.array_len()?;
    if n != want {
        return Err(PayloadError::Schema(format!("array of {n} elements, expected {want}")));
    }
    Ok(())
}

/// Writes `bytes` as exactly one value of `ty`, with nothing left over.
pub fn write_complete(ty: &Ty, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), PayloadError> {
    let mut d = Decoder::new(bytes);
    write(ty, &mut d, out)?;
    if d.remaining() != 0 {
        return Err(PayloadError::TrailingBytes(d.remaining()));
    }
    Ok(())
}

pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Shortest text that reads back as the same f32 (`0.1f32` prints as 0.1); JSON has
/// no NaN or infinity, so those print as null.
pub fn write_f32(out: &mut Vec<u8>, x: f32) {
    if x.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(x).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

pub fn write_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(x).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string literal. Copies runs of plain bytes at once and escapes only what JSON
/// requires (quotes, backslashes, control characters).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    write_text(out, s, false);
}

fn is_special(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\' || c == 0x7f
}

/// Length of the leading run of bytes that need no escaping; checks 16 bytes per step
/// without branching so the compiler can vectorise it.
fn plain_run(b: &[u8]) -> usize {
    let mut i = 0;
    while i + 16 <= b.len() {
        let chunk: &[u8; 16] = b[i..i + 16].try_into().unwrap();
        if chunk.iter().fold(false, |acc, &c| acc | is_special(c)) {
            break;
        }
        i += 16;
    }
    i + b[i..].iter().position(|&c| is_special(c)).unwrap_or(b.len() - i)
}

/// Writes `s` as a JSON string; with `text_only`, gives up (returning false, output
/// partly written) at a control character other than tab, newline and carriage return.
fn write_text(out: &mut Vec<u8>, s: &str, text_only: bool) -> bool {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while start < b.len() {
        let run = plain_run(&b[start..]);
        out.extend_from_slice(&b[start..start + run]);
        start += run;
        let Some(&c) = b.get(start) else { break };
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ if text_only => return false,
            0x7f => out.push(c),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&HEX_PAIRS[c as usize]);
            }
        }
        start += 1;
    }
    out.push(b'"');
    true
}

/// Two lowercase hex digits for every byte value.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    t
};

/// Lowercase hex (SIMD; payload hex is most of `dump`'s output).
pub fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    faster_hex::hex_encode(bytes, &mut out[start..]).expect("sized above");
}

/// Hex text (either case, surrounding whitespace ignored) to bytes.
pub fn decode_hex(text: impl AsRef<[u8]>) -> Result<Vec<u8>, faster_hex::Error> {
    faster_hex::hex_decode_vec(text.as_ref().trim_ascii())
}

/// Text stays readable; anything else is shown as hex (plus its MessagePack reading
/// when it holds exactly one MessagePack value, as document values do).
pub fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    if let Ok(s) = std::str::from_utf8(b) {
        let mark = out.len();
        if write_text(out, s, true) {
            return;
        }
        out.truncate(mark);
    }
    out.extend_from_slice(b"{\"hex\":\"");
    write_hex(out, b);
    out.push(b'"');
    let mark = out.len();
    out.extend_from_slice(b",\"msgpack\":");
    if !write_generic_complete(out, b) {
        out.truncate(mark);
    }
    out.push(b'}');
}

/// Deepest nesting shown generically. JSON readers limit nesting too (serde_json to
/// 128 levels), and every line walkit prints must parse; deeper values stay raw bytes.
pub const MAX_GENERIC_DEPTH: usize = 100;

/// Writes `b` as exactly one generic MessagePack value; false (and nothing written)
/// if it is not one.
pub fn write_generic_complete(out: &mut Vec<u8>, b: &[u8]) -> bool {
    if b.is_empty() {
        return false;
    }
    let mut rest = b;
    match rmpv::decode::read_value_ref_with_max_depth(&mut rest, MAX_GENERIC_DEPTH) {
        Ok(v) if rest.is_empty() => {
            write_value_ref(out, &v);
            true
        }
        _ => false,
    }
}

pub fn write_value_ref(out: &mut Vec<u8>, v: &rmpv::ValueRef<'_>) {
    use rmpv::ValueRef as M;
    match v {
        M::Nil => out.extend_from_slice(b"null"),
        M::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        M::Integer(i) => match i.as_u64() {
            Some(u) => write_u64(out, u),
            None => write_i64(out, i.as_i64().unwrap_or_default()),
        },
        M::F32(x) => write_f32(out, *x),
        M::F64(x) => write_f64(out, *x),
        M::String(s) => match s.as_str() {
            Some(t) => write_str(out, t),
            None => {
                out.extend_from_slice(b"{\"hex\":\"");
                write_hex(out, s.as_bytes());
                out.extend_from_slice(b"\"}");
            }
        },
        M::Binary(b) => {
            out.extend_from_slice(b"{\"bin\":\"");
            write_hex(out, b);
            out.extend_from_slice(b"\"}");
        }
        M::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value_ref(out, item);
            }
            out.push(b']');
        }
        M::Map(pairs) => {
            // JSON keys are strings: other key types are shown by their JSON text.
            out.push(b'{');
            for (i, (k, val)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match k {
                    M::String(s) if s.as_str().is_some() => write_str(out, s.as_str().unwrap_or_default()),
                    other => {
                        let mut key = Vec::new();
                        write_value_ref(&mut key, other);
                        write_str(out, &String::from_utf8_lossy(&key));
                    }
                }
                out.push(b':');
                write_value_ref(out, val);
            }
            out.push(b'}');
        }
        M::Ext(t, data) => {
            out.extend_from_slice(b"{\"ext\":");
            write_i64(out, *t as i64);
            out.extend_from_slice(b",\"hex\":\"");
            write_hex(out, data);
            out.extend_from_slice(b"\"}");
        }
    }
}

/// `write_bytes` as a JSON value.
pub fn bytes_to_json(b: &[u8]) -> Value {
    let mut out = Vec::new();
    write_bytes(&mut out, b);
    serde_json::from_slice(&out).unwrap_or_else(|_| serde_json::json!({ "hex": faster_hex::hex_string(b) }))
}

// ---------------------------------------------------------------- encoding

pub fn encode(ty: &Ty, v: &Value, e: &mut Encoder, path: &str) -> Result<(), PayloadError> {
    match ty {
        Ty::Uint => e.uint(v.as_u64().ok_or_else(|| mismatch(path, "an unsigned integer"))?),
        Ty::Int => e.int(v.as_i64().ok_or_else(|| mismatch(path, "a signed 64-bit integer"))?),
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
                        let fv = obj.get(*name).ok_or_else(|| PayloadError::Schema(format!("{fpath}: missing")))?;
                        encode(fty, fv, e, &fpath)?
                    }
                }
            }
            if let Some(extra) = obj.keys().find(|k| k.as_str() != "form" && !fields.iter().any(|f| f.0 == k.as_str()))
            {
                return Err(PayloadError::Schema(format!("{}: unknown field", join(path, extra))));
            }
        }
        Ty::Seq(items) => {
            let arr = v.as_array().ok_or_else(|| mismatch(path, "an array"))?;
            if arr.len() != items.len() {
                return Err(mismatch(path, &format!("an array of {} elements", items.len())));
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
                e.f64(n.as_f64().ok_or_else(|| mismatch(path, "a finite number"))?)
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
                let h = h.as_str().ok_or_else(|| mismatch(&join(path, "hex"), "a hex string"))?;
                crate::wal::payload::schema::decode_hex(h).map_err(|_| mismatch(&join(path, "hex"), "a hex string"))
            } else if let Some(m) = obj.get("msgpack") {
                let mut e = Encoder::new();
                encode_generic(m, &mut e, &join(path, "msgpack"))?;
                Ok(e.buf)
            } else {
                Err(mismatch(path, "bytes as a string, an array, {\"hex\":…} or {\"msgpack\":…}"))
            }
        }
        _ => Err(mismatch(path, "bytes as a string, an array, {\"hex\":…} or {\"msgpack\":…}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_serde_json() {
        for s in ["plain", "quote\" back\\ nl\n cr\r tab\t bell\u{7} del\u{7f} é ✓", ""] {
            let mut ours = Vec::new();
            write_str(&mut ours, s);
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn byte_arrays_mix_fast_and_slow_paths() {
        let mut e = Encoder::new();
        let data: Vec<u8> = (0..=255).chain(b"tail text".iter().copied()).collect();
        e.byte_array(&data);
        // A byte encoded with a needlessly wide marker is still a byte.
        e.buf.truncate(e.buf.len());
        let mut d = Decoder::new(&e.buf);
        assert_eq!(d.byte_array().unwrap(), data);
        let wide = [0x92, 0xcd, 0x00, 0x41, 0x42];
        assert_eq!(Decoder::new(&wide).byte_array().unwrap(), b"AB");
        assert!(Decoder::new(&[0x91, 0xcd, 0x01, 0x00]).byte_array().is_err());
        assert!(Decoder::new(&[0x92, 0x41]).byte_array().is_err());
    }
}
