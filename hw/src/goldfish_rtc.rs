//! Goldfish RTC (Google's Android-emulator real-time clock, as on QEMU's
//! virt board): a 64-bit nanosecond clock and one alarm.
//!
//! Time in ns = `start-time` + virtual time + the offset guest writes to
//! TIME_LOW/TIME_HIGH set. With `start-time` 0 the clock starts at the
//! host's wall-clock time when the device is created; give a value for
//! runs that must be reproducible. Reading TIME_LOW latches the high half
//! for the next TIME_HIGH read. Output IRQ 0 is `alarm fired && enabled`.

use hemu_runtime::device::{
    Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue, Properties,
};
use serde::{Deserialize, Serialize};

// Register offsets.
const TIME_LOW: u64 = 0x00;
const TIME_HIGH: u64 = 0x04;
const ALARM_LOW: u64 = 0x08;
const ALARM_HIGH: u64 = 0x0c;
const IRQ_ENABLED: u64 = 0x10;
const CLEAR_ALARM: u64 = 0x14;
const ALARM_STATUS: u64 = 0x18;
const CLEAR_INTERRUPT: u64 = 0x1c;

/// Register state, for snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtcState {
    /// Added (wrapping) to `start + now_ns` by guest writes of the time.
    pub offset: u64,
    /// TIME_HIGH as latched by the last TIME_LOW read.
    pub time_high: u32,
    /// Alarm time (ns since the epoch).
    pub alarm_next: u64,
    /// The alarm is armed.
    pub alarm_running: bool,
    /// The alarm fired and has not been acknowledged.
    pub irq_pending: bool,
    /// IRQ_ENABLED.
    pub irq_enabled: bool,
    /// Current level of the interrupt output.
    pub irq: bool,
    /// Virtual time (ns) of the last access or tick.
    pub last_now: u64,
}

/// The RTC.
pub struct GoldfishRtc {
    state: RtcState,
    start_ns: u64,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "goldfish_rtc",
    description: "Goldfish real-time clock with alarm (google,goldfish-rtc)",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// time at power-on in ns since the Unix epoch (0: host wall clock at creation)
    #[prop(default = 0)]
    pub start_time: u64,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let start_ns = match Config::from_config(cfg).start_time {
        0 => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
        t => t,
    };
    Ok(Box::new(GoldfishRtc {
        state: RtcState::default(),
        start_ns,
    }))
}

impl GoldfishRtc {
    /// The clock at virtual time `now_ns`.
    fn time(&self, now_ns: u64) -> u64 {
        self.start_ns
            .wrapping_add(now_ns)
            .wrapping_add(self.state.offset)
    }

    fn set_time(&mut self, now_ns: u64, t: u64) {
        self.state.offset = t.wrapping_sub(self.start_ns.wrapping_add(now_ns));
    }

    fn update_irq(&mut self, cx: &mut DeviceCtx<'_>) {
        let level = self.state.irq_pending && self.state.irq_enabled;
        if level != self.state.irq {
            self.state.irq = level;
            cx.irq(0, level);
        }
    }

    /// Fire the alarm if it is armed and due.
    fn check_alarm(&mut self, cx: &mut DeviceCtx<'_>) {
        self.state.last_now = cx.now_ns;
        if self.state.alarm_running && self.time(cx.now_ns) >= self.state.alarm_next {
            self.state.alarm_running = false;
            self.state.irq_pending = true;
        }
        self.update_irq(cx);
    }
}

impl Device for GoldfishRtc {
    fn mmio_size(&self) -> u64 {
        0x1000
    }

    fn read(&mut self, offset: u64, size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        if size != 4 {
            return Err(DeviceError::BadSize(size));
        }
        let s = &self.state;
        let v = match offset {
            TIME_LOW => {
                let t = self.time(cx.now_ns);
                self.state.time_high = (t >> 32) as u32;
                t as u32
            }
            TIME_HIGH => s.time_high,
            ALARM_LOW => s.alarm_next as u32,
            ALARM_HIGH => (s.alarm_next >> 32) as u32,
            IRQ_ENABLED => s.irq_enabled as u32,
            ALARM_STATUS => s.alarm_running as u32,
            CLEAR_ALARM | CLEAR_INTERRUPT => 0,
            _ => return Err(DeviceError::BadOffset(offset)),
        };
        Ok(v as u64)
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
        let v = value & 0xffff_ffff;
        match offset {
            TIME_LOW => {
                let t = self.time(cx.now_ns);
                self.set_time(cx.now_ns, (t & !0xffff_ffff) | v);
            }
            TIME_HIGH => {
                let t = self.time(cx.now_ns);
                self.set_time(cx.now_ns, (t & 0xffff_ffff) | (v << 32));
            }
            ALARM_LOW => {
                // Writing the low half arms the alarm (Linux writes HIGH first).
                self.state.alarm_next = (self.state.alarm_next & !0xffff_ffff) | v;
                self.state.alarm_running = true;
            }
            ALARM_HIGH => self.state.alarm_next = (self.state.alarm_next & 0xffff_ffff) | (v << 32),
            IRQ_ENABLED => self.state.irq_enabled = v & 1 != 0,
            CLEAR_ALARM => self.state.alarm_running = false,
            CLEAR_INTERRUPT => self.state.irq_pending = false,
            ALARM_STATUS => {}
            _ => return Err(DeviceError::BadOffset(offset)),
        }
        self.check_alarm(cx);
        Ok(())
    }

    fn reset(&mut self) {
        // The clock keeps running across a reset, as QEMU's does.
        self.state = RtcState {
            offset: self.state.offset,
            last_now: self.state.last_now,
            ..RtcState::default()
        };
    }

