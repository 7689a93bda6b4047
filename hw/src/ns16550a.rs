//! NS16550A UART (the PC-compatible serial port on QEMU's virt board).
//!
//! Transmit goes to the configured character backend at once, so the
//! transmitter always reads as empty (LSR = THRE | TEMT when idle, as
//! QEMU's model with an idle backend). Receive: `tick` moves waiting
//! backend input into a 16-byte FIFO (1 byte with FIFOs disabled). The
//! interrupt output (line 0) follows the IIR: receiver line status, then
//! received data available, then transmitter holding register empty — the
//! last cleared by reading IIR, as on a real 16550. The receive trigger
//! level is not modelled: data raise RDA as soon as one byte is waiting.

use hemu_runtime::device::{
    CharBackend, Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue,
    Properties,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

// Register offsets (before `reg-shift`).
const RBR_THR_DLL: u64 = 0;
const IER_DLM: u64 = 1;
const IIR_FCR: u64 = 2;
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;
const MSR: u64 = 6;
const SCR: u64 = 7;

const IER_RDA: u8 = 0x01;
const IER_THRE: u8 = 0x02;
const IER_RLS: u8 = 0x04;
const IIR_NO_INT: u8 = 0x01;
const IIR_THRE: u8 = 0x02;
const IIR_RDA: u8 = 0x04;
const IIR_RLS: u8 = 0x06;
const IIR_FIFO: u8 = 0xc0;
const FCR_ENABLE: u8 = 0x01;
const FCR_CLEAR_RX: u8 = 0x02;
const LCR_DLAB: u8 = 0x80;
const MCR_LOOP: u8 = 0x10;
const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;
/// Error bits that raise a receiver-line-status interrupt (OE, PE, FE, BI).
const LSR_ERRORS: u8 = 0x1e;

/// Receive FIFO depth.
const FIFO_DEPTH: usize = 16;

/// Register state, for snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UartState {
    /// Interrupt enable.
    pub ier: u8,
    /// Line control.
    pub lcr: u8,
    /// Modem control.
    pub mcr: u8,
    /// Scratch.
    pub scr: u8,
    /// FIFO control (as written, less the self-clearing bits).
    pub fcr: u8,
    /// Divisor latch.
    pub divisor: u16,
    /// Received bytes the guest has not read.
    pub rx: VecDeque<u8>,
    /// Line-status error bits (overrun), cleared by reading LSR.
    pub lsr_err: u8,
    /// A transmitter-holding-register-empty interrupt is pending.
    pub thr_ipending: bool,
    /// Current level of the interrupt output.
    pub irq: bool,
}

/// The UART.
pub struct Ns16550a {
    state: UartState,
    shift: u32,
    /// Input clock (Hz), told to the guest through the device tree.
    clock_hz: u32,
    backend: CharBackend,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "ns16550a",
    description: "NS16550A-compatible UART",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// character backend for transmitted and received bytes
    #[prop(default = "serial0")]
    pub chardev: CharBackend,
    /// log2 of the spacing between registers in bytes
    #[prop(default = 0, range = 0..=3)]
    pub reg_shift: u64,
    /// input clock in Hz, for the guest's divisor (device tree `clock-frequency`)
    #[prop(default = 3686400, range = 1..=u32::MAX)]
    pub clock_frequency: u64,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    let shift = c.reg_shift;
    if shift > 3 {
        return Err(format!("reg-shift {shift} is out of range 0..=3"));
    }
    // The declared range is checked where values are set; a constructor
    // called with a hand-made configuration checks too.
    let clock_hz = u32::try_from(c.clock_frequency)
        .ok()
        .filter(|c| *c > 0)
        .ok_or_else(|| {
            format!(
                "clock-frequency {} is out of range 1..={}",
                c.clock_frequency,
                u32::MAX
            )
        })?;
    Ok(Box::new(Ns16550a {
        state: UartState::default(),
        shift: shift as u32,
        clock_hz,
        backend: c.chardev,
    }))
}

impl Ns16550a {
    fn reg(&self, offset: u64) -> Result<u64, DeviceError> {
        if offset & ((1 << self.shift) - 1) != 0 {
            return Err(DeviceError::BadOffset(offset));
        }
        Ok(offset >> self.shift)
    }

