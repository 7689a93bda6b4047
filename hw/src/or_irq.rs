//! An OR gate for IRQ lines (QEMU's `or-irq`): output 0 is high while any
//! of the `num-lines` inputs is high.
//!
//! A machine needs it where a board ORs several level-triggered outputs
//! into one interrupt-controller input (the MPS2 boards' UART overflow
//! interrupt): wiring two outputs to one input directly is refused, since
//! one line would hide the other's level.

use hemu_runtime::device::{Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, Properties};

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "or-irq",
    description: "OR gate: output 0 is the OR of its input IRQ lines",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// number of input lines (0..num-lines-1)
    #[prop(default = 2, range = 1..=64)]
    pub num_lines: u64,
}

/// The gate: one bit per input line.
pub struct OrIrq {
    lines: u32,
    levels: u64,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    Ok(Box::new(OrIrq {
        lines: c.num_lines as u32,
        levels: 0,
    }))
}

impl Device for OrIrq {
    /// No registers: the gate is not mapped.
    fn mmio_size(&self) -> u64 {
        0
    }

    fn read(&mut self, offset: u64, _: u8, _: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        Err(DeviceError::BadOffset(offset))
    }

    fn write(
        &mut self,
        offset: u64,
        _: u8,
        _: u64,
        _: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        Err(DeviceError::BadOffset(offset))
    }

    /// The inputs keep their levels: they belong to the devices driving
    /// them, which re-assert their own lines on reset.
    fn reset(&mut self) {}

    fn set_input(&mut self, line: u32, level: bool, cx: &mut DeviceCtx<'_>) {
        if line >= self.lines {
            return;
        }
        let before = self.levels != 0;
        if level {
            self.levels |= 1 << line;
        } else {
            self.levels &= !(1 << line);
        }
        let after = self.levels != 0;
        if after != before {
            cx.irq(0, after);
        }
    }

    fn irq_inputs(&self) -> Option<std::ops::RangeInclusive<u32>> {
        Some(0..=self.lines - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::MachineEvent;

    fn set(g: &mut OrIrq, line: u32, level: bool) -> Vec<MachineEvent> {
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 3,
            now_ns: 0,
        };
        g.set_input(line, level, &mut cx);
        ev
    }

    #[test]
    fn output_follows_the_or_of_inputs() {
        let mut g = OrIrq {
            lines: 2,
            levels: 0,
        };
        let up = MachineEvent::Irq {
            device: 3,
            out: 0,
            level: true,
        };
        let down = MachineEvent::Irq {
            device: 3,
            out: 0,
            level: false,
        };
        assert_eq!(set(&mut g, 0, true), vec![up.clone()]);
        // Already high: a second input changes nothing outside.
        assert_eq!(set(&mut g, 1, true), vec![]);
        assert_eq!(set(&mut g, 0, false), vec![]);
        assert_eq!(set(&mut g, 1, false), vec![down]);
        // Lines beyond num-lines are ignored (the machine refuses to wire them).
        assert_eq!(set(&mut g, 5, true), vec![]);
        assert_eq!(g.irq_inputs(), Some(0..=1));
    }
}
