use super::*;

#[test]
fn table_counts_per_type() {
    let (code, out, _) = run(&["stats", nodedb("all_types.wal").to_str().unwrap()]);
    assert_eq!(code, 0);
    let row = |name: &str| -> Vec<String> {
        let line =
            out.lines().find(|l| l.starts_with(&format!("│ {name} "))).unwrap_or_else(|| panic!("{name}: {out}"));
        line.trim_matches('│').split('┆').map(|c| c.trim().to_string()).collect()
    };
    // Puts are LSN 1-4 and 30-33.
    assert_eq!(row("Put")[1], "8");
    assert_eq!(row("Total")[1..6], ["34", "100.0", "107114", "100.0", "105278"]);
    assert_eq!(row("CollectionTombstoned")[1..4], ["1", "2.9", "73"]);
    assert!(out.contains("1 segment(s), 107114 file bytes; 0 damaged region(s)"), "{out}");
}

#[test]
fn json_breakdowns() {
    let (_, out, _) =
        run(&["stats", "--format", "json", "--by-tenant", "--by-collection", nodedb("segmented").to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"]["records"], 300);
    assert_eq!(v["segments"], 14);
    let by_type: u64 = v["by_type"].as_array().unwrap().iter().map(|t| t["records"].as_u64().unwrap()).sum();
    assert_eq!(by_type, 300);
    let tomb = v["by_type"].as_array().unwrap().iter().find(|t| t["type"] == "CollectionTombstoned").unwrap();
    assert_eq!(tomb["records"], 7);
    let tenants: Vec<u64> =
        v["by_tenant"].as_array().unwrap().iter().map(|t| t["tenant_id"].as_u64().unwrap()).collect();
    assert!(tenants.contains(&1) && tenants.contains(&2), "{tenants:?}");
    assert!(v["by_collection"].as_array().unwrap().iter().any(|c| c["collection"] == "orders" && c["tenant_id"] == 2));
}

#[test]
fn damaged_bytes_are_counted() {
    let (_, out, _) = run(&["stats", "--format", "json", nodedb("torn_tail.wal").to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"]["records"], 9);
    assert_eq!(v["damage"]["count"], 1);
    assert_eq!(v["damage"]["bytes"], 311);
}
