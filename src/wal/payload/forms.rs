//! The MessagePack payload shapes of FORMAT.md §4.3, as schemas.

use super::schema::{Field as F, Ty, Ty::*};
use crate::wal::types::RecordKind;

/// One established payload shape of a record type.
pub struct Form {
    pub name: &'static str,
    /// ArrayPut/ArrayDelete start with a raw version byte before the MessagePack value.
    pub version_byte: Option<u8>,
    pub ty: &'static Ty,
    /// For shapes that are not field tuples, the JSON field that holds the whole value.
    pub whole: Option<&'static str>,
    /// Index of the collection name within the top-level array, if it has one (§4.4).
    pub collection_at: Option<usize>,
}

const fn form(name: &'static str, ty: &'static Ty, collection_at: Option<usize>) -> Form {
    Form { name, version_byte: None, ty, whole: None, collection_at }
}

const C0: Option<usize> = Some(0);
const C1: Option<usize> = Some(1);
const F32S: Ty = List(&F32);

// ----- Put / Delete (§4.3.1)
const KV_PUT: Ty =
    Tuple(&[F("", Const("kv_put")), F("collection", Str), F("key", Bytes), F("value", Bytes), F("ttl_ms", Uint)]);
const KV_BATCH_PUT: Ty = Tuple(&[
    F("", Const("kv_batch_put")),
    F("collection", Str),
    F("entries", List(&Tuple(&[F("key", Bytes), F("value", Bytes)]))),
    F("ttl_ms", Uint),
]);
const KV_EXPIRE: Ty = Tuple(&[F("", Const("kv_expire")), F("collection", Str), F("key", Bytes), F("ttl_ms", Uint)]);
const KV_PERSIST: Ty = Tuple(&[F("", Const("kv_persist")), F("collection", Str), F("key", Bytes)]);
const KV_REGISTER_INDEX: Ty =
    Tuple(&[F("", Const("kv_register_index")), F("collection", Str), F("field", Str), F("field_position", Uint)]);
const KV_DROP_INDEX: Ty = Tuple(&[F("", Const("kv_drop_index")), F("collection", Str), F("field", Str)]);
const KV_FIELD_SET: Ty = Tuple(&[
    F("", Const("kv_field_set")),
    F("collection", Str),
    F("key", Bytes),
    F("updates", List(&Tuple(&[F("field", Str), F("value", Bytes)]))),
]);
const KV_INCR: Ty =
    Tuple(&[F("", Const("kv_incr")), F("collection", Str), F("key", Bytes), F("delta", Int), F("ttl_ms", Uint)]);
const KV_INCR_FLOAT: Ty =
    Tuple(&[F("", Const("kv_incr_float")), F("collection", Str), F("key", Bytes), F("delta", F64)]);
const KV_CAS: Ty = Tuple(&[
    F("", Const("kv_cas")),
    F("collection", Str),
    F("key", Bytes),
    F("expected", Bytes),
    F("new_value", Bytes),
]);
const KV_GETSET: Ty = Tuple(&[F("", Const("kv_getset")), F("collection", Str), F("key", Bytes), F("new_value", Bytes)]);
const SORT_COLUMNS: Ty = List(&Tuple(&[F("column", Str), F("direction", Str)]));
const KV_REGISTER_SORTED_INDEX: Ty = Tuple(&[
    F("", Const("kv_register_sorted_index")),
    F("collection", Str),
    F("index_name", Str),
    F("sort_columns", SORT_COLUMNS),
    F("key_column", Str),
    F("window_type", Str),
    F("window_timestamp_column", Str),
    F("window_start_ms", Uint),
    F("window_end_ms", Uint),
]);
const DOCUMENT_PUT: Ty = Tuple(&[F("collection", Str), F("document_id", Str), F("value", Bytes)]);
const EDGE_PUT: Ty =
    Tuple(&[F("collection", Str), F("src_id", Str), F("label", Str), F("dst_id", Str), F("properties", Bytes)]);
const KV_DELETE: Ty = Tuple(&[F("", Const("kv_delete")), F("collection", Str), F("keys", List(&Bytes))]);
const KV_TRUNCATE: Ty = Tuple(&[F("", Const("kv_truncate")), F("collection", Str)]);
const KV_DROP_SORTED_INDEX: Ty = Tuple(&[F("", Const("kv_drop_sorted_index")), F("index_name", Str)]);
const DOCUMENT_DELETE: Ty = Tuple(&[F("collection", Str), F("document_id", Str)]);
const EDGE_DELETE: Ty = Tuple(&[F("collection", Str), F("src_id", Str), F("label", Str), F("dst_id", Str)]);

