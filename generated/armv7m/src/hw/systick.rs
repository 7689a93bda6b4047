//! The ARMv7-M SysTick timer (0xE000_E010-0xE000_E01F): a 24-bit down
//! counter clocked by the core clock (CSR.CLKSOURCE = 1) or the reference
//! clock, reloading from RVR when it reaches 0. Reaching 0 sets
//! CSR.COUNTFLAG and, with CSR.TICKINT, pulses output line 0, which the
//! machine wires to the NVIC's SysTick input (256 + 15).
//!
//! The counter is computed from virtual time (the device context's
//! `now_ns`), so reads are exact and runs deterministic; the device asks
//! for a tick at the next wrap.

use hemu_runtime::device::{Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, Properties};

const CSR: u64 = 0x0;
const RVR: u64 = 0x4;
const CVR: u64 = 0x8;
const CALIB: u64 = 0xc;

const ENABLE: u32 = 1 << 0;
const TICKINT: u32 = 1 << 1;
const CLKSOURCE: u32 = 1 << 2;
const COUNTFLAG: u32 = 1 << 16;
const MAX: u32 = 0x00ff_ffff;

/// Register state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysTickState {
    /// CSR without COUNTFLAG.
    pub csr: u32,
    /// Reload value.
    pub rvr: u32,
    /// COUNTFLAG (cleared by reading CSR or writing CVR).
    pub countflag: bool,
    /// While enabled: virtual time (ns) from which ticks are counted.
    pub t0: u64,
    /// Ticks from `t0` until the counter first reaches 0.
    pub start: u32,
    /// Times it reached 0 since `t0` that were already signalled.
    pub fired: u64,
    /// While stopped: the counter value.
    pub stopped: u32,
}

/// The device.
pub struct SysTick {
    st: SysTickState,
    cpu_hz: u64,
    ref_hz: u64,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "armv7m-systick",
    description: "ARMv7-M SysTick timer (0xE000E010)",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// frequency of the core clock (CSR.CLKSOURCE = 1), Hz
    #[prop(default = 12000000)]
    pub cpu_clock: u64,
    /// frequency of the reference clock (CLKSOURCE = 0), Hz; 0: none
    #[prop(default = 1000000)]
    pub ref_clock: u64,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    if c.cpu_clock == 0 || c.cpu_clock > 1_000_000_000 {
        return Err(format!("cpu-clock {} is out of range 1..1e9", c.cpu_clock));
    }
    if c.ref_clock > 1_000_000_000 {
        return Err(format!("ref-clock {} is out of range 0..1e9", c.ref_clock));
    }
    Ok(Box::new(SysTick {
        st: SysTickState::default(),
        cpu_hz: c.cpu_clock,
        ref_hz: c.ref_clock,
    }))
}

impl SysTick {
    fn hz(&self) -> u64 {
        if self.st.csr & CLKSOURCE != 0 || self.ref_hz == 0 {
            self.cpu_hz
        } else {
            self.ref_hz
        }
    }

    fn running(&self) -> bool {
        self.st.csr & ENABLE != 0
    }

    /// Ticks elapsed between `t0` and `now`.
    fn ticks(&self, now: u64) -> u64 {
        let ns = now.saturating_sub(self.st.t0) as u128;
        (ns * self.hz() as u128 / 1_000_000_000) as u64
    }

    /// The counter at `now`, and how many times it reached 0 since `t0`.
    fn counter(&self, now: u64) -> (u32, u64) {
        if !self.running() {
            return (self.st.stopped, 0);
        }
        let t = self.ticks(now);
        let start = self.st.start as u64;
        if t < start || start == 0 {
            return ((start.saturating_sub(t)) as u32, 0);
        }
        if self.st.rvr == 0 {
            // No reload: it stays at 0 after reaching it once.
            return (0, 1);
        }
        // Reaches 0 at tick `start`, reloads RVR on the next tick, and so
        // on every RVR + 1 ticks.
        let period = self.st.rvr as u64 + 1;
        let k = (t - start) % period;
        let v = if k == 0 { 0 } else { (period - k) as u32 };
        (v, 1 + (t - start) / period)
    }

    /// Virtual time at which tick `t` (counted from `t0`) happens.
    fn time_of(&self, t: u64) -> u64 {
        let hz = self.hz() as u128;
        let ns = (t as u128 * 1_000_000_000).div_ceil(hz);
        self.st.t0.saturating_add(ns.min(u64::MAX as u128) as u64)
    }

    /// Restart counting from value `v` at `now`.
    fn restart(&mut self, now: u64, v: u32) {
        self.st.t0 = now;
        self.st.fired = 0;
        // From 0, the first tick loads RVR.
        self.st.start = if v == 0 { self.st.rvr + 1 } else { v };
        if v == 0 && self.st.rvr == 0 {
            self.st.start = 0;
        }
    }

