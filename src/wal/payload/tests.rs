use super::*;
use serde_json::json;

/// Decodes the golden bytes, checks the form, and re-encodes them exactly.
fn round_trip(kind: RecordKind, hex_bytes: &str, form: &str) -> Value {
    let bytes = hex::decode(hex_bytes.replace(' ', "")).unwrap();
    let decoded = decode(Some(kind), &bytes);
    let v = decoded.to_json().unwrap_or_else(|| panic!("{kind}: not decoded: {decoded:?}"));
    assert_eq!(v["form"], form, "{kind}: {v}");
    assert_eq!(hex::encode(encode(Some(kind), &v).unwrap()), hex::encode(&bytes), "{kind}: {v}");
    v
}

#[test]
fn msgpack_vectors_of_spec_10_5() {
    let v = round_trip(RecordKind::Checkpoint, "cd 03 e8", "checkpoint");
    assert_eq!(v["checkpoint_lsn"], 1000);
    let v = round_trip(RecordKind::Delete, "92 a5 75 73 65 72 73 a2 75 31", "document_delete");
    assert_eq!(v["collection"], "users");
    let v = round_trip(RecordKind::Put, "95 a6 6b 76 5f 70 75 74 a5 63 61 63 68 65 91 6b 91 76 00", "kv_put");
    assert_eq!((v["collection"].as_str(), v["key"].as_str()), (Some("cache"), Some("k")));
    round_trip(RecordKind::Delete, "93 a9 6b 76 5f 64 65 6c 65 74 65 a5 63 61 63 68 65 91 91 6b", "kv_delete");
    let v = round_trip(
        RecordKind::VectorPut,
        "96 a4 76 65 63 73 92 ca 3f 80 00 00 ca 40 00 00 00 02 a0 c0 05",
        "vector_put",
    );
    assert_eq!(v["vector"], json!([1.0, 2.0]));
    round_trip(RecordKind::VectorDelete, "92 a4 76 65 63 73 07", "vector_delete");
    round_trip(
        RecordKind::VectorParams,
        "98 a4 76 65 63 73 10 cc c8 a6 63 6f 73 69 6e 65 a4 68 6e 73 77 08 cd 01 00 04",
        "vector_params",
    );
    let v = round_trip(
        RecordKind::TimeseriesBatch,
        "92 a7 6d 65 74 72 69 63 73 99 63 70 75 20 76 3d 31 20 31",
        "timeseries_ingest",
    );
    assert_eq!(v["payload"], "cpu v=1 1");
    let v = round_trip(RecordKind::Transaction, "91 92 cd 80 01 92 01 cc ff", "transaction");
    assert_eq!(v["sub_records"], json!([{"sub_type": 32769, "bytes": {"hex": "01ff"}}]));
    let v = round_trip(
        RecordKind::ArrayPut,
        "03 92 92 01 a1 67 91 96 92 92 a5 49 6e 74 36 34 91 01 92 a6 53 74 72 69 6e 67 91 a1 78 93 92 a5 49 6e 74 36 34 91 63 92 a4 4e 75 6c 6c c0 92 a5 42 79 74 65 73 91 c4 01 01 00 d1 03 e8 d1 03 e8 d3 7f ff ff ff ff ff ff ff",
        "array_put",
    );
    assert_eq!(v["cells"][0]["valid_until_ms"], i64::MAX);
    assert_eq!(v["cells"][0]["attrs"][1], json!({"Null": null}));
    round_trip(
        RecordKind::ArrayDelete,
        "03 92 92 01 a1 67 91 93 91 92 a5 49 6e 74 36 34 91 05 d1 23 28 c3",
        "array_delete",
    );
    round_trip(
        RecordKind::ArrayFlush,
        "93 92 01 a1 67 ad 30 30 30 30 30 30 30 31 2e 6e 64 61 73 91 92 07 00",
        "array_flush",
    );
}

#[test]
fn transaction_with_replicated_entry() {
    // ReplicatedEntry {1,2,3, PointPut{"users","u1",[0xc0]}} from §10.5, wrapped as one
    // Put sub-record.
    let entry =
        hex::decode("94010203 92 a8 506f696e74507574 93 a5 7573657273 a2 7531 c4 01 c0".replace(' ', "")).unwrap();
    let mut e = msgpack::Encoder::new();
    e.array_len(1);
    e.array_len(2);
    e.uint(0x8001);
    e.byte_array(&entry);
    let v = round_trip(RecordKind::Transaction, &hex::encode(&e.buf), "transaction");
    let sub = &v["sub_records"][0];
    assert_eq!(sub["sub_type"], 32769);
    assert_eq!(sub["entry"]["write"]["PointPut"]["collection"], "users");
    assert_eq!(sub["entry"]["write"]["PointPut"]["value"], json!({"hex": "c0", "msgpack": null}));
    assert_eq!(collections(Some(RecordKind::Transaction), &e.buf), vec![(Some(1), "users".to_string())]);
}

