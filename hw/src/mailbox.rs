//! An inter-processor mailbox: two one-way channels of 32-bit messages
//! between two sides, A and B, each of which may be a different cluster
//! (of a different ISA) with its own interrupt controller.
//!
//! Channel 0 carries messages from A to B, channel 1 from B to A. Each is a
//! small FIFO (`depth` words) with the same four registers; a side uses
//! its outgoing channel's `SEND` and its incoming channel's `RECV`:
//!
//! | offset | channel 0 (A → B) | channel 1 (B → A) at +0x20 |
//! |---|---|---|
//! | 0x00 `SEND` (W) | push a word (dropped, `OVERFLOW` set, when full) | |
//! | 0x04 `RECV` (R) | pop the oldest word (0 when empty) | |
//! | 0x08 `STATUS` (R) | bit 0 not empty, bit 1 full, bit 2 overflow, bits 15:8 count | |
//! | 0x0c `IRQ_EN` (RW) | bit 0: interrupt the receiver while not empty; writing bit 2 of `STATUS`'s value here clears `OVERFLOW` | |
//!
//! IRQ output 0 goes to side B (channel 0 holds a message and its
//! interrupt is enabled), output 1 to side A (channel 1). The lines are
//! levels: reading the last word out lowers them. Registers are 32-bit and
//! little endian (a big-endian CPU byte-swaps what it reads and writes).

use hemu_runtime::device::{Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, Properties};
use std::collections::VecDeque;

/// Bytes between the two channels' registers.
const CHANNEL_STRIDE: u64 = 0x20;
const SEND: u64 = 0x00;
const RECV: u64 = 0x04;
const STATUS: u64 = 0x08;
const IRQ_EN: u64 = 0x0c;

const ST_NOT_EMPTY: u32 = 1 << 0;
const ST_FULL: u32 = 1 << 1;
const ST_OVERFLOW: u32 = 1 << 2;

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "mailbox",
    description: "inter-processor mailbox: two FIFOs of 32-bit messages (A to B, B to A), \
                  each raising an IRQ on the receiving side",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// messages each channel holds before a send is dropped
    #[prop(default = 4, range = 1..=64)]
    pub depth: u64,
}

/// One direction.
#[derive(Clone, Debug, Default)]
struct Channel {
    fifo: VecDeque<u32>,
    irq_en: bool,
    overflow: bool,
    /// The level last signalled on the receiver's IRQ line.
    level: bool,
}

/// The mailbox.
pub struct Mailbox {
    depth: usize,
    ch: [Channel; 2],
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    Ok(Box::new(Mailbox::new(c.depth as usize)))
}

impl Mailbox {
    /// A mailbox whose channels hold `depth` messages each.
    pub fn new(depth: usize) -> Mailbox {
        Mailbox {
            depth,
            ch: Default::default(),
        }
    }

    fn status(&self, k: usize) -> u32 {
        let c = &self.ch[k];
        let mut s = (c.fifo.len() as u32) << 8;
        if !c.fifo.is_empty() {
            s |= ST_NOT_EMPTY;
        }
        if c.fifo.len() >= self.depth {
            s |= ST_FULL;
        }
        if c.overflow {
            s |= ST_OVERFLOW;
        }
        s
    }

    /// Signal channel `k`'s receiver line if its level changed.
    fn update(&mut self, k: usize, cx: &mut DeviceCtx<'_>) {
        let c = &mut self.ch[k];
        let level = c.irq_en && !c.fifo.is_empty();
        if level != c.level {
            c.level = level;
            cx.irq(k as u32, level);
        }
    }

    fn decode(offset: u64, size: u8) -> Result<(usize, u64), DeviceError> {
        if size != 4 {
            return Err(DeviceError::BadSize(size));
        }
        let k = offset / CHANNEL_STRIDE;
        if k > 1 || !offset.is_multiple_of(4) {
            return Err(DeviceError::BadOffset(offset));
        }
        Ok((k as usize, offset % CHANNEL_STRIDE))
    }
}

impl Device for Mailbox {
    fn mmio_size(&self) -> u64 {
        0x1000
    }

