//! SiFive test finisher: a register that powers the machine off with a
//! status, or resets it (QEMU's `sifive_test`).
//!
//! Writing `0x5555` exits with 0, `(code << 16) | 0x3333` exits with `code`,
//! `0x7777` resets. Other values are ignored, as QEMU does.

use hemu_runtime::device::{
    Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue, MachineEvent,
};
use serde::{Deserialize, Serialize};

const FINISHER: u64 = 0;

const FAIL: u64 = 0x3333;
const PASS: u64 = 0x5555;
const RESET: u64 = 0x7777;

/// The device has no state beyond its configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinisherState;

/// The finisher.
pub struct SifiveTest;

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "sifive_test",
    description: "SiFive test finisher (power off with a status, or reset)",
    props: &[],
    create,
};

fn create(_cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    Ok(Box::new(SifiveTest))
}

impl Device for SifiveTest {
    fn mmio_size(&self) -> u64 {
        0x1000
    }

    fn read(
        &mut self,
        offset: u64,
        _size: u8,
        _cx: &mut DeviceCtx<'_>,
    ) -> Result<u64, DeviceError> {
        match offset {
            FINISHER => Ok(0),
            _ => Err(DeviceError::BadOffset(offset)),
        }
    }

    fn write(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        if offset != FINISHER {
            return Err(DeviceError::BadOffset(offset));
        }
        if size != 4 {
            return Err(DeviceError::BadSize(size));
        }
        match value & 0xffff {
            PASS => cx.events.push(MachineEvent::Shutdown(0)),
            FAIL => cx
                .events
                .push(MachineEvent::Shutdown(((value >> 16) & 0xffff) as i32)),
            RESET => cx.events.push(MachineEvent::Reset),
            _ => {}
        }
        Ok(())
    }

    fn reset(&mut self) {}

    /// OpenSBI's and Linux's syscon reset drivers match these; the device
    /// tree builder adds `syscon-poweroff`/`syscon-reboot` nodes pointing
    /// here.
    fn fdt_node(&self) -> Option<FdtNode> {
        Some(FdtNode {
            name: "test".into(),
            props: vec![(
                "compatible".into(),
                FdtValue::Strs(vec![
                    "sifive,test1".into(),
                    "sifive,test0".into(),
                    "syscon".into(),
                ]),
            )],
            interrupt_controller: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(v: u64) -> Vec<MachineEvent> {
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        SifiveTest.write(0, 4, v, &mut cx).unwrap();
        ev
    }

    #[test]
    fn pass_fail_reset() {
        assert_eq!(write(0x5555), vec![MachineEvent::Shutdown(0)]);
        assert_eq!(write(7 << 16 | 0x3333), vec![MachineEvent::Shutdown(7)]);
        assert_eq!(write(0x7777), vec![MachineEvent::Reset]);
        assert_eq!(write(0x1234), vec![]);
    }

    #[test]
    fn bad_offsets_and_sizes_fault() {
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        assert!(SifiveTest.write(4, 4, 0x5555, &mut cx).is_err());
        assert!(SifiveTest.write(0, 1, 0x55, &mut cx).is_err());
        assert!(ev.is_empty());
    }
}
