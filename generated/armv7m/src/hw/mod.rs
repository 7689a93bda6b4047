//! The devices that belong to ARMv7-M: the NVIC (with the System Control
//! Block) and SysTick. They are ordinary devices of the machine, usable in
//! machine files by their type names; they reach the core only through
//! their IRQ outputs (see [`nvic`] for how the core reaches the NVIC).

pub mod nvic;
pub mod systick;

use hemu_runtime::device::DeviceType;

/// This ISA's device types.
pub static DEVICE_TYPES: &[&DeviceType] = &[&nvic::TYPE, &systick::TYPE];
