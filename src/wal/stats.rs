//! Aggregates for `stats`: per record type, tenant and collection (like
//! `pg_waldump --stats`). Memory grows with the number of distinct keys only.

use std::collections::BTreeMap;

use crate::wal::header::HEADER_LEN;
use crate::wal::scan::RecordRef;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub records: u64,
    /// Header plus stored payload bytes.
    pub bytes: u64,
    pub payload_bytes: u64,
}

impl Tally {
    pub fn add(&mut self, payload_len: u64) {
        self.records += 1;
        self.bytes += HEADER_LEN as u64 + payload_len;
        self.payload_bytes += payload_len;
    }
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub total: Tally,
    /// Keyed by logical record type (encrypted bit cleared).
    pub by_type: BTreeMap<u32, Tally>,
    pub by_tenant: BTreeMap<u64, Tally>,
    pub by_collection: BTreeMap<(u64, String), Tally>,
    pub damage_bytes: u64,
    pub damage_count: u64,
    pub padding_bytes: u64,
    pub file_bytes: u64,
    pub segments: u64,
}

impl Stats {
    pub fn record(&mut self, r: &RecordRef<'_>) {
        let len = r.payload.len() as u64;
        self.total.add(len);
        self.by_type.entry(r.header.record_type.logical()).or_default().add(len);
        self.by_tenant.entry(r.header.tenant_id).or_default().add(len);
    }

    pub fn collection(&mut self, tenant: u64, collection: &str, payload_len: u64) {
        self.by_collection.entry((tenant, collection.to_owned())).or_default().add(payload_len);
    }
}
