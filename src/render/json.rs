//! The JSON Lines / JSON object shapes — the stable machine interface of `dump`.
//! Written by hand (not via `serde_json::Value`) because this is the hot path.

use serde_json::Value;

use crate::wal::crypto::CryptoError;
use crate::wal::payload::{self, Rendered};
use crate::wal::scan::{Damage, RecordRef};
use crate::wal::segment::Preamble;

/// A JSON object being written field by field into a line buffer.
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    pub fn new(out: &'a mut Vec<u8>, kind: &str) -> Self {
        out.extend_from_slice(b"{\"kind\":");
        payload::schema::write_str(out, kind);
        Obj { out, first: false }
    }
    pub fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }
    pub fn u64(&mut self, k: &str, v: u64) -> &mut Self {
        let mut b = itoa::Buffer::new();
        let s = b.format(v);
        self.key(k).extend_from_slice(s.as_bytes());
        self
    }
    pub fn opt_u64(&mut self, k: &str, v: Option<u64>) -> &mut Self {
        match v {
            Some(v) => self.u64(k, v),
            None => self.raw(k, "null"),
        }
    }
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.raw(k, if v { "true" } else { "false" })
    }
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        let out = self.key(k);
        payload::schema::write_str(out, v);
        self
    }
    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.raw(k, "null"),
        }
    }
    pub fn hex(&mut self, k: &str, bytes: &[u8]) -> &mut Self {
        let out = self.key(k);
        out.push(b'"');
        payload::schema::write_hex(out, bytes);
        out.push(b'"');
        self
    }
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k).extend_from_slice(json.as_bytes());
        self
    }
    pub fn value(&mut self, k: &str, v: &Value) -> &mut Self {
        let out = self.key(k);
        serde_json::to_writer(&mut *out, v).expect("writing to a Vec cannot fail");
        self
    }
    pub fn end(&mut self) {
        self.out.extend_from_slice(b"}");
    }
}

/// The record object of the `dump --format jsonl` contract. For an encrypted record,
/// `plain` is its decrypted payload, or why it could not be decrypted.
/// With `decode` false the payload is left undecoded (`"payload":null`), for speed.
pub fn record(
    out: &mut Vec<u8>,
    segment: Option<&str>,
    r: &RecordRef<'_>,
    plain: Result<&[u8], &CryptoError>,
    decode: bool,
) {
    let h = &r.header;
    let mut o = Obj::new(out, "record");
    o.opt_str("segment", segment)
        .u64("offset", r.offset)
        .u64("lsn", h.lsn)
        .opt_str("type", h.record_type.kind().map(|k| k.name()))
        .u64("record_type", h.record_type.0 as u64)
        .bool("required", h.record_type.is_required())
        .bool("encrypted", h.record_type.is_encrypted())
        .u64("tenant_id", h.tenant_id)
        .u64("vshard_id", h.vshard_id as u64)
        .u64("database_id", h.database_id)
        .u64("payload_len", h.payload_len as u64)
        .u64("crc32c", h.crc32c as u64)
        .bool("nodedb_visible", r.nodedb_visible)
        .hex("payload_hex", r.payload);
    if let Some(slot) = r.dwb_slot {
        o.u64("dwb_slot", slot as u64);
    }
    let error = match plain {
        Err(e) => {
            o.raw("payload", "null");
            Some(e.to_string())
        }
        Ok(bytes) => {
            if h.record_type.is_encrypted() {
                o.hex("plaintext_hex", bytes);
            }
            if !decode {
                o.raw("payload", "null").end();
                return;
            }
            let out = o.key("payload");
            match payload::render(h.record_type.kind(), bytes, out) {
                Rendered::Invalid(e) => {
                    out.extend_from_slice(b"null");
                    Some(e.to_string())
                }
                Rendered::Opaque => {
                    out.extend_from_slice(b"null");
                    None
                }
                _ => None,
            }
        }
    };
    if let Some(e) = error {
        o.str("payload_error", &e);
    }
    o.end();
}

pub fn damage(out: &mut Vec<u8>, segment: Option<&str>, d: &Damage) {
    let mut o = Obj::new(out, "damage");
    o.opt_str("segment", segment)
        .u64("offset", d.offset)
        .str("reason", d.kind.as_str())
        .opt_u64("lsn", d.lsn())
        .u64("len", d.len)
        .bool("at_tail", d.at_tail);
    if d.recovered {
        o.bool("recovered_from_dwb", true);
    }
    if let Some(h) = d.header {
        o.u64("record_type", h.record_type.0 as u64).u64("payload_len", h.payload_len as u64);
    }
    if let Some((stored, computed)) = d.crc {
        o.u64("expected_crc32c", stored as u64).u64("computed_crc32c", computed as u64);
    }
    o.end();
}

pub fn padding(out: &mut Vec<u8>, segment: Option<&str>, offset: u64, len: u64) {
    Obj::new(out, "padding").opt_str("segment", segment).u64("offset", offset).u64("len", len).end();
}

pub fn preamble(out: &mut Vec<u8>, segment: Option<&str>, p: &Preamble) {
    Obj::new(out, "preamble")
        .opt_str("segment", segment)
        .u64("offset", 0)
        .u64("version", p.version as u64)
        .u64("cipher_alg", p.cipher_alg as u64)
        .u64("kid", p.kid as u64)
        .hex("epoch_hex", &p.epoch)
        .end();
}
