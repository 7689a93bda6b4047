//! RISC-V CLINT / ACLINT (MSWI + MTIMER) in the `sifive,clint0` layout of
//! QEMU's virt board.
//!
//! `mtime` runs on virtual time: `mtime = now_ns * timebase / 1e9 + offset`,
//! where a guest write to `mtime` only changes the offset. For hart `k`,
//! output `2k` is its machine software interrupt (MSIP) and output `2k + 1`
//! its machine timer interrupt (MTIP, `mtime >= mtimecmp[k]`), which is
//! the order of QEMU's `interrupts-extended`.

use hemu_runtime::device::{
    Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue, Properties,
};
use serde::{Deserialize, Serialize};

// Register offsets.
/// `msip[hart]`, 4 bytes each (bit 0).
const MSIP_BASE: u64 = 0x0;
/// `mtimecmp[hart]`, 8 bytes each.
const MTIMECMP_BASE: u64 = 0x4000;
/// `mtime`, 8 bytes.
const MTIME: u64 = 0xbff8;
/// Size of the MMIO window.
const WINDOW: u64 = 0x10000;
/// Most harts the layout has room for (mtimecmp must end below mtime).
const MAX_HARTS: u64 = (MTIME - MTIMECMP_BASE) / 8;

/// Register state, for snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClintState {
    /// `msip` bit per hart.
    pub msip: Vec<bool>,
    /// `mtimecmp` per hart.
    pub mtimecmp: Vec<u64>,
    /// Added (wrapping) to the virtual-time tick count to give `mtime`.
    pub mtime_offset: u64,
    /// Current level of each hart's MTIP output.
    pub mtip: Vec<bool>,
    /// Virtual time (ns) of the last access or tick.
    pub last_now: u64,
}

/// The CLINT.
pub struct Aclint {
    state: ClintState,
    harts: usize,
    timebase: u64,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "aclint",
    description: "RISC-V CLINT/ACLINT: software interrupts and machine timer (sifive,clint0)",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// number of harts served (outputs 2k = MSIP, 2k+1 = MTIP of hart k)
    #[prop(default = 1, range = 1..=MAX_HARTS)]
    pub num_harts: u64,
    /// mtime ticks per second of virtual time
    #[prop(default = 10000000, range = 1..=u32::MAX)]
    pub timebase_frequency: u64,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    let harts = c.num_harts;
    if !(1..=MAX_HARTS).contains(&harts) {
        return Err(format!("num-harts {harts} is out of range 1..={MAX_HARTS}"));
    }
    let timebase = c.timebase_frequency;
    if !(1..=u32::MAX as u64).contains(&timebase) {
        return Err(format!(
            "timebase-frequency {timebase} is out of range 1..={}",
            u32::MAX
        ));
    }
    let mut c = Aclint {
        state: ClintState::default(),
        harts: harts as usize,
        timebase,
    };
    c.reset();
    Ok(Box::new(c))
}

/// Replace the 32-bit half of `old` at byte `offset` 0 or 4 (or all of it
/// for an 8-byte access).
fn deposit(old: u64, offset: u64, size: u8, value: u64) -> u64 {
    match (size, offset) {
        (8, _) => value,
        (_, 0) => (old & !0xffff_ffff) | (value & 0xffff_ffff),
        _ => (old & 0xffff_ffff) | (value << 32),
    }
}

impl Aclint {
    /// Ticks of the timebase at virtual time `now_ns`.
    fn ticks(&self, now_ns: u64) -> u64 {
        (now_ns as u128 * self.timebase as u128 / 1_000_000_000) as u64
    }

    /// `mtime` at virtual time `now_ns`.
    pub fn mtime(&self, now_ns: u64) -> u64 {
        self.ticks(now_ns).wrapping_add(self.state.mtime_offset)
    }

    /// The first virtual time (ns) from the last access on at which
    /// `mtime >= cmp`, if representable. Counted from `last_now`, so a
    /// guest that moved `mtime` backwards still gets a future deadline.
    fn crossing_ns(&self, cmp: u64) -> Option<u64> {
        let now = self.state.last_now;
        let cur = self.mtime(now);
        if cur >= cmp {
            return Some(now);
        }
        let need = self.ticks(now) as u128 + (cmp - cur) as u128;
        // Smallest t with floor(t * tb / 1e9) >= need.
        let t = (need * 1_000_000_000).div_ceil(self.timebase as u128);
        u64::try_from(t).ok()
    }

    fn update_mtip(&mut self, hart: usize, cx: &mut DeviceCtx<'_>) {
        self.state.last_now = cx.now_ns;
        let level = self.mtime(cx.now_ns) >= self.state.mtimecmp[hart];
        if level != self.state.mtip[hart] {
            self.state.mtip[hart] = level;
            cx.irq(2 * hart as u32 + 1, level);
        }
    }

    fn update_all(&mut self, cx: &mut DeviceCtx<'_>) {
        for h in 0..self.harts {
            self.update_mtip(h, cx);
        }
    }