    /// How many bytes the receiver holds: the FIFO, or one holding register.
    fn rx_capacity(&self) -> usize {
        if self.state.fcr & FCR_ENABLE != 0 {
            FIFO_DEPTH
        } else {
            1
        }
    }

    fn lsr(&self) -> u8 {
        let dr = if self.state.rx.is_empty() { 0 } else { LSR_DR };
        dr | self.state.lsr_err | LSR_THRE | LSR_TEMT
    }

    /// Interrupt identification (low 4 bits of IIR), by 16550 priority.
    fn iir_id(&self) -> u8 {
        let s = &self.state;
        if s.ier & IER_RLS != 0 && s.lsr_err & LSR_ERRORS != 0 {
            IIR_RLS
        } else if s.ier & IER_RDA != 0 && !s.rx.is_empty() {
            IIR_RDA
        } else if s.ier & IER_THRE != 0 && s.thr_ipending {
            IIR_THRE
        } else {
            IIR_NO_INT
        }
    }

    fn update_irq(&mut self, cx: &mut DeviceCtx<'_>) {
        let level = self.iir_id() != IIR_NO_INT;
        if level != self.state.irq {
            self.state.irq = level;
            cx.irq(0, level);
        }
    }

    /// Take a received byte (from the backend or the loopback).
    fn receive(&mut self, b: u8) {
        if self.state.rx.len() < self.rx_capacity() {
            self.state.rx.push_back(b);
        } else {
            self.state.lsr_err |= LSR_OE;
        }
    }

    /// Move waiting backend input into the receiver while it has room.
    fn poll_backend(&mut self) {
        if self.state.mcr & MCR_LOOP != 0 {
            return;
        }
        while self.state.rx.len() < self.rx_capacity() {
            match self.backend.read_byte() {
                Some(b) => self.state.rx.push_back(b),
                None => break,
            }
        }
    }
}

impl Device for Ns16550a {
    fn mmio_size(&self) -> u64 {
        0x100
    }

    fn read(&mut self, offset: u64, _size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        let reg = self.reg(offset)?;
        let s = &self.state;
        let dlab = s.lcr & LCR_DLAB != 0;
        let v = match reg {
            RBR_THR_DLL if dlab => s.divisor as u8,
            RBR_THR_DLL => {
                let b = self.state.rx.pop_front().unwrap_or(0);
                self.update_irq(cx);
                b
            }
            IER_DLM if dlab => (s.divisor >> 8) as u8,
            IER_DLM => s.ier,
            IIR_FCR => {
                let id = self.iir_id();
                let fifo = if s.fcr & FCR_ENABLE != 0 { IIR_FIFO } else { 0 };
                if id == IIR_THRE {
                    self.state.thr_ipending = false;
                    self.update_irq(cx);
                }
                id | fifo
            }
            LCR => s.lcr,
            MCR => s.mcr,
            LSR => {
                let v = self.lsr();
                if self.state.lsr_err != 0 {
                    self.state.lsr_err = 0;
                    self.update_irq(cx);
                }
                v
            }
            MSR if s.mcr & MCR_LOOP != 0 => {
                // Loopback: RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD.
                ((s.mcr & 0x0c) << 4) | ((s.mcr & 0x02) << 3) | ((s.mcr & 0x01) << 5)
            }
            MSR => 0xb0, // DCD, DSR, CTS: a connected modem
            SCR => s.scr,
            _ => 0,
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
        let v = value as u8;
        let reg = self.reg(offset)?;
        let s = &mut self.state;
        let dlab = s.lcr & LCR_DLAB != 0;
        match reg {
            RBR_THR_DLL if dlab => s.divisor = (s.divisor & 0xff00) | v as u16,
            RBR_THR_DLL => {
                if s.mcr & MCR_LOOP != 0 {
                    self.receive(v);
                } else {
                    self.backend.write(&[v]);
                }
                // Sent at once: the holding register is empty again.
                self.state.thr_ipending = true;
            }
            IER_DLM if dlab => s.divisor = (s.divisor & 0x00ff) | (v as u16) << 8,
            IER_DLM => {
                let changed = (s.ier ^ v) & 0x0f;
                s.ier = v & 0x0f;
                if changed & IER_THRE != 0 {
                    // The transmitter is always empty.
                    s.thr_ipending = s.ier & IER_THRE != 0;
                }
            }
            IIR_FCR => {
                let mut v = v;
                if (v ^ s.fcr) & FCR_ENABLE != 0 {
                    v |= FCR_CLEAR_RX; // toggling the FIFOs empties them
                }
                if v & FCR_CLEAR_RX != 0 {
                    s.rx.clear();
                }
                s.fcr = v & 0xc9;
            }
            LCR => s.lcr = v,
            MCR => s.mcr = v & 0x1f,
            SCR => s.scr = v,
            _ => {} // LSR and MSR are read-only; writes are ignored as on hardware.
        }
        self.update_irq(cx);
        Ok(())
    }

    fn reset(&mut self) {
        self.state = UartState::default();
    }

    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        self.poll_backend();
        self.update_irq(cx);
    }