    fn next_deadline(&self) -> Option<u64> {
        if !self.state.alarm_running {
            return None;
        }
        // Virtual time at which time() reaches alarm_next, counted from
        // the last access (already due: then).
        let now = self.state.last_now;
        let t = self.time(now);
        match self.state.alarm_next.checked_sub(t) {
            Some(d) => now.checked_add(d),
            None => Some(now),
        }
    }

    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        self.check_alarm(cx);
    }

    fn fdt_node(&self) -> Option<FdtNode> {
        Some(FdtNode {
            name: "rtc".into(),
            props: vec![(
                "compatible".into(),
                FdtValue::Str("google,goldfish-rtc".into()),
            )],
            interrupt_controller: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::{MachineEvent, PropValue};

    const START: u64 = 0x1_2345_6789;

    fn rtc() -> Box<dyn Device> {
        let mut cfg = DeviceConfig::default();
        cfg.props.insert("start-time".into(), PropValue::U64(START));
        create(&cfg).unwrap()
    }

    fn cx(ev: &mut Vec<MachineEvent>, now_ns: u64) -> DeviceCtx<'_> {
        DeviceCtx {
            events: ev,
            device: 0,
            now_ns,
        }
    }

    fn irq(level: bool) -> MachineEvent {
        MachineEvent::Irq {
            device: 0,
            out: 0,
            level,
        }
    }

    #[test]
    fn time_low_latches_time_high() {
        let mut r = rtc();
        let mut ev = Vec::new();
        let t = START + 100;
        assert_eq!(
            r.read(TIME_LOW, 4, &mut cx(&mut ev, 100)).unwrap(),
            t & 0xffff_ffff
        );
        // Time moves past a carry into the high half; the latch holds.
        let later = (1u64 << 33) - START + 5;
        assert_eq!(r.read(TIME_HIGH, 4, &mut cx(&mut ev, later)).unwrap(), 1);
        assert_eq!(r.read(TIME_LOW, 4, &mut cx(&mut ev, later)).unwrap(), 5);
        assert_eq!(r.read(TIME_HIGH, 4, &mut cx(&mut ev, later)).unwrap(), 2);
        // Setting the time.
        r.write(TIME_HIGH, 4, 7, &mut cx(&mut ev, 0)).unwrap();
        r.write(TIME_LOW, 4, 9, &mut cx(&mut ev, 0)).unwrap();
        assert_eq!(r.read(TIME_LOW, 4, &mut cx(&mut ev, 10)).unwrap(), 19);
        assert_eq!(r.read(TIME_HIGH, 4, &mut cx(&mut ev, 10)).unwrap(), 7);
        assert!(r.read(TIME_LOW, 8, &mut cx(&mut ev, 0)).is_err());
        assert!(r.read(0x20, 4, &mut cx(&mut ev, 0)).is_err());
        assert!(ev.is_empty());
    }

    #[test]
    fn alarm_fires_at_its_deadline_and_interrupts_when_enabled() {
        let mut r = rtc();
        let mut ev = Vec::new();
        assert_eq!(r.next_deadline(), None);
        let at = START + 5_000;
        r.write(IRQ_ENABLED, 4, 1, &mut cx(&mut ev, 0)).unwrap();
        r.write(ALARM_HIGH, 4, at >> 32, &mut cx(&mut ev, 0))
            .unwrap();
        r.write(ALARM_LOW, 4, at & 0xffff_ffff, &mut cx(&mut ev, 0))
            .unwrap();
        assert_eq!(r.read(ALARM_STATUS, 4, &mut cx(&mut ev, 0)).unwrap(), 1);
        assert_eq!(
            r.read(ALARM_LOW, 4, &mut cx(&mut ev, 0)).unwrap(),
            at & 0xffff_ffff
        );
        assert_eq!(r.next_deadline(), Some(5_000));
        r.tick(&mut cx(&mut ev, 4_999));
        assert!(ev.is_empty());
        r.tick(&mut cx(&mut ev, 5_000));
        assert_eq!(ev, vec![irq(true)]);
        assert_eq!(r.read(ALARM_STATUS, 4, &mut cx(&mut ev, 0)).unwrap(), 0);
        assert_eq!(r.next_deadline(), None);
        r.write(CLEAR_INTERRUPT, 4, 1, &mut cx(&mut ev, 5_000))
            .unwrap();
        assert_eq!(ev, vec![irq(true), irq(false)]);
        ev.clear();
        // An alarm in the past fires at once; disabled, it stays pending
        // without raising the line until enabled.
        r.write(IRQ_ENABLED, 4, 0, &mut cx(&mut ev, 6_000)).unwrap();
        r.write(ALARM_LOW, 4, at & 0xffff_ffff, &mut cx(&mut ev, 6_000))
            .unwrap();
        assert!(ev.is_empty());
        r.write(IRQ_ENABLED, 4, 1, &mut cx(&mut ev, 6_000)).unwrap();
        assert_eq!(ev, vec![irq(true)]);
        ev.clear();
        // CLEAR_ALARM disarms.
        r.write(CLEAR_INTERRUPT, 4, 1, &mut cx(&mut ev, 6_000))
            .unwrap();
        r.write(
            ALARM_LOW,
            4,
            (at + 10_000) & 0xffff_ffff,
            &mut cx(&mut ev, 6_000),
        )
        .unwrap();
        r.write(CLEAR_ALARM, 4, 1, &mut cx(&mut ev, 6_000)).unwrap();
        assert_eq!(r.next_deadline(), None);
        r.tick(&mut cx(&mut ev, 100_000));
        assert_eq!(ev, vec![irq(false)]);
    }
}