    fn check_size(offset: u64, size: u8) -> Result<(), DeviceError> {
        if offset >= MTIMECMP_BASE {
            // mtimecmp and mtime: whole 64-bit or aligned 32-bit halves.
            match size {
                8 if offset & 7 == 0 => Ok(()),
                4 if offset & 3 == 0 => Ok(()),
                8 | 4 => Err(DeviceError::BadOffset(offset)),
                _ => Err(DeviceError::BadSize(size)),
            }
        } else {
            match size {
                4 if offset & 3 == 0 => Ok(()),
                4 => Err(DeviceError::BadOffset(offset)),
                _ => Err(DeviceError::BadSize(size)),
            }
        }
    }
}

impl Device for Aclint {
    fn mmio_size(&self) -> u64 {
        WINDOW
    }

    fn read(&mut self, offset: u64, size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        Self::check_size(offset, size)?;
        self.state.last_now = cx.now_ns;
        let (full, sub) = match offset {
            o if o >= MTIME => (self.mtime(cx.now_ns), o - MTIME),
            o if o >= MTIMECMP_BASE => {
                let hart = ((o - MTIMECMP_BASE) / 8) as usize;
                let v = self.state.mtimecmp.get(hart).copied().unwrap_or(0);
                (v, (o - MTIMECMP_BASE) % 8)
            }
            o => {
                let hart = ((o - MSIP_BASE) / 4) as usize;
                let v = self.state.msip.get(hart).copied().unwrap_or(false);
                return Ok(v as u64);
            }
        };
        Ok(match size {
            8 => full,
            _ => (full >> (sub * 8)) & 0xffff_ffff,
        })
    }