    fn has_pending_input(&self) -> bool {
        !self.state.rx.is_empty() || self.backend.has_input()
    }

    fn fdt_node(&self) -> Option<FdtNode> {
        let mut props = vec![
            ("compatible".to_string(), FdtValue::Str("ns16550a".into())),
            (
                "clock-frequency".to_string(),
                FdtValue::Cells(vec![self.clock_hz]),
            ),
        ];
        if self.shift != 0 {
            props.push(("reg-shift".into(), FdtValue::Cells(vec![self.shift])));
            props.push((
                "reg-io-width".into(),
                FdtValue::Cells(vec![1 << self.shift]),
            ));
        }
        Some(FdtNode {
            name: "serial".into(),
            props,
            interrupt_controller: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::PropValue;

    fn uart(shift: u64) -> (Box<dyn Device>, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
        let (backend, buf) = CharBackend::buffer();
        let mut cfg = DeviceConfig::default();
        cfg.props.insert("reg-shift".into(), PropValue::U64(shift));
        cfg.props
            .insert("clock-frequency".into(), PropValue::U64(3_686_400));
        cfg.chardevs.insert("chardev".into(), backend);
        (create(&cfg).unwrap(), buf)
    }

    #[test]
    fn transmits_and_reports_empty_transmitter() {
        let (mut u, buf) = uart(0);
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        u.write(0, 1, b'h' as u64, &mut cx).unwrap();
        u.write(0, 1, b'i' as u64, &mut cx).unwrap();
        assert_eq!(&*buf.lock().unwrap(), b"hi");
        assert_eq!(u.read(5, 1, &mut cx).unwrap(), 0x60);
    }

    #[test]
    fn divisor_latch_hides_thr() {
        let (mut u, buf) = uart(0);
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        u.write(3, 1, 0x80, &mut cx).unwrap();
        u.write(0, 1, 0x03, &mut cx).unwrap();
        u.write(1, 1, 0x01, &mut cx).unwrap();
        assert_eq!(u.read(0, 1, &mut cx).unwrap(), 3);
        assert_eq!(u.read(1, 1, &mut cx).unwrap(), 1);
        u.write(3, 1, 0x03, &mut cx).unwrap();
        assert!(buf.lock().unwrap().is_empty());
    }

    #[test]
    fn reg_shift_spaces_registers() {
        let (mut u, _) = uart(2);
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        assert_eq!(u.read(20, 4, &mut cx).unwrap(), 0x60);
        assert!(u.read(5, 1, &mut cx).is_err());
    }

    fn uart_with_input() -> (Box<dyn Device>, CharBackend) {
        let (backend, _) = CharBackend::buffer();
        let mut cfg = DeviceConfig::default();
        cfg.props.insert("reg-shift".into(), PropValue::U64(0));
        cfg.props
            .insert("clock-frequency".into(), PropValue::U64(3_686_400));
        cfg.chardevs.insert("chardev".into(), backend.clone());
        (create(&cfg).unwrap(), backend)
    }

    fn irq(level: bool) -> MachineEvent {
        MachineEvent::Irq {
            device: 0,
            out: 0,
            level,
        }
    }

    use hemu_runtime::device::MachineEvent;

    #[test]
    fn receives_through_a_16_byte_fifo() {
        let (mut u, backend) = uart_with_input();
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        assert!(!u.has_pending_input());
        backend.push_input(b"ab");
        assert!(u.has_pending_input());
        // FIFOs disabled: one holding register.
        u.tick(&mut cx);
        assert_eq!(u.read(5, 1, &mut cx).unwrap(), 0x61, "DR | THRE | TEMT");
        assert_eq!(u.read(0, 1, &mut cx).unwrap(), b'a' as u64);
        assert_eq!(u.read(5, 1, &mut cx).unwrap(), 0x60);
        u.tick(&mut cx);
        assert_eq!(u.read(0, 1, &mut cx).unwrap(), b'b' as u64);
        // FIFOs enabled: up to 16 bytes per poll, the rest waits.
        u.write(2, 1, 0x07, &mut cx).unwrap();
        assert_eq!(
            u.read(2, 1, &mut cx).unwrap(),
            0xc1,
            "FIFO bits, no interrupt"
        );
        let text: Vec<u8> = (0..20u8).map(|i| b'A' + i).collect();
        backend.push_input(&text);
        u.tick(&mut cx);
        let mut got = Vec::new();
        while u.read(5, 1, &mut cx).unwrap() & 1 != 0 {
            got.push(u.read(0, 1, &mut cx).unwrap() as u8);
        }
        assert_eq!(got, &text[..16]);
        assert!(u.has_pending_input(), "4 bytes still at the backend");
        u.tick(&mut cx);
        u.write(2, 1, 0x03, &mut cx).unwrap(); // clear the receive FIFO
        assert_eq!(u.read(5, 1, &mut cx).unwrap(), 0x60);
        assert!(!u.has_pending_input());
        assert!(ev.is_empty(), "no interrupts enabled");
    }

    #[test]
    fn interrupts_follow_16550_priorities() {
        let (mut u, backend) = uart_with_input();
        let mut ev = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut ev,
            device: 0,
            now_ns: 0,
        };
        u.write(2, 1, 0x01, &mut cx).unwrap();
        // Enabling THRE interrupts with an empty transmitter raises one.
        u.write(1, 1, 0x03, &mut cx).unwrap();
        assert_eq!(u.read(1, 1, &mut cx).unwrap(), 0x03);
        assert_eq!(cx.events, &vec![irq(true)]);
        // Received data outrank THRE.
        backend.push_input(b"x");
        u.tick(&mut cx);
        assert_eq!(u.read(2, 1, &mut cx).unwrap(), 0xc4, "RDA");
        assert_eq!(u.read(0, 1, &mut cx).unwrap(), b'x' as u64);
        // Reading IIR when it shows THRE clears that interrupt.
        assert_eq!(u.read(2, 1, &mut cx).unwrap(), 0xc2, "THRE");
        assert_eq!(u.read(2, 1, &mut cx).unwrap(), 0xc1, "none");
        assert_eq!(cx.events, &vec![irq(true), irq(false)]);
        // Transmitting makes the holding register empty again.
        u.write(0, 1, b'!' as u64, &mut cx).unwrap();
        assert_eq!(cx.events.last(), Some(&irq(true)));
        u.write(1, 1, 0x01, &mut cx).unwrap();
        assert_eq!(cx.events.last(), Some(&irq(false)), "THRE disabled");
        // Overrun (loopback into a full FIFO) is a line-status interrupt,
        // above received data; reading LSR clears it.
        u.write(1, 1, 0x05, &mut cx).unwrap();
        u.write(4, 1, 0x10, &mut cx).unwrap();
        for b in 0..17u64 {
            u.write(0, 1, b, &mut cx).unwrap();
        }
        assert_eq!(u.read(2, 1, &mut cx).unwrap() & 0x0f, 0x06, "RLS");
        assert_eq!(
            u.read(5, 1, &mut cx).unwrap(),
            0x63,
            "DR | OE | THRE | TEMT"
        );
        assert_eq!(u.read(2, 1, &mut cx).unwrap() & 0x0f, 0x04, "RDA");
        for _ in 0..16 {
            u.read(0, 1, &mut cx).unwrap();
        }
        assert_eq!(u.read(2, 1, &mut cx).unwrap(), 0xc1);
        assert_eq!(cx.events.last(), Some(&irq(false)));
    }

    #[test]
    fn describes_itself_for_the_device_tree() {
        let (u, _) = uart(0);
        let n = u.fdt_node().unwrap();
        assert_eq!(n.name, "serial");
        assert!(n
            .props
            .contains(&("clock-frequency".into(), FdtValue::Cells(vec![3_686_400]))));
    }
}
