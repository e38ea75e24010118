//! walkit: a complete engine for the NodeDB write-ahead-log format, plus the commands
//! built on it. The engine (`wal`) is usable on its own by tests, benches and tools.

pub mod cmd;
pub mod generate;
pub mod render;
pub mod wal;
