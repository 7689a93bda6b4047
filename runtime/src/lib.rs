//! hemu's target-agnostic core.
//!
//! Nothing in this crate names an ISA. Frontends (generated from specs)
//! implement [`cpu::Frontend`] and [`cpu::CpuModel`]; devices implement
//! [`device::Device`]; machines are built from YAML files by [`machine`].
//! There is no global mutable state: everything hangs off a [`Machine`].

pub mod cluster;
pub mod cpu;
pub mod device;
pub mod engine;
pub mod fdt;
pub mod gdb;
pub mod ir;
pub mod jit;
pub mod lift;
pub mod linux;
pub mod loader;
pub mod machine;
pub mod memory;
pub mod qmp;
pub mod shared_ram;
pub mod tlb;
pub mod window;

/// IEEE 754 arithmetic with run-time rules per ISA (the per-vCPU float
/// context lives with each frontend's state).
pub use hemu_softfloat as softfloat;
pub use machine::{Machine, Registry, RunResult};
