//! hemu's device models. Target-agnostic: a device sees MMIO accesses by
//! offset, machine events and its configuration — never a CPU or an ISA.

pub mod aclint;
pub mod cmsdk_uart;
pub mod goldfish_rtc;
pub mod mailbox;
pub mod ns16550a;
pub mod or_irq;
pub mod pl011;
pub mod plic;
pub mod sifive_test;
pub mod sysctl;

use hemu_runtime::device::DeviceType;

/// Every device type in this crate: an immutable table.
pub static DEVICE_TYPES: &[&DeviceType] = &[
    &aclint::TYPE,
    &cmsdk_uart::TYPE,
    &goldfish_rtc::TYPE,
    &mailbox::TYPE,
    &ns16550a::TYPE,
    &or_irq::TYPE,
    &pl011::TYPE,
    &plic::TYPE,
    &sifive_test::TYPE,
    &sysctl::TYPE,
];
