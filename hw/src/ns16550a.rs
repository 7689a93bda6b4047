//! NS16550A UART (the PC-compatible serial port on QEMU's virt board).
//!
//! Transmit goes to the configured character backend at once; the line
//! status always shows an empty transmitter, as QEMU's model does with an
//! idle backend. Receive and interrupts come with the privileged-platform
//! work; until then the receiver is always empty.

use hemu_runtime::device::{
    CharBackend, Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, PropDesc, PropType,
};
use serde::{Deserialize, Serialize};

// Register offsets (before `reg-shift`).
const RBR_THR_DLL: u64 = 0;
const IER_DLM: u64 = 1;
const IIR_FCR: u64 = 2;
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;
const MSR: u64 = 6;
const SCR: u64 = 7;

const LCR_DLAB: u8 = 0x80;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;
const IIR_NO_INT: u8 = 0x01;
const IIR_FIFO: u8 = 0xc0;

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
    /// FIFO control (as written).
    pub fcr: u8,
    /// Divisor latch.
    pub divisor: u16,
}

/// The UART.
pub struct Ns16550a {
    state: UartState,
    shift: u32,
    out: CharBackend,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "ns16550a",
    description: "NS16550A-compatible UART",
    props: &[
        PropDesc {
            name: "chardev",
            ty: PropType::Chardev,
            default: Some("serial0"),
            doc: "character backend receiving transmitted bytes",
        },
        PropDesc {
            name: "reg-shift",
            ty: PropType::U64,
            default: Some("0"),
            doc: "log2 of the spacing between registers in bytes",
        },
    ],
    create,
};

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let shift = cfg.u64("reg-shift");
    if shift > 3 {
        return Err(format!("reg-shift {shift} is out of range 0..=3"));
    }
    Ok(Box::new(Ns16550a {
        state: UartState::default(),
        shift: shift as u32,
        out: cfg.chardev("chardev"),
    }))
}

impl Ns16550a {
    fn reg(&self, offset: u64) -> Result<u64, DeviceError> {
        if offset & ((1 << self.shift) - 1) != 0 {
            return Err(DeviceError::BadOffset(offset));
        }
        Ok(offset >> self.shift)
    }
}

impl Device for Ns16550a {
    fn mmio_size(&self) -> u64 {
        0x100
    }

    fn read(
        &mut self,
        offset: u64,
        _size: u8,
        _cx: &mut DeviceCtx<'_>,
    ) -> Result<u64, DeviceError> {
        let s = &self.state;
        let dlab = s.lcr & LCR_DLAB != 0;
        let v = match self.reg(offset)? {
            RBR_THR_DLL if dlab => s.divisor as u8,
            RBR_THR_DLL => 0,
            IER_DLM if dlab => (s.divisor >> 8) as u8,
            IER_DLM => s.ier,
            IIR_FCR => IIR_NO_INT | if s.fcr & 1 != 0 { IIR_FIFO } else { 0 },
            LCR => s.lcr,
            MCR => s.mcr,
            LSR => LSR_THRE | LSR_TEMT,
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
        _cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        let v = value as u8;
        let reg = self.reg(offset)?;
        let s = &mut self.state;
        let dlab = s.lcr & LCR_DLAB != 0;
        match reg {
            RBR_THR_DLL if dlab => s.divisor = (s.divisor & 0xff00) | v as u16,
            RBR_THR_DLL => self.out.write(&[v]),
            IER_DLM if dlab => s.divisor = (s.divisor & 0x00ff) | (v as u16) << 8,
            IER_DLM => s.ier = v & 0x0f,
            IIR_FCR => s.fcr = v,
            LCR => s.lcr = v,
            MCR => s.mcr = v & 0x1f,
            SCR => s.scr = v,
            _ => {} // LSR and MSR are read-only; writes are ignored as on hardware.
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.state = UartState::default();
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
}