#[test]
fn encoder_validates_schema() {
    let err = encode(
        Some(RecordKind::Put),
        &json!({"form": "document_put", "collection": "u", "document_id": 5, "value": []}),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "document_id: expected a string");
    let err = encode(Some(RecordKind::Put), &json!({"collection": "u"})).unwrap_err();
    assert!(err.to_string().contains("needs a \"form\""), "{err}");
    let err = encode(Some(RecordKind::SurrogateAlloc), &json!({"hi": 1u64 << 33})).unwrap_err();
    assert!(err.to_string().starts_with("hi: expected an unsigned integer of 32 bits"), "{err}");
    let err =
        encode(Some(RecordKind::VectorDelete), &json!({"collection": "v", "vector_id": 1, "extra": 2})).unwrap_err();
    assert_eq!(err.to_string(), "extra: unknown field");
}

#[test]
fn array_version_byte_is_enforced() {
    let d = decode(Some(RecordKind::ArrayDelete), &[0x02, 0x90]);
    assert_eq!(d.error(), Some(&PayloadError::ArrayVersion(2)));
}

#[test]
fn raw_bytes_stay_opaque() {
    assert!(matches!(decode(Some(RecordKind::Put), b"hello"), Decoded::Opaque));
    assert!(matches!(decode(Some(RecordKind::CrdtDelta), &[]), Decoded::Opaque));
}

#[test]
fn collections_follow_spec_4_4() {
    let put = hex::decode("95a66b765f707574a56361636865916b917600").unwrap();
    assert_eq!(collections(Some(RecordKind::Put), &put), vec![(None, "cache".to_string())]);
    let del = hex::decode("92a57573657273a27531").unwrap();
    assert_eq!(collections(Some(RecordKind::Delete), &del), vec![(None, "users".to_string())]);
    // A document delete in a collection literally named like a discriminator is read as
    // the KV form, exactly as NodeDB's replay would.
    let mut e = msgpack::Encoder::new();
    e.array_len(2);
    e.str("kv_truncate");
    e.str("x");
    assert_eq!(collections(Some(RecordKind::Delete), &e.buf), vec![(None, "x".to_string())]);
    let arr = hex::decode("039292 01a167 91 93 91 92a5496e74363491 05 d12328 c3".replace(' ', "")).unwrap();
    assert_eq!(collections(Some(RecordKind::ArrayDelete), &arr), vec![(Some(1), "g".to_string())]);
    assert!(collections(Some(RecordKind::CrdtDelta), b"\x92\xa1x\x01").is_empty());
}

#[test]
fn positional_json_uses_the_typed_shape() {
    let b = encode_json(Some(RecordKind::VectorPut), &json!(["vecs", [1.0, 2.0], 2, "", null, 5])).unwrap();
    assert_eq!(hex::encode(b), "96a476656373 92ca3f800000ca40000000 02a0c005".replace(' ', ""));
    let b = encode_json(Some(RecordKind::Put), &json!(["users", "u1", [0x81, 0xa1, 0x61, 0x01]])).unwrap();
    assert_eq!(hex::encode(b), "93a57573657273a2753194cc81cca16101");
    let b = encode_json(Some(RecordKind::Put), &json!(["kv_put", "cache", "k", "v", 0])).unwrap();
    assert_eq!(hex::encode(b), "95a66b765f707574a5636163686591 6b917600".replace(' ', ""));
    assert_eq!(encode_json(Some(RecordKind::Checkpoint), &json!(1000)).unwrap(), [0xcd, 0x03, 0xe8]);
    let err = encode_json(Some(RecordKind::Put), &json!(["users", 5, []])).unwrap_err();
    assert_eq!(err.to_string(), "as document_put: document_id: expected a string");
    let err = encode_json(Some(RecordKind::VectorDelete), &json!(["v"])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("does not match any VectorDelete payload shape (vector_delete [collection, vector_id])"),
        "{err}"
    );
    assert!(encode_json(Some(RecordKind::CrdtDelta), &json!([1, 2])).is_ok());
    assert!(encode_json(Some(RecordKind::SurrogateAlloc), &json!([1])).is_err());
}
