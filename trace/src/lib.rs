//! The hemu trace format, on its own: what `hemu-difftest` records and
//! compares, and what `cargo xtask traces` writes from QEMU's logs.
//!
//! - [`format`]: versioned JSON lines, one record per retired instruction
//!   (documented in `docs/trace-format.md`).
//! - [`legacy`]: the older line-based reference-trace text, which the
//!   QEMU log converters of `cargo xtask traces` still produce.

pub mod format;
pub mod legacy;

pub use format::{Header, MemWrite, Mode, Step, Trace, TrapInfo};
