//! ARM CMSDK APB UART (the UARTs of the MPS2 FPGA images, QEMU's
//! `mps2-an385`/`an386`), modelled on QEMU 7.2's `cmsdk-apb-uart`.
//!
//! A byte written to DATA with CTRL.TXEN set goes to the character backend
//! at once (TXFULL never stays set); with CTRL.TXINTEN that raises the TX
//! interrupt until INTCLEAR. Received bytes wait in a one-byte holding
//! register (STATE.RXFULL; another byte arriving first is an overrun) and
//! raise RX with CTRL.RXINTEN. Bytes move only while BAUDDIV is at least
//! 16, as QEMU requires. Outputs: 0 TX, 1 RX, 2 TX overrun, 3 RX overrun,
//! 4 the combined interrupt.

use hemu_runtime::device::{
    CharBackend, Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue,
    Properties,
};
use serde::{Deserialize, Serialize};

const DATA: u64 = 0x000;
const STATE: u64 = 0x004;
const CTRL: u64 = 0x008;
const INTSTATUS: u64 = 0x00c;
const BAUDDIV: u64 = 0x010;
const PID: u64 = 0xfd0;

const STATE_RXFULL: u32 = 1 << 1;
const STATE_TXOVERRUN: u32 = 1 << 2;
const STATE_RXOVERRUN: u32 = 1 << 3;
const CTRL_TXEN: u32 = 1 << 0;
const CTRL_RXEN: u32 = 1 << 1;
const CTRL_TXINTEN: u32 = 1 << 2;
const CTRL_RXINTEN: u32 = 1 << 3;
const CTRL_TXOVINTEN: u32 = 1 << 4;
const CTRL_RXOVINTEN: u32 = 1 << 5;
const INT_TX: u32 = 1 << 0;
const INT_RX: u32 = 1 << 1;
const INT_TXOV: u32 = 1 << 2;
const INT_RXOV: u32 = 1 << 3;

const ID: [u8; 12] = [
    0x04, 0x00, 0x00, 0x00, 0x21, 0xb8, 0x1b, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
];

/// Register state, for snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmsdkUartState {
    /// STATE (RXFULL and the overrun bits).
    pub state: u32,
    /// CTRL.
    pub ctrl: u32,
    /// INTSTATUS.
    pub intstatus: u32,
    /// BAUDDIV.
    pub bauddiv: u32,
    /// The received byte.
    pub rxbuf: u8,
    /// Output levels (TX, RX, TXOV, RXOV, combined).
    pub out: [bool; 5],
}

/// The UART.
pub struct CmsdkUart {
    state: CmsdkUartState,
    backend: CharBackend,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "cmsdk-apb-uart",
    description: "ARM CMSDK APB UART",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// character backend for transmitted and received bytes
    #[prop(default = "serial0")]
    pub chardev: CharBackend,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    Ok(Box::new(CmsdkUart {
        state: CmsdkUartState::default(),
        backend: c.chardev,
    }))
}

impl CmsdkUart {
    fn baud_ok(&self) -> bool {
        self.state.bauddiv >= 16
    }

    fn update(&mut self, cx: &mut DeviceCtx<'_>) {
        let i = self.state.intstatus;
        let levels = [
            i & INT_TX != 0,
            i & INT_RX != 0,
            i & INT_TXOV != 0,
            i & INT_RXOV != 0,
            i != 0,
        ];
        for (n, l) in levels.iter().enumerate() {
            if *l != self.state.out[n] {
                self.state.out[n] = *l;
                cx.irq(n as u32, *l);
            }
        }
    }

    /// Take one waiting backend byte if the receiver can.
    fn poll_backend(&mut self) {
        let s = &mut self.state;
        if s.ctrl & CTRL_RXEN == 0 || s.bauddiv < 16 || s.state & STATE_RXFULL != 0 {
            return;
        }
        if let Some(b) = self.backend.read_byte() {
            s.rxbuf = b;
            s.state |= STATE_RXFULL;
            if s.ctrl & CTRL_RXINTEN != 0 {
                s.intstatus |= INT_RX;
            }
        }
    }
}

impl Device for CmsdkUart {
    fn mmio_size(&self) -> u64 {
        0x1000
    }

