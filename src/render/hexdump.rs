//! `hexdump -C` style output for `dump --format hex`.

use std::fmt::Write;

/// Canonical hex+ASCII lines of `bytes`, offsets starting at `base`.
pub fn hexdump(base: u64, bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(s, "{:08x}  ", base + (i * 16) as u64);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(s, "{b:02x} ");
                }
                None => s.push_str("   "),
            }
            if j == 7 {
                s.push(' ');
            }
        }
        s.push_str(" |");
        s.extend(chunk.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }));
        s.push_str("|\n");
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_hexdump_c() {
        assert_eq!(
            super::hexdump(0x30, b"\x00\x00K\xe7\xa0(hello"),
            "00000030  00 00 4b e7 a0 28 68 65  6c 6c 6f                 |..K..(hello|\n"
        );
    }
}
