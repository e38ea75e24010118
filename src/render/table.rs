//! comfy-table rendering: records, damage and padding as rows.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

use crate::wal::payload::Decoded;
use crate::wal::scan::{Damage, DamageKind, RecordRef};

pub const DUMP_HEADER: [&str; 11] =
    ["Segment", "Offset", "LSN", "Type", "Flags", "Tenant", "VShard", "DB", "Len", "CRC", "Payload"];

const SUMMARY_WIDTH: usize = 72;

pub fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// Right-aligns numeric columns (every column but those listed).
pub fn align_numbers(t: &mut Table, text_columns: &[usize]) {
    let n = t.column_count();
    for i in 0..n {
        if !text_columns.contains(&i)
            && let Some(c) = t.column_mut(i)
        {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// R = required, E = encrypted, U = unknown type, D = copy from the .dwb,
/// ! = invisible to NodeDB's reader.
pub fn flags(r: &RecordRef<'_>) -> String {
    let rt = r.header.record_type;
    let mut f = String::new();
    if rt.is_required() {
        f.push('R');
    }
    if rt.is_encrypted() {
        f.push('E');
    }
    if rt.kind().is_none() {
        f.push('U');
    }
    if r.dwb_slot.is_some() {
        f.push('D');
    }
    if !r.nodedb_visible {
        f.push('!');
    }
    f
}

pub fn record_row(segment: &str, r: &RecordRef<'_>, summary: String) -> Vec<Cell> {
    let h = &r.header;
    let type_name =
        h.record_type.kind().map(|k| k.name().to_string()).unwrap_or_else(|| format!("0x{:08x}", h.record_type.0));
    vec![
        Cell::new(segment),
        Cell::new(r.offset),
        Cell::new(h.lsn),
        Cell::new(type_name),
        Cell::new(flags(r)),
        Cell::new(h.tenant_id),
        Cell::new(h.vshard_id),
        Cell::new(h.database_id),
        Cell::new(h.payload_len),
        Cell::new("ok"),
        Cell::new(summary),
    ]
}

pub fn damage_row(segment: &str, d: &Damage) -> Vec<Cell> {
    let lsn = d.lsn().map(|l| l.to_string()).unwrap_or_default();
    let h = d.header.filter(|_| d.kind != DamageKind::BadMagic);
    let crc = match d.kind {
        DamageKind::ChecksumMismatch => "BAD",
        DamageKind::UnknownRequiredType => "ok",
        _ => "-",
    };
    let detail = match d.crc {
        Some((stored, computed)) if stored != computed => {
            format!("{}: stored 0x{stored:08x} computed 0x{computed:08x}, {} bytes", d.kind.as_str(), d.len)
        }
        _ => format!("{}: {} bytes{}", d.kind.as_str(), d.len, if d.at_tail { " to end" } else { "" }),
    };
    vec![
        Cell::new(segment),
        Cell::new(d.offset),
        Cell::new(lsn),
        Cell::new("DAMAGE"),
        Cell::new(""),
        Cell::new(h.map(|h| h.tenant_id.to_string()).unwrap_or_default()),
        Cell::new(h.map(|h| h.vshard_id.to_string()).unwrap_or_default()),
        Cell::new(h.map(|h| h.database_id.to_string()).unwrap_or_default()),
        Cell::new(h.map(|h| h.payload_len.to_string()).unwrap_or_default()),
        Cell::new(crc),
        Cell::new(detail),
    ]
}

pub fn plain_row(segment: &str, offset: u64, what: &str, detail: String) -> Vec<Cell> {
    let mut row = vec![Cell::new(segment), Cell::new(offset), Cell::new(""), Cell::new(what)];
    row.extend((0..6).map(|_| Cell::new("")));
    row.push(Cell::new(detail));
    row
}

/// One line describing a payload: its form and leading scalar fields, or a hex preview.
pub fn payload_summary(decoded: Option<&Decoded>, payload: &[u8], error: Option<&str>) -> String {
    if let Some(e) = error {
        return truncate(format!("({e})"));
    }
    let text = match decoded {
        Some(Decoded::Invalid(e)) => format!("(invalid: {e}) {}", hex_preview(payload)),
        Some(d) => match d.to_json() {
            Some(Value::Object(m)) => {
                let form = m.get("form").and_then(Value::as_str).unwrap_or("");
                let fields: Vec<String> =
                    m.iter().filter(|(k, _)| k.as_str() != "form").map(|(k, v)| format!("{k}={}", brief(v))).collect();
                if form.is_empty() { fields.join(" ") } else { format!("{form} {}", fields.join(" ")) }
            }
            Some(v) => brief(&v),
            None => hex_preview(payload),
        },
        None => hex_preview(payload),
    };
    truncate(text)
}

fn brief(v: &Value) -> String {
    match v {
        Value::String(s) => {
            if s.chars().count() > 24 {
                format!("{:?}", format!("{}…", s.chars().take(24).collect::<String>()))
            } else {
                format!("{s:?}")
            }
        }
        Value::Array(a) => format!("[{} items]", a.len()),
        Value::Object(o) if o.contains_key("hex") => {
            format!("<{} bytes>", o["hex"].as_str().map_or(0, |h| h.len() / 2))
        }
        Value::Object(o) => match o.iter().next() {
            Some((k, inner)) if o.len() == 1 => format!("{k}:{}", brief(inner)),
            _ => format!("{{{} fields}}", o.len()),
        },
        other => other.to_string(),
    }
}

fn hex_preview(payload: &[u8]) -> String {
    if payload.is_empty() {
        return "(empty)".into();
    }
    let shown = &payload[..payload.len().min(16)];
    format!("{}{}", faster_hex::hex_string(shown), if payload.len() > 16 { "…" } else { "" })
}

fn truncate(s: String) -> String {
    if s.chars().count() <= SUMMARY_WIDTH {
        s
    } else {
        format!("{}…", s.chars().take(SUMMARY_WIDTH - 1).collect::<String>())
    }
}