    fn read(&mut self, offset: u64, _size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        let s = &mut self.state;
        let v = match offset {
            DATA => {
                s.state &= !STATE_RXFULL;
                s.intstatus &= !INT_RX;
                let b = s.rxbuf as u32;
                self.poll_backend();
                self.update(cx);
                b
            }
            STATE => s.state,
            CTRL => s.ctrl,
            INTSTATUS => s.intstatus,
            BAUDDIV => s.bauddiv,
            PID..=0xffc if offset & 3 == 0 => ID[((offset - PID) / 4) as usize] as u32,
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
        match offset {
            DATA => {
                if self.state.ctrl & CTRL_TXEN != 0 && self.baud_ok() {
                    self.backend.write(&[v as u8]);
                    if self.state.ctrl & CTRL_TXINTEN != 0 {
                        self.state.intstatus |= INT_TX;
                    }
                }
            }
            STATE => {
                // Write 1 to clear the overrun bits (and their interrupts).
                let clear = v & (STATE_TXOVERRUN | STATE_RXOVERRUN);
                self.state.state &= !clear;
                if clear & STATE_TXOVERRUN != 0 {
                    self.state.intstatus &= !INT_TXOV;
                }
                if clear & STATE_RXOVERRUN != 0 {
                    self.state.intstatus &= !INT_RXOV;
                }
            }
            CTRL => {
                self.state.ctrl = v & 0x7f;
                let c = self.state.ctrl;
                // Interrupts whose enable is now clear stop being raised.
                let mut keep = 0;
                for (en, int) in [
                    (CTRL_TXINTEN, INT_TX),
                    (CTRL_RXINTEN, INT_RX),
                    (CTRL_TXOVINTEN, INT_TXOV),
                    (CTRL_RXOVINTEN, INT_RXOV),
                ] {
                    if c & en != 0 {
                        keep |= int;
                    }
                }
                self.state.intstatus &= keep;
                self.poll_backend();
            }
            INTSTATUS => self.state.intstatus &= !(v & 0xf),
            BAUDDIV => {
                self.state.bauddiv = v & 0xf_ffff;
                self.poll_backend();
            }
            PID..=0xffc => {}
            _ => return Err(DeviceError::BadOffset(offset)),
        }
        self.update(cx);
        Ok(())
    }

    fn reset(&mut self) {
        self.state = CmsdkUartState::default();
    }

    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        self.poll_backend();
        self.update(cx);
    }

    fn has_pending_input(&self) -> bool {
        self.state.state & STATE_RXFULL != 0 || self.backend.has_input()
    }

    fn fdt_node(&self) -> Option<FdtNode> {
        Some(FdtNode {
            name: "serial".into(),
            props: vec![("compatible".into(), FdtValue::Str("arm,cmsdk-uart".into()))],
            interrupt_controller: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::MachineEvent;

    fn uart() -> (
        Box<dyn Device>,
        CharBackend,
        std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    ) {
        let (backend, buf) = CharBackend::buffer();
        let mut cfg = DeviceConfig::default();
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
    fn transmits_only_when_enabled_with_a_valid_baud_rate() {
        let (mut u, _, out) = uart();
        let mut ev = Vec::new();
        u.write(DATA, 4, b'x' as u64, &mut cx(&mut ev)).unwrap();
        u.write(CTRL, 4, (CTRL_TXEN | CTRL_TXINTEN) as u64, &mut cx(&mut ev))
            .unwrap();
        u.write(DATA, 4, b'y' as u64, &mut cx(&mut ev)).unwrap();
        u.write(BAUDDIV, 4, 16, &mut cx(&mut ev)).unwrap();
        u.write(DATA, 4, b'z' as u64, &mut cx(&mut ev)).unwrap();
        assert_eq!(out.lock().unwrap().as_slice(), b"z");
        assert_eq!(
            u.read(INTSTATUS, 4, &mut cx(&mut ev)).unwrap(),
            INT_TX as u64
        );
        assert!(ev.contains(&MachineEvent::Irq {
            device: 0,
            out: 4,
            level: true
        }));
        u.write(INTSTATUS, 4, INT_TX as u64, &mut cx(&mut ev))
            .unwrap();
        assert_eq!(
            ev.last(),
            Some(&MachineEvent::Irq {
                device: 0,
                out: 4,
                level: false
            })
        );
        assert_eq!(u.read(0xfe0, 4, &mut cx(&mut ev)).unwrap(), 0x21);
    }

    #[test]
    fn receives_one_byte_at_a_time() {
        let (mut u, backend, _) = uart();
        let mut ev = Vec::new();
        backend.push_input(b"ab");
        u.write(BAUDDIV, 4, 16, &mut cx(&mut ev)).unwrap();
        u.write(CTRL, 4, (CTRL_RXEN | CTRL_RXINTEN) as u64, &mut cx(&mut ev))
            .unwrap();
        assert_eq!(
            u.read(STATE, 4, &mut cx(&mut ev)).unwrap() as u32,
            STATE_RXFULL
        );
        assert_eq!(u.read(DATA, 4, &mut cx(&mut ev)).unwrap(), b'a' as u64);
        assert_eq!(u.read(DATA, 4, &mut cx(&mut ev)).unwrap(), b'b' as u64);
        assert_eq!(u.read(STATE, 4, &mut cx(&mut ev)).unwrap(), 0);
        assert!(u.read(0x20, 4, &mut cx(&mut ev)).is_err());
    }
}