static PUT_FORMS: &[Form] = &[
    form("kv_put", &KV_PUT, C1),
    form("kv_batch_put", &KV_BATCH_PUT, C1),
    form("kv_expire", &KV_EXPIRE, C1),
    form("kv_persist", &KV_PERSIST, C1),
    form("kv_register_index", &KV_REGISTER_INDEX, C1),
    form("kv_drop_index", &KV_DROP_INDEX, C1),
    form("kv_field_set", &KV_FIELD_SET, C1),
    form("kv_incr", &KV_INCR, C1),
    form("kv_incr_float", &KV_INCR_FLOAT, C1),
    form("kv_cas", &KV_CAS, C1),
    form("kv_getset", &KV_GETSET, C1),
    form("kv_register_sorted_index", &KV_REGISTER_SORTED_INDEX, C1),
    form("document_put", &DOCUMENT_PUT, C0),
    form("edge_put", &EDGE_PUT, C0),
];
static DELETE_FORMS: &[Form] = &[
    form("kv_delete", &KV_DELETE, C1),
    form("kv_truncate", &KV_TRUNCATE, C1),
    form("kv_drop_sorted_index", &KV_DROP_SORTED_INDEX, None),
    form("document_delete", &DOCUMENT_DELETE, C0),
    form("edge_delete", &EDGE_DELETE, C0),
];

// ----- Vector (§4.3.2)
const VECTOR_PUT: Ty = Tuple(&[
    F("collection", Str),
    F("vector", F32S),
    F("dim", Uint),
    F("field_name", Str),
    F("doc_id", Opt(&Str)),
    F("surrogate", Uint),
]);
const VECTOR_PUT_NO_SURROGATE: Ty =
    Tuple(&[F("collection", Str), F("vector", F32S), F("dim", Uint), F("field_name", Str), F("doc_id", Opt(&Str))]);
const VECTOR_PUT_BARE: Ty = Tuple(&[F("collection", Str), F("vector", F32S), F("dim", Uint)]);
const VECTOR_BATCH_PUT: Ty = Tuple(&[F("collection", Str), F("vectors", List(&F32S)), F("dim", Uint)]);
const VECTOR_DELETE: Ty = Tuple(&[F("collection", Str), F("vector_id", Uint)]);
const VECTOR_PARAMS: Ty = Tuple(&[
    F("collection", Str),
    F("m", Uint),
    F("ef_construction", Uint),
    F("metric", Str),
    F("index_type", Str),
    F("pq_m", Uint),
    F("ivf_cells", Uint),
    F("ivf_nprobe", Uint),
]);
const VECTOR_PARAMS_SHORT: Ty =
    Tuple(&[F("collection", Str), F("m", Uint), F("ef_construction", Uint), F("metric", Str)]);

static VECTOR_PUT_FORMS: &[Form] = &[
    form("vector_put", &VECTOR_PUT, C0),
    form("vector_put_no_surrogate", &VECTOR_PUT_NO_SURROGATE, C0),
    form("vector_put_bare", &VECTOR_PUT_BARE, C0),
    form("vector_batch_put", &VECTOR_BATCH_PUT, C0),
];
static VECTOR_DELETE_FORMS: &[Form] = &[form("vector_delete", &VECTOR_DELETE, C0)];
static VECTOR_PARAMS_FORMS: &[Form] =
    &[form("vector_params", &VECTOR_PARAMS, C0), form("vector_params_short", &VECTOR_PARAMS_SHORT, C0)];

// ----- Timeseries / log (§4.3.4)
const COLLECTION_BATCH: Ty = Tuple(&[F("collection", Str), F("payload", Bytes)]);
static TIMESERIES_FORMS: &[Form] = &[form("timeseries_ingest", &COLLECTION_BATCH, C0)];
static LOG_FORMS: &[Form] = &[form("log_batch", &COLLECTION_BATCH, C0)];

// ----- Arrays (§4.3.5)
const ARRAY_ID: Ty = Tuple(&[F("tenant_id", Uint), F("name", Str)]);
const COORD_VALUE: Ty = Enum(&[
    F("Int64", Seq(&[Int])),
    F("Float64", Seq(&[F64])),
    F("TimestampMs", Seq(&[Int])),
    F("String", Seq(&[Str])),
]);
const CELL_VALUE: Ty = Enum(&[
    F("Int64", Seq(&[Int])),
    F("Float64", Seq(&[F64])),
    F("String", Seq(&[Str])),
    F("Bytes", Seq(&[Bin])),
    F("Null", Nil),
]);
const ARRAY_PUT: Ty = Tuple(&[
    F("array_id", ARRAY_ID),
    F(
        "cells",
        List(&Tuple(&[
            F("coord", List(&COORD_VALUE)),
            F("attrs", List(&CELL_VALUE)),
            F("surrogate", Uint),
            F("system_from_ms", Int),
            F("valid_from_ms", Int),
            F("valid_until_ms", Int),
        ])),
    ),
]);
const ARRAY_DELETE: Ty = Tuple(&[
    F("array_id", ARRAY_ID),
    F("cells", List(&Tuple(&[F("coord", List(&COORD_VALUE)), F("system_from_ms", Int), F("erasure", Bool)]))),
]);
const ARRAY_FLUSH: Ty = Tuple(&[
    F("array_id", ARRAY_ID),
    F("segment_id", Str),
    F("tile_ids", List(&Tuple(&[F("hilbert_prefix", Uint), F("system_from_ms", Int)]))),
]);
/// Array-WAL format version byte that prefixes ArrayPut / ArrayDelete payloads.
pub const ARRAY_WAL_VERSION: u8 = 0x03;
static ARRAY_PUT_FORMS: &[Form] = &[Form {
    name: "array_put",
    version_byte: Some(ARRAY_WAL_VERSION),
    ty: &ARRAY_PUT,
    whole: None,
    collection_at: None,
}];
static ARRAY_DELETE_FORMS: &[Form] = &[Form {
    name: "array_delete",
    version_byte: Some(ARRAY_WAL_VERSION),
    ty: &ARRAY_DELETE,
    whole: None,
    collection_at: None,
}];
static ARRAY_FLUSH_FORMS: &[Form] = &[form("array_flush", &ARRAY_FLUSH, None)];

