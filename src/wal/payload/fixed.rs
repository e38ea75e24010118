//! Fixed little-endian payloads (FORMAT.md §4.2), typed because replay consumes them.

use serde_json::{Value, json};

use super::PayloadError;

const NAME_LIMIT: usize = 255;

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        if self.b.len() - self.pos < n {
            return Err(PayloadError::Truncated { need: self.pos + n, have: self.b.len() });
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, PayloadError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, PayloadError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, PayloadError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn i64(&mut self) -> Result<i64, PayloadError> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn name(&mut self, limit: Option<usize>) -> Result<String, PayloadError> {
        let n = self.u32()? as usize;
        if let Some(max) = limit
            && n > max
        {
            return Err(PayloadError::NameTooLong(n));
        }
        let raw = self.take(n)?;
        String::from_utf8(raw.to_vec()).map_err(|_| PayloadError::InvalidUtf8)
    }
    fn exact_len(&self, want: usize) -> Result<(), PayloadError> {
        if self.b.len() != want {
            return Err(PayloadError::Length { want, have: self.b.len() });
        }
        Ok(())
    }
}

fn put_name(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn check_name(s: &str) -> Result<(), PayloadError> {
    if s.len() > NAME_LIMIT {
        return Err(PayloadError::NameTooLong(s.len()));
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionTombstone {
    pub collection: String,
    pub purge_lsn: u64,
}

impl CollectionTombstone {
    pub fn decode(b: &[u8]) -> Result<Self, PayloadError> {
        let mut c = Cursor { b, pos: 0 };
        let collection = c.name(Some(NAME_LIMIT))?;
        let purge_lsn = c.u64()?;
        Ok(CollectionTombstone { collection, purge_lsn })
    }
    pub fn encode(&self) -> Result<Vec<u8>, PayloadError> {
        check_name(&self.collection)?;
        let mut out = Vec::with_capacity(12 + self.collection.len());
        put_name(&mut out, &self.collection);
        out.extend_from_slice(&self.purge_lsn.to_le_bytes());
        Ok(out)
    }
    pub fn to_json(&self) -> Value {
        json!({"collection": self.collection, "purge_lsn": self.purge_lsn})
    }
}

/// Storage engine named by a TemporalPurge record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurgeEngine {
    EdgeStore = 1,
    DocumentStrict = 2,
    Columnar = 3,
    Crdt = 4,
    Array = 5,
}

impl PurgeEngine {
    pub const ALL: [PurgeEngine; 5] = [
        PurgeEngine::EdgeStore,
        PurgeEngine::DocumentStrict,
        PurgeEngine::Columnar,
        PurgeEngine::Crdt,
        PurgeEngine::Array,
    ];
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|e| *e as u8 == code)
    }
    pub fn name(self) -> &'static str {
        match self {
            PurgeEngine::EdgeStore => "edge-store",
            PurgeEngine::DocumentStrict => "document-strict",
            PurgeEngine::Columnar => "columnar",
            PurgeEngine::Crdt => "crdt",
            PurgeEngine::Array => "array",
        }
    }
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.to_ascii_lowercase().replace('_', "-");
        Self::ALL.into_iter().find(|e| e.name() == n)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporalPurge {
    pub engine: PurgeEngine,
    pub name: String,
    pub cutoff_system_ms: i64,
    pub purged_count: u64,
}

