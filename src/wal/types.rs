//! Record type codes and flag bits (FORMAT.md §2.2, §3).

use std::fmt;

pub const ENCRYPTED_BIT: u32 = 0x0000_4000;
pub const REQUIRED_BIT: u32 = 0x0000_8000;

/// A `record_type` exactly as stored, flags included. Unknown codes are kept, never dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(pub u32);

impl RecordType {
    /// The type with the encrypted bit cleared; known types are matched on all of it.
    pub fn logical(self) -> u32 {
        self.0 & !ENCRYPTED_BIT
    }
    pub fn is_encrypted(self) -> bool {
        self.0 & ENCRYPTED_BIT != 0
    }
    pub fn is_required(self) -> bool {
        self.logical() & REQUIRED_BIT != 0
    }
    pub fn kind(self) -> Option<RecordKind> {
        RecordKind::from_code(self.logical())
    }
    pub fn with_encrypted(self, on: bool) -> Self {
        if on { RecordType(self.0 | ENCRYPTED_BIT) } else { RecordType(self.0 & !ENCRYPTED_BIT) }
    }
}

macro_rules! record_kinds {
    ($( $variant:ident = $code:expr, $name:literal, $cli:literal; )*) => {
        /// The 20 record types NodeDB defines.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RecordKind { $( $variant ),* }

        impl RecordKind {
            pub const ALL: &'static [RecordKind] = &[ $( RecordKind::$variant ),* ];

            /// Full logical value, required bit included.
            pub const fn code(self) -> u32 {
                match self { $( RecordKind::$variant => $code ),* }
            }
            /// NodeDB's `RecordType` variant name.
            pub const fn name(self) -> &'static str {
                match self { $( RecordKind::$variant => $name ),* }
            }
            /// Kebab-case name used on the command line.
            pub const fn cli_name(self) -> &'static str {
                match self { $( RecordKind::$variant => $cli ),* }
            }
            pub fn from_code(code: u32) -> Option<RecordKind> {
                match code { $( $code => Some(RecordKind::$variant), )* _ => None }
            }
        }
    };
}

record_kinds! {
    Noop = 0, "Noop", "noop";
    Put = 0x8001, "Put", "put";
    Delete = 0x8002, "Delete", "delete";
    VectorPut = 0x800A, "VectorPut", "vector-put";
    VectorDelete = 0x800B, "VectorDelete", "vector-delete";
    VectorParams = 0x800C, "VectorParams", "vector-params";
    CrdtDelta = 0x8014, "CrdtDelta", "crdt-delta";
    TimeseriesBatch = 0x001E, "TimeseriesBatch", "timeseries-batch";
    LogBatch = 0x001F, "LogBatch", "log-batch";
    ArrayPut = 0x8028, "ArrayPut", "array-put";
    ArrayDelete = 0x8029, "ArrayDelete", "array-delete";
    ArrayFlush = 0x802A, "ArrayFlush", "array-flush";
    Transaction = 0x8032, "Transaction", "transaction";
    SurrogateAlloc = 0x8033, "SurrogateAlloc", "surrogate-alloc";
    SurrogateBind = 0x8034, "SurrogateBind", "surrogate-bind";
    Checkpoint = 0x8064, "Checkpoint", "checkpoint";
    CollectionTombstoned = 0x8065, "CollectionTombstoned", "tombstone";
    LsnMsAnchor = 0x0066, "LsnMsAnchor", "lsn-anchor";
    TemporalPurge = 0x8067, "TemporalPurge", "temporal-purge";
    CalvinApplied = 0x806E, "CalvinApplied", "calvin-applied";
}

impl RecordKind {
    pub fn record_type(self) -> RecordType {
        RecordType(self.code())
    }

    /// Accepts NodeDB names, CLI names and snake_case, case-insensitively.
    pub fn from_name(name: &str) -> Option<RecordKind> {
        let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_'], "");
        let wanted = norm(name);
        RecordKind::ALL.iter().copied().find(|k| {
            norm(k.name()) == wanted
                || norm(k.cli_name()) == wanted
                || (*k == RecordKind::CollectionTombstoned && wanted == "collectiontombstone")
        })
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a type given as a name or as a number (decimal or 0x-hex).
pub fn parse_record_type(text: &str) -> Option<RecordType> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok().map(RecordType);
    }
    if let Ok(n) = t.parse::<u32>() {
        return Some(RecordType(n));
    }
    RecordKind::from_name(t).map(RecordKind::record_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_type_keeps_required_bit() {
        assert_eq!(RecordType(0xC001).kind(), Some(RecordKind::Put));
        assert!(RecordType(0xC001).is_encrypted());
        assert_eq!(RecordType(0x0001).kind(), None);
        assert!(!RecordType(0x0001).is_required());
        assert_eq!(RecordType(0x801E).kind(), None);
        assert!(RecordType(0x801E).is_required());
    }

    #[test]
    fn names_round_trip() {
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::from_name(k.name()), Some(*k));
            assert_eq!(RecordKind::from_name(k.cli_name()), Some(*k));
            assert_eq!(RecordKind::from_code(k.code()), Some(*k));
        }
        assert_eq!(RecordKind::ALL.len(), 20);
        assert_eq!(parse_record_type("0x8001"), Some(RecordType(0x8001)));
        assert_eq!(parse_record_type("32769"), Some(RecordType(0x8001)));
        assert_eq!(parse_record_type("vector_put"), Some(RecordType(0x800A)));
        assert_eq!(parse_record_type("bogus"), None);
    }
}