    /// Signal the times the counter reached 0 up to `now`.
    fn advance(&mut self, now: u64, cx: &mut DeviceCtx<'_>) {
        if !self.running() {
            return;
        }
        let (_, wraps) = self.counter(now);
        if wraps > self.st.fired {
            self.st.fired = wraps;
            self.st.countflag = true;
            if self.st.csr & TICKINT != 0 {
                cx.irq(0, true);
                cx.irq(0, false);
            }
        }
    }
}

impl Device for SysTick {
    fn mmio_size(&self) -> u64 {
        0x10
    }

    fn read(&mut self, offset: u64, size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        if size != 4 {
            return Err(DeviceError::BadSize(size));
        }
        let now = cx.now_ns;
        self.advance(now, cx);
        Ok(match offset {
            CSR => {
                let v = self.st.csr | if self.st.countflag { COUNTFLAG } else { 0 };
                self.st.countflag = false;
                v as u64
            }
            RVR => self.st.rvr as u64,
            CVR => self.counter(now).0 as u64,
            // NOREF when there is no reference clock; TENMS unknown.
            CALIB => {
                if self.ref_hz == 0 {
                    1 << 31
                } else {
                    0
                }
            }
            _ => return Err(DeviceError::BadOffset(offset)),
        })
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
        let now = cx.now_ns;
        self.advance(now, cx);
        let v = value as u32;
        match offset {
            CSR => {
                let (cur, _) = self.counter(now);
                let was = self.running();
                self.st.csr = v & (ENABLE | TICKINT | CLKSOURCE);
                match (was, self.running()) {
                    (false, true) => self.restart(now, cur),
                    (true, false) => self.st.stopped = cur,
                    // The clock source may have changed: count on from here.
                    (true, true) => self.restart(now, cur),
                    (false, false) => {}
                }
            }
            RVR => self.st.rvr = v & MAX,
            CVR => {
                // Any write clears the counter and COUNTFLAG.
                self.st.countflag = false;
                self.st.stopped = 0;
                if self.running() {
                    self.restart(now, 0);
                }
            }
            CALIB => {}
            _ => return Err(DeviceError::BadOffset(offset)),
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.st = SysTickState::default();
    }

    fn next_deadline(&self) -> Option<u64> {
        if !self.running() || self.st.start == 0 || (self.st.rvr == 0 && self.st.fired > 0) {
            return None;
        }
        // The next time the counter reaches 0.
        let period = self.st.rvr as u64 + 1;
        Some(self.time_of(self.st.start as u64 + self.st.fired * period))
    }

    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        let now = cx.now_ns;
        self.advance(now, cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::MachineEvent;

    fn dev() -> SysTick {
        SysTick {
            st: SysTickState::default(),
            cpu_hz: 1_000_000, // 1 tick per µs
            ref_hz: 0,
        }
    }

    fn at<R>(now: u64, f: impl FnOnce(&mut DeviceCtx<'_>) -> R) -> (R, Vec<MachineEvent>) {
        let mut events = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut events,
            device: 3,
            now_ns: now,
        };
        (f(&mut cx), events)
    }

    #[test]
    fn counts_down_reloads_and_interrupts() {
        let mut s = dev();
        at(0, |cx| {
            s.write(RVR, 4, 99, cx).unwrap();
            s.write(CVR, 4, 0, cx).unwrap();
            s.write(CSR, 4, (ENABLE | TICKINT | CLKSOURCE) as u64, cx)
                .unwrap();
        });
        // Loads 99 on the first tick, reaches 0 after 100 ticks (100 µs).
        assert_eq!(s.next_deadline(), Some(100_000));
        let (v, _) = at(40_000, |cx| s.read(CVR, 4, cx).unwrap());
        assert_eq!(v, 60);
        let (_, ev) = at(100_000, |cx| s.tick(cx));
        assert_eq!(
            ev,
            vec![
                MachineEvent::Irq {
                    device: 3,
                    out: 0,
                    level: true
                },
                MachineEvent::Irq {
                    device: 3,
                    out: 0,
                    level: false
                },
            ]
        );
        let (csr, _) = at(100_000, |cx| s.read(CSR, 4, cx).unwrap());
        assert_eq!(csr as u32 & COUNTFLAG, COUNTFLAG);
        let (csr, _) = at(100_000, |cx| s.read(CSR, 4, cx).unwrap());
        assert_eq!(csr as u32 & COUNTFLAG, 0, "COUNTFLAG clears on read");
        assert_eq!(s.next_deadline(), Some(200_000));
    }

    #[test]
    fn stopping_keeps_the_value() {
        let mut s = dev();
        at(0, |cx| {
            s.write(RVR, 4, 1000, cx).unwrap();
            s.write(CSR, 4, (ENABLE | CLKSOURCE) as u64, cx).unwrap();
        });
        at(10_000, |cx| s.write(CSR, 4, CLKSOURCE as u64, cx).unwrap());
        let (v, _) = at(50_000, |cx| s.read(CVR, 4, cx).unwrap());
        assert_eq!(v, 991);
        assert_eq!(s.next_deadline(), None);
    }
}