impl TemporalPurge {
    pub fn decode(b: &[u8]) -> Result<Self, PayloadError> {
        let mut c = Cursor { b, pos: 0 };
        let code = c.u8()?;
        let engine = PurgeEngine::from_code(code).ok_or(PayloadError::BadEngine(code))?;
        let name = c.name(Some(NAME_LIMIT))?;
        Ok(TemporalPurge { engine, name, cutoff_system_ms: c.i64()?, purged_count: c.u64()? })
    }
    pub fn encode(&self) -> Result<Vec<u8>, PayloadError> {
        check_name(&self.name)?;
        let mut out = vec![self.engine as u8];
        put_name(&mut out, &self.name);
        out.extend_from_slice(&self.cutoff_system_ms.to_le_bytes());
        out.extend_from_slice(&self.purged_count.to_le_bytes());
        Ok(out)
    }
    pub fn to_json(&self) -> Value {
        json!({"engine": self.engine.name(), "collection": self.name,
               "cutoff_system_ms": self.cutoff_system_ms, "purged_count": self.purged_count})
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurrogateAlloc {
    pub hi: u32,
}

impl SurrogateAlloc {
    pub fn decode(b: &[u8]) -> Result<Self, PayloadError> {
        let mut c = Cursor { b, pos: 0 };
        c.exact_len(4)?;
        Ok(SurrogateAlloc { hi: c.u32()? })
    }
    pub fn encode(&self) -> Vec<u8> {
        self.hi.to_le_bytes().to_vec()
    }
    pub fn to_json(&self) -> Value {
        json!({"hi": self.hi})
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurrogateBind {
    pub surrogate: u32,
    pub collection: String,
    pub pk: Vec<u8>,
}

impl SurrogateBind {
    pub fn decode(b: &[u8]) -> Result<Self, PayloadError> {
        let mut c = Cursor { b, pos: 0 };
        let surrogate = c.u32()?;
        let collection = c.name(None)?;
        let pk_len = c.u32()? as usize;
        let pk = c.take(pk_len)?.to_vec();
        if c.pos != b.len() {
            return Err(PayloadError::TrailingBytes(b.len() - c.pos));
        }
        Ok(SurrogateBind { surrogate, collection, pk })
    }
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.surrogate.to_le_bytes().to_vec();
        put_name(&mut out, &self.collection);
        out.extend_from_slice(&(self.pk.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.pk);
        out
    }
    pub fn to_json(&self) -> Value {
        json!({"surrogate": self.surrogate, "collection": self.collection,
               "pk": super::schema::bytes_to_json(&self.pk)})
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalvinApplied {
    pub epoch: u64,
    pub position: u32,
    pub vshard_id: u32,
}

impl CalvinApplied {
    pub fn decode(b: &[u8]) -> Result<Self, PayloadError> {
        let mut c = Cursor { b, pos: 0 };
        Ok(CalvinApplied { epoch: c.u64()?, position: c.u32()?, vshard_id: c.u32()? })
    }
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.epoch.to_le_bytes().to_vec();
        out.extend_from_slice(&self.position.to_le_bytes());
        out.extend_from_slice(&self.vshard_id.to_le_bytes());
        out
    }
    pub fn to_json(&self) -> Value {
        json!({"epoch": self.epoch, "position": self.position, "vshard_id": self.vshard_id})
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LsnMsAnchor {
    pub lsn: u64,
    pub wall_ms: i64,
}

impl LsnMsAnchor {
    pub fn decode(b: &[u8]) -> Result<Self, PayloadError> {
        let mut c = Cursor { b, pos: 0 };
        c.exact_len(16)?;
        Ok(LsnMsAnchor { lsn: c.u64()?, wall_ms: c.i64()? })
    }
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.lsn.to_le_bytes().to_vec();
        out.extend_from_slice(&self.wall_ms.to_le_bytes());
        out
    }
    pub fn to_json(&self) -> Value {
        json!({"lsn": self.lsn, "wall_ms": self.wall_ms})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: &[u8]) -> String {
        hex::encode(b)
    }

    #[test]
    fn golden_vectors_of_spec_10_6() {
        let tp = TemporalPurge {
            engine: PurgeEngine::DocumentStrict,
            name: "users".into(),
            cutoff_system_ms: 1_700_000_000_000,
            purged_count: 42,
        };
        let bytes = tp.encode().unwrap();
        assert_eq!(h(&bytes), "020500000075736572730068e5cf8b0100002a00000000000000");
        assert_eq!(TemporalPurge::decode(&bytes).unwrap(), tp);

        assert_eq!(h(&SurrogateAlloc { hi: 1024 }.encode()), "00040000");
        let sb = SurrogateBind { surrogate: 42, collection: "users".into(), pk: b"alice".to_vec() };
        assert_eq!(h(&sb.encode()), "2a0000000500000075736572730500000061 6c696365".replace(' ', ""));
        assert_eq!(SurrogateBind::decode(&sb.encode()).unwrap(), sb);
        let ca = CalvinApplied { epoch: 7, position: 3, vshard_id: 9 };
        assert_eq!(h(&ca.encode()), "07000000000000000300000009000000");
        let an = LsnMsAnchor { lsn: 42, wall_ms: 1_700_000_000_000 };
        assert_eq!(h(&an.encode()), "2a0000000000000000 68e5cf8b010000".replace(' ', ""));
        let tomb = CollectionTombstone { collection: "users".into(), purge_lsn: 2 };
        assert_eq!(h(&tomb.encode().unwrap()), "0500000075736572730200000000000000");
    }

    #[test]
    fn decoders_reject_what_the_reference_rejects() {
        assert!(SurrogateAlloc::decode(&[0, 4, 0]).is_err());
        assert!(LsnMsAnchor::decode(&[0; 17]).is_err());
        let mut sb = SurrogateBind { surrogate: 1, collection: "c".into(), pk: vec![] }.encode();
        sb.push(0);
        assert!(matches!(SurrogateBind::decode(&sb), Err(PayloadError::TrailingBytes(1))));
        assert!(matches!(CollectionTombstone::decode(&[0, 1, 0, 0]), Err(PayloadError::NameTooLong(256))));
        assert!(TemporalPurge::decode(&[9, 0, 0, 0, 0]).is_err());
        // Calvin ignores extra bytes; tombstones ignore trailing bytes.
        assert!(CalvinApplied::decode(&[0; 20]).is_ok());
        let mut t = CollectionTombstone { collection: "x".into(), purge_lsn: 5 }.encode().unwrap();
        t.push(0xff);
        assert_eq!(CollectionTombstone::decode(&t).unwrap().purge_lsn, 5);
    }
}
