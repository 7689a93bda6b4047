//! Differential testing for hemu: run a guest in hemu and in a reference
//! (QEMU), and show the first instruction where they disagree.
//!
//! - [`format`]: the hemu trace format (versioned JSON lines, documented
//!   in `docs/trace-format.md`): one record per retired instruction.
//! - [`record`]: hemu's side (`hemu --trace`, `hemu run --trace`, tests).
//! - [`qemu`]: QEMU's side: run QEMU with `-singlestep -d
//!   in_asm,exec,cpu,fpu,nochain` and convert its log; [`legacy`] reads
//!   the older line-based reference traces.
//! - [`compare()`]: the first divergence, with context, under per-ISA and
//!   per-guest [`Rules`] (ignored registers, offsets, the allowlist).
//! - [`replay`]: set hemu up as a reference trace says (machine or
//!   program, initial registers), record it, compare.
//! - [`random`]: constrained-random instruction streams from the specs'
//!   encodings, for hemu against QEMU.

pub mod compare;
pub mod isa;
pub mod memw;
pub mod mutant;
pub mod qemu;
pub mod random;
pub mod random_armv7m;
pub mod record;
pub mod replay;
pub mod spec;

pub use compare::{compare, Divergence, Kind, Known, Region, Rules, Summary};
pub use format::{Header, MemWrite, Mode, Step, Trace, TrapInfo};
// The format lives in its own light crate (xtask writes traces with it).
pub use hemu_trace::{format, legacy};
pub use replay::{Allowlist, Engine};