    fn read(&mut self, offset: u64, size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        let (k, reg) = Mailbox::decode(offset, size)?;
        let v = match reg {
            SEND => 0,
            RECV => {
                let v = self.ch[k].fifo.pop_front().unwrap_or(0);
                self.update(k, cx);
                v
            }
            STATUS => self.status(k),
            IRQ_EN => u32::from(self.ch[k].irq_en),
            _ => return Err(DeviceError::BadOffset(offset)),
        };
        Ok(u64::from(v))
    }

    fn write(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        let (k, reg) = Mailbox::decode(offset, size)?;
        match reg {
            SEND => {
                if self.ch[k].fifo.len() >= self.depth {
                    self.ch[k].overflow = true;
                } else {
                    self.ch[k].fifo.push_back(value as u32);
                }
            }
            RECV | STATUS => {}
            IRQ_EN => {
                self.ch[k].irq_en = value & 1 != 0;
                if value as u32 & ST_OVERFLOW != 0 {
                    self.ch[k].overflow = false;
                }
            }
            _ => return Err(DeviceError::BadOffset(offset)),
        }
        self.update(k, cx);
        Ok(())
    }

    fn reset(&mut self) {
        self.ch = Default::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::MachineEvent;

    fn access(
        m: &mut Mailbox,
        ev: &mut Vec<MachineEvent>,
        write: Option<u64>,
        off: u64,
    ) -> Result<u64, DeviceError> {
        let mut cx = DeviceCtx {
            events: ev,
            device: 3,
            now_ns: 0,
        };
        match write {
            Some(v) => m.write(off, 4, v, &mut cx).map(|()| 0),
            None => m.read(off, 4, &mut cx),
        }
    }

    fn irq(out: u32, level: bool) -> MachineEvent {
        MachineEvent::Irq {
            device: 3,
            out,
            level,
        }
    }

    #[test]
    fn messages_flow_in_order_and_raise_the_receiver_line() {
        let mut m = Mailbox::new(2);
        let mut ev = Vec::new();
        access(&mut m, &mut ev, Some(1), IRQ_EN).unwrap();
        access(&mut m, &mut ev, Some(0xaa), SEND).unwrap();
        assert_eq!(ev, vec![irq(0, true)]);
        access(&mut m, &mut ev, Some(0xbb), SEND).unwrap();
        access(&mut m, &mut ev, Some(0xcc), SEND).unwrap(); // full: dropped
        let st = access(&mut m, &mut ev, None, STATUS).unwrap() as u32;
        assert_eq!(st, 2 << 8 | ST_NOT_EMPTY | ST_FULL | ST_OVERFLOW);
        assert_eq!(access(&mut m, &mut ev, None, RECV).unwrap(), 0xaa);
        assert_eq!(access(&mut m, &mut ev, None, RECV).unwrap(), 0xbb);
        assert_eq!(ev, vec![irq(0, true), irq(0, false)]);
        assert_eq!(access(&mut m, &mut ev, None, RECV).unwrap(), 0);
        // The other direction is independent and uses line 1.
        access(&mut m, &mut ev, Some(1), CHANNEL_STRIDE + IRQ_EN).unwrap();
        access(&mut m, &mut ev, Some(7), CHANNEL_STRIDE + SEND).unwrap();
        assert_eq!(ev.last(), Some(&irq(1, true)));
        access(&mut m, &mut ev, Some(ST_OVERFLOW as u64), IRQ_EN).unwrap();
        assert_eq!(access(&mut m, &mut ev, None, STATUS).unwrap(), 0);
    }

    #[test]
    fn bad_accesses_fault() {
        let mut m = Mailbox::new(4);
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        assert_eq!(m.read(0x40, 4, &mut cx), Err(DeviceError::BadOffset(0x40)));
        assert_eq!(m.read(0x10, 4, &mut cx), Err(DeviceError::BadOffset(0x10)));
        assert_eq!(m.read(0x4, 1, &mut cx), Err(DeviceError::BadSize(1)));
        assert_eq!(m.read(0x2, 4, &mut cx), Err(DeviceError::BadOffset(0x2)));
    }
}
