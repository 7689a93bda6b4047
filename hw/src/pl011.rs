//! ARM PrimeCell PL011 UART (the Stellaris boards' UART0, Versatile,
//! Realview, and `virt` for Arm), modelled on QEMU 7.2's `pl011`.
//!
//! Transmit goes to the character backend at once and raises the raw TX
//! interrupt (RIS bit 5) until the guest clears it through ICR. Receive:
//! `tick` moves backend input into a 16-entry FIFO (1 entry with
//! LCR_H.FEN clear); the raw RX interrupt (RIS bit 4) is set while a byte
//! waits (QEMU's receive trigger level is always 1). Output line 0 is
//! RIS & IMSC != 0. The `variant` property picks the peripheral ID
//! registers: ARM's or Luminary Micro's (Stellaris).

use hemu_runtime::device::{
    CharBackend, Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue,
    Properties,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

// Register offsets.
const DR: u64 = 0x000;
const RSR: u64 = 0x004;
const FR: u64 = 0x018;
const ILPR: u64 = 0x020;
const IBRD: u64 = 0x024;
const FBRD: u64 = 0x028;
const LCR_H: u64 = 0x02c;
const CR: u64 = 0x030;
const IFLS: u64 = 0x034;
const IMSC: u64 = 0x038;
const RIS: u64 = 0x03c;
const MIS: u64 = 0x040;
const ICR: u64 = 0x044;
const DMACR: u64 = 0x048;
const ID: u64 = 0xfe0;

const FR_RXFE: u32 = 0x10;
const FR_TXFF: u32 = 0x20;
const FR_RXFF: u32 = 0x40;
const FR_TXFE: u32 = 0x80;
const LCR_FEN: u32 = 0x10;
const INT_RX: u32 = 0x10;
const INT_TX: u32 = 0x20;
/// Receive FIFO depth with FIFOs enabled.
const FIFO_DEPTH: usize = 16;

const ID_ARM: [u8; 8] = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
const ID_LUMINARY: [u8; 8] = [0x11, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1];

/// Register state, for snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pl011State {
    /// Receive status (from the last byte read).
    pub rsr: u32,
    /// Line control.
    pub lcr: u32,
    /// Control (UARTEN, TXE, RXE, ...).
    pub cr: u32,
    /// Integer and fractional baud rate divisors.
    pub ibrd: u32,
    /// Fractional divisor.
    pub fbrd: u32,
    /// IrDA low-power counter.
    pub ilpr: u32,
    /// FIFO level select.
    pub ifls: u32,
    /// DMA control.
    pub dmacr: u32,
    /// Raw interrupt status.
    pub int_level: u32,
    /// Interrupt mask.
    pub int_enabled: u32,
    /// Received bytes the guest has not read.
    pub rx: VecDeque<u8>,
    /// Current level of the interrupt output.
    pub irq: bool,
}

impl Default for Pl011State {
    fn default() -> Pl011State {
        Pl011State {
            rsr: 0,
            lcr: 0,
            cr: 0x300,
            ibrd: 0,
            fbrd: 0,
            ilpr: 0,
            ifls: 0x12,
            dmacr: 0,
            int_level: 0,
            int_enabled: 0,
            rx: VecDeque::new(),
            irq: false,
        }
    }
}

/// The UART.
pub struct Pl011 {
    state: Pl011State,
    id: [u8; 8],
    backend: CharBackend,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "pl011",
    description: "ARM PrimeCell PL011 UART",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// character backend for transmitted and received bytes
    #[prop(default = "serial0")]
    pub chardev: CharBackend,
    /// peripheral ID registers: arm or luminary (Stellaris)
    #[prop(default = "arm")]
    pub variant: String,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    let id = match c.variant.as_str() {
        "arm" => ID_ARM,
        "luminary" => ID_LUMINARY,
        other => return Err(format!("variant '{other}' is not arm or luminary")),
    };
    Ok(Box::new(Pl011 {
        state: Pl011State::default(),
        id,
        backend: c.chardev,
    }))
}

impl Pl011 {
    fn capacity(&self) -> usize {
        if self.state.lcr & LCR_FEN != 0 {
            FIFO_DEPTH
        } else {
            1
        }
    }

    fn flags(&self) -> u32 {
        let mut f = FR_TXFE;
        if self.state.rx.is_empty() {
            f |= FR_RXFE;
        }
        if self.state.rx.len() >= self.capacity() {
            f |= FR_RXFF;
        }
        f & !FR_TXFF
    }

    fn update(&mut self, cx: &mut DeviceCtx<'_>) {
        let level = self.state.int_level & self.state.int_enabled != 0;
        if level != self.state.irq {
            self.state.irq = level;
            cx.irq(0, level);
        }
    }

    /// Move waiting backend input into the receiver while it has room.
    fn poll_backend(&mut self) {
        while self.state.rx.len() < self.capacity() {
            match self.backend.read_byte() {
                Some(b) => {
                    self.state.rx.push_back(b);
                    self.state.int_level |= INT_RX;
                }
                None => break,
            }
        }
    }
}

impl Device for Pl011 {
    fn mmio_size(&self) -> u64 {
        0x1000
    }