// ----- Transaction (§4.3.6)
const REPLICATED_WRITE: Ty = Enum(&[
    F("PointPut", Tuple(&[F("collection", Str), F("document_id", Str), F("value", Bin)])),
    F("PointInsert", Tuple(&[F("collection", Str), F("document_id", Str), F("value", Bin), F("if_absent", Bool)])),
    F("PointDelete", DOCUMENT_DELETE),
    F(
        "PointUpdate",
        Tuple(&[F("collection", Str), F("document_id", Str), F("updates", List(&Seq(&[Str, Seq(&[Uint, Any])])))]),
    ),
    F(
        "VectorInsert",
        Tuple(&[
            F("collection", Str),
            F("vector", F32S),
            F("dim", Uint),
            F("field_name", Str),
            F("pk_bytes", Opt(&Bytes)),
        ]),
    ),
    // The same field lists as the plain vector records.
    F("VectorBatchInsert", VECTOR_BATCH_PUT),
    F("VectorDelete", VECTOR_DELETE),
    F("SetVectorParams", VECTOR_PARAMS),
    F("CrdtApply", Tuple(&[F("collection", Str), F("document_id", Str), F("delta", Bin), F("peer_id", Uint)])),
    F(
        "EdgePut",
        Tuple(&[F("collection", Str), F("src_id", Str), F("label", Str), F("dst_id", Str), F("properties", Bin)]),
    ),
    F("EdgeDelete", EDGE_DELETE),
    F("KvPut", Tuple(&[F("collection", Str), F("key", Bin), F("value", Bin), F("ttl_ms", Uint)])),
    F("KvDelete", Tuple(&[F("collection", Str), F("keys", List(&Bytes))])),
    F("KvBatchPut", Tuple(&[F("collection", Str), F("entries", List(&Seq(&[Bytes, Bytes]))), F("ttl_ms", Uint)])),
    F("KvExpire", Tuple(&[F("collection", Str), F("key", Bin), F("ttl_ms", Uint)])),
    F("KvPersist", Tuple(&[F("collection", Str), F("key", Bin)])),
    F("KvIncr", Tuple(&[F("collection", Str), F("key", Bin), F("delta", Int), F("ttl_ms", Uint)])),
    F("KvIncrFloat", Tuple(&[F("collection", Str), F("key", Bin), F("delta", F64)])),
    F("KvCas", Tuple(&[F("collection", Str), F("key", Bin), F("expected", Bin), F("new_value", Bin)])),
    F("KvGetSet", Tuple(&[F("collection", Str), F("key", Bin), F("new_value", Bin)])),
    F(
        "KvRegisterSortedIndex",
        Tuple(&[
            F("collection", Str),
            F("index_name", Str),
            F("sort_columns", List(&Seq(&[Str, Str]))),
            F("key_column", Str),
            F("window_type", Str),
            F("window_timestamp_column", Str),
            F("window_start_ms", Uint),
            F("window_end_ms", Uint),
        ]),
    ),
    F("KvDropSortedIndex", Tuple(&[F("index_name", Str)])),
]);
pub const REPLICATED_ENTRY: Ty =
    Tuple(&[F("tenant_id", Uint), F("vshard_id", Uint), F("idempotency_key", Uint), F("write", REPLICATED_WRITE)]);

// ----- Checkpoint (§4.2.7)
static CHECKPOINT_FORMS: &[Form] =
    &[Form { name: "checkpoint", version_byte: None, ty: &Uint, whole: Some("checkpoint_lsn"), collection_at: None }];

/// The established shapes of a record type, in the order a reader should try them.
pub fn forms_for(kind: RecordKind) -> &'static [Form] {
    match kind {
        RecordKind::Put => PUT_FORMS,
        RecordKind::Delete => DELETE_FORMS,
        RecordKind::VectorPut => VECTOR_PUT_FORMS,
        RecordKind::VectorDelete => VECTOR_DELETE_FORMS,
        RecordKind::VectorParams => VECTOR_PARAMS_FORMS,
        RecordKind::TimeseriesBatch => TIMESERIES_FORMS,
        RecordKind::LogBatch => LOG_FORMS,
        RecordKind::ArrayPut => ARRAY_PUT_FORMS,
        RecordKind::ArrayDelete => ARRAY_DELETE_FORMS,
        RecordKind::ArrayFlush => ARRAY_FLUSH_FORMS,
        RecordKind::Checkpoint => CHECKPOINT_FORMS,
        _ => &[],
    }
}
