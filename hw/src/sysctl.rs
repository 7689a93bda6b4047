//! A system controller: releases clusters held in reset, and powers the
//! machine off, as the reset and power controllers of real SoCs do.
//!
//! Output line `i` is the active-low reset (nRESET) of whatever the
//! machine file wires it to — usually a cluster (`to_reset:`): low holds
//! the cluster in reset, a rising edge releases it from its reset state.
//! The lines start low; a cluster the machine file starts running ignores
//! that until its line first falls.
//!
//! | offset | register |
//! |---|---|
//! | 0x00 `ID` (R) | `0x4853_5953` ("SYSH" in little-endian bytes) |
//! | 0x04 `RUN` (RW) | bit i: level of output i (1: released) |
//! | 0x08 `RELEASE` (W) | bits written as 1 are set in `RUN` |
//! | 0x0c `HOLD` (W) | bits written as 1 are cleared in `RUN` |
//! | 0x10 `POWEROFF` (W) | power the machine off; the value is the exit status |
//!
//! Registers are 32-bit and little endian.

use hemu_runtime::device::{
    Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, MachineEvent, Properties,
};

const ID: u64 = 0x00;
const RUN: u64 = 0x04;
const RELEASE: u64 = 0x08;
const HOLD: u64 = 0x0c;
const POWEROFF: u64 = 0x10;

/// Value of the `ID` register.
pub const ID_VALUE: u32 = 0x4853_5953;

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "sysctl",
    description: "system controller: reset lines that release held clusters, and power-off",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// number of reset output lines
    #[prop(default = 4, range = 1..=32)]
    pub num_lines: u64,
}

/// The controller.
pub struct SysCtl {
    mask: u32,
    run: u32,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    Ok(Box::new(SysCtl::new(c.num_lines as u32)))
}

impl SysCtl {
    /// A controller with `lines` reset outputs (1..=32).
    pub fn new(lines: u32) -> SysCtl {
        SysCtl {
            mask: u32::MAX >> (32 - lines.clamp(1, 32)),
            run: 0,
        }
    }

    fn set_run(&mut self, run: u32, cx: &mut DeviceCtx<'_>) {
        let run = run & self.mask;
        let changed = run ^ self.run;
        self.run = run;
        for i in 0..32 {
            if changed >> i & 1 != 0 {
                cx.irq(i, run >> i & 1 != 0);
            }
        }
    }
}

impl Device for SysCtl {
    fn mmio_size(&self) -> u64 {
        0x1000
    }

    fn read(&mut self, offset: u64, size: u8, _: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        if size != 4 {
            return Err(DeviceError::BadSize(size));
        }
        match offset {
            ID => Ok(u64::from(ID_VALUE)),
            RUN => Ok(u64::from(self.run)),
            RELEASE | HOLD | POWEROFF => Ok(0),
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
        if size != 4 {
            return Err(DeviceError::BadSize(size));
        }
        let v = value as u32;
        match offset {
            ID => {}
            RUN => self.set_run(v, cx),
            RELEASE => self.set_run(self.run | v, cx),
            HOLD => self.set_run(self.run & !v, cx),
            POWEROFF => cx.events.push(MachineEvent::Shutdown(v as i32)),
            _ => return Err(DeviceError::BadOffset(offset)),
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.run = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_hold_and_poweroff() {
        let mut s = SysCtl::new(3);
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 1,
            now_ns: 0,
        };
        assert_eq!(s.read(ID, 4, &mut cx), Ok(u64::from(ID_VALUE)));
        s.write(RELEASE, 4, 0b1010, &mut cx).unwrap(); // bit 3 is no line
        s.write(RELEASE, 4, 0b0010, &mut cx).unwrap(); // no change: no event
        s.write(HOLD, 4, 0b0010, &mut cx).unwrap();
        s.write(POWEROFF, 4, 3, &mut cx).unwrap();
        assert_eq!(s.read(RUN, 4, &mut cx), Ok(0));
        let irq = |level| MachineEvent::Irq {
            device: 1,
            out: 1,
            level,
        };
        assert_eq!(ev, vec![irq(true), irq(false), MachineEvent::Shutdown(3)]);
    }

    #[test]
    fn bad_accesses_fault() {
        let mut s = SysCtl::new(32);
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        assert_eq!(s.read(0x14, 4, &mut cx), Err(DeviceError::BadOffset(0x14)));
        assert_eq!(s.write(RUN, 2, 1, &mut cx), Err(DeviceError::BadSize(2)));
        assert!(ev.is_empty());
    }
}