    fn read(&mut self, offset: u64, _size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        let s = &self.state;
        let v = match offset {
            DR => {
                let b = self.state.rx.pop_front().unwrap_or(0);
                self.state.rsr = 0;
                if self.state.rx.is_empty() {
                    self.state.int_level &= !INT_RX;
                }
                self.poll_backend();
                self.update(cx);
                b as u32
            }
            RSR => s.rsr,
            FR => self.flags(),
            ILPR => s.ilpr,
            IBRD => s.ibrd,
            FBRD => s.fbrd,
            LCR_H => s.lcr,
            CR => s.cr,
            IFLS => s.ifls,
            IMSC => s.int_enabled,
            RIS => s.int_level,
            MIS => s.int_level & s.int_enabled,
            DMACR => s.dmacr,
            ID..=0xffc if offset & 3 == 0 => self.id[((offset - ID) / 4) as usize] as u32,
            _ => return Err(DeviceError::BadOffset(offset)),
        };
        Ok(v as u64)
    }

    fn write(
        &mut self,
        offset: u64,
        _size: u8,
        value: u64,
        cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        let v = value as u32;
        let s = &mut self.state;
        match offset {
            DR => {
                self.backend.write(&[v as u8]);
                self.state.int_level |= INT_TX;
            }
            RSR => s.rsr = 0,
            FR => {} // read-only
            ILPR => s.ilpr = v,
            IBRD => s.ibrd = v,
            FBRD => s.fbrd = v,
            LCR_H => {
                // Enabling or disabling the FIFOs empties them.
                if (s.lcr ^ v) & LCR_FEN != 0 {
                    s.rx.clear();
                    s.int_level &= !INT_RX;
                }
                s.lcr = v;
            }
            CR => s.cr = v,
            IFLS => s.ifls = v,
            IMSC => s.int_enabled = v,
            ICR => s.int_level &= !v,
            DMACR => s.dmacr = v,
            RIS | MIS => {}
            _ => return Err(DeviceError::BadOffset(offset)),
        }
        self.update(cx);
        Ok(())
    }

    fn reset(&mut self) {
        self.state = Pl011State::default();
    }

    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        self.poll_backend();
        self.update(cx);
    }

    fn has_pending_input(&self) -> bool {
        !self.state.rx.is_empty() || self.backend.has_input()
    }

    fn fdt_node(&self) -> Option<FdtNode> {
        Some(FdtNode {
            name: "serial".into(),
            props: vec![(
                "compatible".into(),
                FdtValue::Strs(vec!["arm,pl011".into(), "arm,primecell".into()]),
            )],
            interrupt_controller: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::{MachineEvent, PropValue};

    fn uart(
        variant: &str,
    ) -> (
        Box<dyn Device>,
        CharBackend,
        std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    ) {
        let (backend, buf) = CharBackend::buffer();
        let mut cfg = DeviceConfig::default();
        cfg.props
            .insert("variant".into(), PropValue::Str(variant.into()));
        cfg.chardevs.insert("chardev".into(), backend.clone());
        (create(&cfg).unwrap(), backend, buf)
    }

    fn cx(events: &mut Vec<MachineEvent>) -> DeviceCtx<'_> {
        DeviceCtx {
            events,
            device: 0,
            now_ns: 0,
        }
    }

    #[test]
    fn transmits_and_raises_tx_when_enabled() {
        let (mut u, _, out) = uart("arm");
        let mut ev = Vec::new();
        u.write(IMSC, 4, INT_TX as u64, &mut cx(&mut ev)).unwrap();
        u.write(DR, 4, b'h' as u64, &mut cx(&mut ev)).unwrap();
        u.write(DR, 4, b'i' as u64, &mut cx(&mut ev)).unwrap();
        assert_eq!(out.lock().unwrap().as_slice(), b"hi");
        assert_eq!(
            ev,
            vec![MachineEvent::Irq {
                device: 0,
                out: 0,
                level: true
            }]
        );
        assert_eq!(u.read(MIS, 4, &mut cx(&mut ev)).unwrap(), INT_TX as u64);
        u.write(ICR, 4, INT_TX as u64, &mut cx(&mut ev)).unwrap();
        assert_eq!(
            ev.last(),
            Some(&MachineEvent::Irq {
                device: 0,
                out: 0,
                level: false
            })
        );
        assert_eq!(
            u.read(FR, 4, &mut cx(&mut ev)).unwrap() as u32,
            FR_TXFE | FR_RXFE
        );
    }

    #[test]
    fn receives_through_the_fifo() {
        let (mut u, backend, _) = uart("luminary");
        let mut ev = Vec::new();
        backend.push_input(b"abc");
        u.tick(&mut cx(&mut ev));
        // FIFOs off: one byte at a time.
        assert_eq!(
            u.read(FR, 4, &mut cx(&mut ev)).unwrap() as u32 & (FR_RXFE | FR_RXFF),
            FR_RXFF
        );
        u.write(LCR_H, 4, LCR_FEN as u64, &mut cx(&mut ev)).unwrap(); // empties the FIFO
        u.tick(&mut cx(&mut ev));
        assert_eq!(u.read(DR, 4, &mut cx(&mut ev)).unwrap(), b'b' as u64);
        assert_eq!(u.read(DR, 4, &mut cx(&mut ev)).unwrap(), b'c' as u64);
        assert_eq!(
            u.read(FR, 4, &mut cx(&mut ev)).unwrap() as u32 & FR_RXFE,
            FR_RXFE
        );
        assert_eq!(u.read(RIS, 4, &mut cx(&mut ev)).unwrap() as u32 & INT_RX, 0);
        assert_eq!(u.read(0xfe8, 4, &mut cx(&mut ev)).unwrap(), 0x18);
        assert!(u.read(0x4c, 4, &mut cx(&mut ev)).is_err());
    }
}
