//! MessagePack with NodeDB's (zerompk) conventions, FORMAT.md §4.1: smallest unsigned
//! markers for unsigned fields, signed markers for signed fields, no float narrowing.
//! The decoder is as strict as NodeDB's typed decoders so that "decodes here" means
//! "NodeDB can decode it".

use super::PayloadError;

#[derive(Default)]
pub struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Encoder { buf: Vec::new() }
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
    pub fn uint(&mut self, v: u64) {
        let b = &mut self.buf;
        if v < 128 {
            b.push(v as u8);
        } else if v <= u8::MAX as u64 {
            b.extend_from_slice(&[0xcc, v as u8]);
        } else if v <= u16::MAX as u64 {
            b.push(0xcd);
            b.extend_from_slice(&(v as u16).to_be_bytes());
        } else if v <= u32::MAX as u64 {
            b.push(0xce);
            b.extend_from_slice(&(v as u32).to_be_bytes());
        } else {
            b.push(0xcf);
            b.extend_from_slice(&v.to_be_bytes());
        }
    }
    pub fn int(&mut self, v: i64) {
        let b = &mut self.buf;
        if (0..128).contains(&v) || (-32..0).contains(&v) {
            b.push(v as i8 as u8);
        } else if i8::try_from(v).is_ok() {
            b.extend_from_slice(&[0xd0, v as i8 as u8]);
        } else if let Ok(x) = i16::try_from(v) {
            b.push(0xd1);
            b.extend_from_slice(&x.to_be_bytes());
        } else if let Ok(x) = i32::try_from(v) {
            b.push(0xd2);
            b.extend_from_slice(&x.to_be_bytes());
        } else {
            b.push(0xd3);
            b.extend_from_slice(&v.to_be_bytes());
        }
    }
    pub fn f32(&mut self, v: f32) {
        self.buf.push(0xca);
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.buf.push(0xcb);
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn bool(&mut self, v: bool) {
        self.buf.push(if v { 0xc3 } else { 0xc2 });
    }
    pub fn nil(&mut self) {
        self.buf.push(0xc0);
    }
    pub fn str(&mut self, s: &str) {
        let n = s.len();
        let b = &mut self.buf;
        if n <= 31 {
            b.push(0xa0 | n as u8);
        } else if n <= u8::MAX as usize {
            b.extend_from_slice(&[0xd9, n as u8]);
        } else if n <= u16::MAX as usize {
            b.push(0xda);
            b.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            b.push(0xdb);
            b.extend_from_slice(&(n as u32).to_be_bytes());
        }
        b.extend_from_slice(s.as_bytes());
    }
    pub fn array_len(&mut self, n: usize) {
        let b = &mut self.buf;
        if n <= 15 {
            b.push(0x90 | n as u8);
        } else if n <= u16::MAX as usize {
            b.push(0xdc);
            b.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            b.push(0xdd);
            b.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    pub fn map_len(&mut self, n: usize) {
        let b = &mut self.buf;
        if n <= 15 {
            b.push(0x80 | n as u8);
        } else if n <= u16::MAX as usize {
            b.push(0xde);
            b.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            b.push(0xdf);
            b.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    pub fn bin(&mut self, data: &[u8]) {
        let n = data.len();
        let b = &mut self.buf;
        if n <= u8::MAX as usize {
            b.extend_from_slice(&[0xc4, n as u8]);
        } else if n <= u16::MAX as usize {
            b.push(0xc5);
            b.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            b.push(0xc6);
            b.extend_from_slice(&(n as u32).to_be_bytes());
        }
        b.extend_from_slice(data);
    }
    /// `Vec<u8>` outside a struct field: an array of uints, not `bin`.
    pub fn byte_array(&mut self, data: &[u8]) {
        self.array_len(data.len());
        for &x in data {
            self.uint(x as u64);
        }
    }
}

/// A strict cursor over MessagePack bytes.
pub struct Decoder<'a> {
    data: &'a [u8],
    pub pos: usize,
}

fn err(what: impl Into<String>) -> PayloadError {
    PayloadError::Msgpack(what.into())
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Decoder { data, pos: 0 }
    }
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        if self.remaining() < n {
            return Err(err(format!("truncated at byte {}", self.pos)));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8, PayloadError> {
        Ok(self.take(1)?[0])
    }
    pub fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }
    fn be<const N: usize>(&mut self) -> Result<[u8; N], PayloadError> {
        Ok(self.take(N)?.try_into().unwrap())
    }
    fn unexpected(&self, marker: u8, want: &str) -> PayloadError {
        err(format!("byte {}: marker 0x{marker:02x} where {want} was expected", self.pos - 1))
    }

    pub fn uint(&mut self) -> Result<u64, PayloadError> {
        let m = self.byte()?;
        Ok(match m {
            0x00..=0x7f => m as u64,
            0xcc => self.byte()? as u64,
            0xcd => u16::from_be_bytes(self.be()?) as u64,
            0xce => u32::from_be_bytes(self.be()?) as u64,
            0xcf => u64::from_be_bytes(self.be()?),
            _ => return Err(self.unexpected(m, "an unsigned integer")),
        })
    }
    pub fn int(&mut self) -> Result<i64, PayloadError> {
        let m = self.byte()?;
        Ok(match m {
            0x00..=0x7f => m as i64,
            0xe0..=0xff => m as i8 as i64,
            0xd0 => self.byte()? as i8 as i64,
            0xd1 => i16::from_be_bytes(self.be()?) as i64,
            0xd2 => i32::from_be_bytes(self.be()?) as i64,
            0xd3 => i64::from_be_bytes(self.be()?),
            _ => return Err(self.unexpected(m, "a signed integer")),
        })
    }
    pub fn f32(&mut self) -> Result<f32, PayloadError> {
        match self.byte()? {
            0xca => Ok(f32::from_be_bytes(self.be()?)),
            m => Err(self.unexpected(m, "a float32")),
        }
    }
    pub fn f64(&mut self) -> Result<f64, PayloadError> {
        match self.byte()? {
            0xcb => Ok(f64::from_be_bytes(self.be()?)),
            m => Err(self.unexpected(m, "a float64")),
        }
    }
    pub fn bool(&mut self) -> Result<bool, PayloadError> {
        match self.byte()? {
            0xc2 => Ok(false),
            0xc3 => Ok(true),
            m => Err(self.unexpected(m, "a boolean")),
        }
    }
    /// Consumes a nil if one is next.
    pub fn nil(&mut self) -> bool {
        if self.peek() == Some(0xc0) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    pub fn str(&mut self) -> Result<&'a str, PayloadError> {
        let m = self.byte()?;
        let n = match m {
            0xa0..=0xbf => (m & 0x1f) as usize,
            0xd9 => self.byte()? as usize,
            0xda => u16::from_be_bytes(self.be()?) as usize,
            0xdb => u32::from_be_bytes(self.be()?) as usize,
            _ => return Err(self.unexpected(m, "a string")),
        };
        let at = self.pos;
        std::str::from_utf8(self.take(n)?).map_err(|_| err(format!("byte {at}: invalid UTF-8")))
    }
    pub fn array_len(&mut self) -> Result<usize, PayloadError> {
        let m = self.byte()?;
        let n = match m {
            0x90..=0x9f => (m & 0x0f) as usize,
            0xdc => u16::from_be_bytes(self.be()?) as usize,
            0xdd => u32::from_be_bytes(self.be()?) as usize,
            _ => return Err(self.unexpected(m, "an array")),
        };
        // Every element takes at least one byte: reject impossible lengths early.
        if n > self.remaining() {
            return Err(err(format!("array of {n} elements overruns the payload")));
        }
        Ok(n)
    }
    pub fn bin(&mut self) -> Result<&'a [u8], PayloadError> {
        let m = self.byte()?;
        let n = match m {
            0xc4 => self.byte()? as usize,
            0xc5 => u16::from_be_bytes(self.be()?) as usize,
            0xc6 => u32::from_be_bytes(self.be()?) as usize,
            _ => return Err(self.unexpected(m, "binary")),
        };
        self.take(n)
    }
    /// `Vec<u8>` encoded as an array of uints.
    pub fn byte_array(&mut self) -> Result<Vec<u8>, PayloadError> {
        let n = self.array_len()?;
        let mut out = Vec::with_capacity(n);
        // Fast path for the only two encodings a byte can have: fixint, or `cc xx` for
        // 128..=255 (zerompk never uses wider markers for a u8).
        let rest = &self.data[self.pos..];
        let mut i = 0;
        while out.len() < n {
            // Runs of fixints (ASCII text, mostly) are copied in one go.
            let want = (n - out.len()).min(rest.len() - i);
            let run = rest[i..i + want].iter().position(|&b| b >= 0x80).unwrap_or(want);
            out.extend_from_slice(&rest[i..i + run]);
            i += run;
            match rest.get(i) {
                _ if out.len() == n => break,
                Some(0xcc) if i + 1 < rest.len() => {
                    out.push(rest[i + 1]);
                    i += 2;
                }
                _ => break,
            }
        }
        self.pos += i;
        // Anything else (wider markers holding small values, or errors) takes the slow path.
        while out.len() < n {
            let v = self.uint()?;
            out.push(u8::try_from(v).map_err(|_| err(format!("byte value {v} > 255")))?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_markers_follow_zerompk() {
        let mut e = Encoder::new();
        e.uint(1000);
        e.uint(70000);
        e.uint(1 << 40);
        e.int(200);
        e.int(-1);
        e.int(-33);
        e.int(i64::MAX);
        assert_eq!(hex::encode(&e.buf), "cd03e8ce00011170cf0000010000000000d100c8ffd0dfd37fffffffffffffff");
        let mut d = Decoder::new(&e.buf);
        assert_eq!(d.uint().unwrap(), 1000);
        assert_eq!(d.uint().unwrap(), 70000);
        assert_eq!(d.uint().unwrap(), 1 << 40);
        assert_eq!(d.int().unwrap(), 200);
        assert_eq!(d.int().unwrap(), -1);
        assert_eq!(d.int().unwrap(), -33);
        assert_eq!(d.int().unwrap(), i64::MAX);
        assert_eq!(d.remaining(), 0);
    }

    #[test]
    fn strict_markers_are_rejected() {
        // An unsigned marker for a signed field, and bin where bytes[] is expected.
        assert!(Decoder::new(&[0xcc, 0xc8]).int().is_err());
        assert!(Decoder::new(&[0xc4, 0x01, 0x00]).byte_array().is_err());
        assert!(Decoder::new(&[0xcb, 0, 0, 0, 0, 0, 0, 0, 0]).f32().is_err());
        assert!(Decoder::new(&[0xdd, 0xff, 0xff, 0xff, 0xff]).array_len().is_err());
    }
}
