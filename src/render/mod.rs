//! Output for humans and machines, kept apart from the engine and the commands.

pub mod hexdump;
pub mod json;
pub mod table;

/// Human size: 1536 → "1.5 KiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// Percentage with one decimal, "0.0" for an empty whole.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "0.0".into() } else { format!("{:.1}", part as f64 * 100.0 / whole as f64) }
}