    fn write(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        Self::check_size(offset, size)?;
        self.state.last_now = cx.now_ns;
        match offset {
            o if o >= MTIME => {
                let now = self.mtime(cx.now_ns);
                let new = deposit(now, o - MTIME, size, value);
                self.state.mtime_offset = new.wrapping_sub(self.ticks(cx.now_ns));
                self.update_all(cx);
            }
            o if o >= MTIMECMP_BASE => {
                let hart = ((o - MTIMECMP_BASE) / 8) as usize;
                if hart < self.harts {
                    let old = self.state.mtimecmp[hart];
                    self.state.mtimecmp[hart] = deposit(old, (o - MTIMECMP_BASE) % 8, size, value);
                    self.update_mtip(hart, cx);
                }
            }
            o => {
                let hart = ((o - MSIP_BASE) / 4) as usize;
                if hart < self.harts {
                    let level = value & 1 != 0;
                    if level != self.state.msip[hart] {
                        self.state.msip[hart] = level;
                        cx.irq(2 * hart as u32, level);
                    }
                }
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.state = ClintState {
            msip: vec![false; self.harts],
            mtimecmp: vec![u64::MAX; self.harts],
            mtime_offset: 0,
            mtip: vec![false; self.harts],
            last_now: 0,
        };
    }

    fn next_deadline(&self) -> Option<u64> {
        (0..self.harts)
            .filter(|&h| !self.state.mtip[h])
            .filter_map(|h| self.crossing_ns(self.state.mtimecmp[h]))
            .min()
    }

    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        self.update_all(cx);
    }

    fn fdt_node(&self) -> Option<FdtNode> {
        Some(FdtNode {
            name: "clint".into(),
            props: vec![(
                "compatible".into(),
                FdtValue::Strs(vec!["sifive,clint0".into(), "riscv,clint0".into()]),
            )],
            interrupt_controller: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::{MachineEvent, PropValue};

    fn clint(harts: u64) -> Box<dyn Device> {
        let mut cfg = DeviceConfig::default();
        cfg.props.insert("num-harts".into(), PropValue::U64(harts));
        cfg.props
            .insert("timebase-frequency".into(), PropValue::U64(10_000_000));
        create(&cfg).unwrap()
    }

    fn irq(out: u32, level: bool) -> MachineEvent {
        MachineEvent::Irq {
            device: 0,
            out,
            level,
        }
    }

    fn cx(ev: &mut Vec<MachineEvent>, now_ns: u64) -> DeviceCtx<'_> {
        DeviceCtx {
            events: ev,
            device: 0,
            now_ns,
        }
    }

    #[test]
    fn mtime_follows_virtual_time_and_writes_set_an_offset() {
        let mut c = clint(1);
        let mut ev = Vec::new();
        // 10 MHz: one tick per 100 ns.
        assert_eq!(c.read(MTIME, 8, &mut cx(&mut ev, 1_000)).unwrap(), 10);
        c.write(MTIME, 8, 1_000, &mut cx(&mut ev, 1_000)).unwrap();
        assert_eq!(c.read(MTIME, 8, &mut cx(&mut ev, 2_000)).unwrap(), 1_010);
        // 32-bit halves.
        c.write(MTIME + 4, 4, 1, &mut cx(&mut ev, 2_000)).unwrap();
        assert_eq!(c.read(MTIME + 4, 4, &mut cx(&mut ev, 2_000)).unwrap(), 1);
        assert_eq!(c.read(MTIME, 4, &mut cx(&mut ev, 2_000)).unwrap(), 1_010);
        assert_eq!(
            c.read(MTIME, 8, &mut cx(&mut ev, 2_000)).unwrap(),
            (1 << 32) | 1_010
        );
    }

    #[test]
    fn mtimecmp_resets_to_all_ones_and_drives_mtip_with_deadlines() {
        let mut c = clint(2);
        let mut ev = Vec::new();
        assert_eq!(
            c.read(MTIMECMP_BASE, 8, &mut cx(&mut ev, 0)).unwrap(),
            u64::MAX
        );
        assert_eq!(c.next_deadline(), None);
        // Hart 1 fires at tick 50 = 5000 ns.
        c.write(MTIMECMP_BASE + 8, 8, 50, &mut cx(&mut ev, 0))
            .unwrap();
        assert!(ev.is_empty());
        assert_eq!(c.next_deadline(), Some(5_000));
        c.tick(&mut cx(&mut ev, 4_999));
        assert!(ev.is_empty());
        c.tick(&mut cx(&mut ev, 5_000));
        assert_eq!(ev, vec![irq(3, true)]);
        assert_eq!(
            c.next_deadline(),
            None,
            "a raised MTIP has no future deadline"
        );
        ev.clear();
        // Moving mtimecmp into the future lowers MTIP at once (32-bit halves).
        c.write(MTIMECMP_BASE + 8, 4, 100, &mut cx(&mut ev, 5_000))
            .unwrap();
        assert_eq!(ev, vec![irq(3, false)]);
        assert_eq!(c.next_deadline(), Some(10_000));
        ev.clear();
        // A deadline that is not a whole number of ns rounds up.
        c.write(MTIMECMP_BASE, 8, 7, &mut cx(&mut ev, 0)).unwrap();
        assert_eq!(c.next_deadline(), Some(700));
        // Writing mtime past mtimecmp raises both harts' MTIP.
        c.write(MTIME, 8, 1_000, &mut cx(&mut ev, 5_000)).unwrap();
        assert_eq!(ev, vec![irq(1, true), irq(3, true)]);
    }

    #[test]
    fn deadlines_stay_in_the_future_when_mtime_moves_backwards() {
        let mut c = clint(1);
        let mut ev = Vec::new();
        c.write(MTIME, 8, 0, &mut cx(&mut ev, 1_000_000)).unwrap();
        assert_eq!(c.next_deadline(), None, "mtimecmp all ones: never");
        c.write(MTIMECMP_BASE, 8, 10, &mut cx(&mut ev, 1_000_000))
            .unwrap();
        assert_eq!(c.next_deadline(), Some(1_001_000));
        c.tick(&mut cx(&mut ev, 1_001_000));
        assert_eq!(ev, vec![irq(1, true)]);
    }

    #[test]
    fn msip_raises_and_lowers_software_interrupts() {
        let mut c = clint(2);
        let mut ev = Vec::new();
        c.write(MSIP_BASE + 4, 4, 1, &mut cx(&mut ev, 0)).unwrap();
        assert_eq!(c.read(MSIP_BASE + 4, 4, &mut cx(&mut ev, 0)).unwrap(), 1);
        c.write(MSIP_BASE + 4, 4, 3, &mut cx(&mut ev, 0)).unwrap(); // no change
        c.write(MSIP_BASE + 4, 4, 0, &mut cx(&mut ev, 0)).unwrap();
        assert_eq!(ev, vec![irq(2, true), irq(2, false)]);
        assert_eq!(c.read(MSIP_BASE, 4, &mut cx(&mut ev, 0)).unwrap(), 0);
        // Harts beyond num-harts read as zero and ignore writes.
        ev.clear();
        c.write(MSIP_BASE + 8, 4, 1, &mut cx(&mut ev, 0)).unwrap();
        assert!(ev.is_empty());
    }

    #[test]
    fn bad_sizes_fault_and_reset_restores_power_on_state() {
        let mut c = clint(1);
        let mut ev = Vec::new();
        assert!(c.read(MSIP_BASE, 1, &mut cx(&mut ev, 0)).is_err());
        assert!(c.read(MSIP_BASE, 8, &mut cx(&mut ev, 0)).is_err());
        assert!(c.read(MTIMECMP_BASE + 4, 8, &mut cx(&mut ev, 0)).is_err());
        c.write(MTIMECMP_BASE, 8, 1, &mut cx(&mut ev, 0)).unwrap();
        c.reset();
        assert_eq!(
            c.read(MTIMECMP_BASE, 8, &mut cx(&mut ev, 0)).unwrap(),
            u64::MAX
        );
        let mut cfg = DeviceConfig::default();
        cfg.props.insert("num-harts".into(), PropValue::U64(0));
        cfg.props
            .insert("timebase-frequency".into(), PropValue::U64(1));
        assert!(create(&cfg).is_err());
    }
}
