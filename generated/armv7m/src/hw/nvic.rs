//! The Nested Vectored Interrupt Controller with the System Control Block:
//! the part of the System Control Space (0xE000_E100-0xE000_EFFF) that
//! holds the M-profile exception state — pending, active, enabled and
//! priority of every exception, the vector table offset, the fault status
//! registers, CCR, CPACR and the FP context control.
//!
//! It is a device of this ISA's crate. It reaches the core through its IRQ
//! outputs only: line 0 ("exc") is high while a pending exception can
//! preempt the current execution priority, line 1 ("wake") while one would
//! if PRIMASK were clear (WFI wakes on it). The core reaches it as the
//! device mapped at its architectural address ([`NVIC_BASE`]) in the
//! core's own address space, and calls it there (acknowledge, complete,
//! synchronous faults, its mask registers): ARMv7-M makes the two one
//! piece of the architecture, as QEMU's armv7m NVIC and CPU are.
//!
//! Input lines: 0..num-irq are the external interrupts (level-sensitive,
//! as QEMU's); 256 + n pends system exception n on a rising edge (NMI:
//! 258, SysTick: 271). The Interrupt Controller Type Register (0xE000_E004)
//! is outside the window and is not modelled.

use hemu_runtime::device::{
    Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue, Properties,
};

/// Where the core looks for its NVIC (the window starts at ISER0).
pub const NVIC_BASE: u64 = 0xe000_e100;

// Offsets in the window (architectural address - NVIC_BASE).
const ISER: u64 = 0x000;
const ICER: u64 = 0x080;
const ISPR: u64 = 0x100;
const ICPR: u64 = 0x180;
const IABR: u64 = 0x200;
const IPR: u64 = 0x300;
const IPR_END: u64 = 0x3f0;
const CPUID: u64 = 0xc00;
const ICSR: u64 = 0xc04;
const VTOR: u64 = 0xc08;
const AIRCR: u64 = 0xc0c;
const SCR: u64 = 0xc10;
const CCR: u64 = 0xc14;
const SHPR: u64 = 0xc18;
const SHPR_END: u64 = 0xc24;
const SHCSR: u64 = 0xc24;
const CFSR: u64 = 0xc28;
const HFSR: u64 = 0xc2c;
const DFSR: u64 = 0xc30;
const MMFAR: u64 = 0xc34;
const BFAR: u64 = 0xc38;
const AFSR: u64 = 0xc3c;
const ID_START: u64 = 0xc40;
const ID_END: u64 = 0xc80;
const CPACR: u64 = 0xc88;
const MPU_START: u64 = 0xc90;
const MPU_END: u64 = 0xcc0;
const STIR: u64 = 0xe00;
const FPCCR: u64 = 0xe34;
const FPCAR: u64 = 0xe38;
const FPDSCR: u64 = 0xe3c;
const WINDOW: u64 = 0xf00;

/// Exception numbers.
pub mod exc {
    /// Reset.
    pub const RESET: u32 = 1;
    /// Non-maskable interrupt.
    pub const NMI: u32 = 2;
    /// HardFault.
    pub const HARDFAULT: u32 = 3;
    /// MemManage.
    pub const MEMMANAGE: u32 = 4;
    /// BusFault.
    pub const BUSFAULT: u32 = 5;
    /// UsageFault.
    pub const USAGEFAULT: u32 = 6;
    /// SVCall.
    pub const SVCALL: u32 = 11;
    /// DebugMonitor.
    pub const DEBUGMONITOR: u32 = 12;
    /// PendSV.
    pub const PENDSV: u32 = 14;
    /// SysTick.
    pub const SYSTICK: u32 = 15;
    /// The first external interrupt.
    pub const IRQ0: u32 = 16;
}

/// Input line numbers at and above this pend system exception `line - 256`.
pub const SYSTEM_INPUTS: u32 = 256;

// HFSR bits.
const HFSR_VECTTBL: u32 = 1 << 1;
const HFSR_FORCED: u32 = 1 << 30;
const HFSR_DEBUGEVT: u32 = 1 << 31;
// DFSR: BKPT.
const DFSR_BKPT: u32 = 1 << 1;
// CFSR address-valid bits.
const MMARVALID: u32 = 1 << 7;
const BFARVALID: u32 = 1 << 15;
/// CCR reset value: STKALIGN (QEMU's for ARMv7-M).
const CCR_RESET: u32 = 1 << 9;
const CCR_WRITABLE: u32 = 0x31b;
/// CCR.DIV_0_TRP.
pub const CCR_DIV_0_TRP: u32 = 1 << 4;
/// CCR.STKALIGN.
pub const CCR_STKALIGN: u32 = 1 << 9;
/// FPCCR reset value: ASPEN | LSPEN.
const FPCCR_RESET: u32 = 0xc000_0000;

/// The core a NVIC belongs to (CPUID, FPU registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Core {
    /// Cortex-M3 (no FPU: CPACR and the FP registers read as zero).
    M3,
    /// Cortex-M4 with FPU.
    M4,
}

/// A synchronous exception the core raises, with its fault status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncFault {
    /// Exception number (MemManage, BusFault, UsageFault, SVCall,
    /// DebugMonitor, HardFault).
    pub exc: u32,
    /// Bits to set in CFSR.
    pub cfsr: u32,
    /// Faulting address for MMFAR/BFAR (with MMARVALID/BFARVALID in `cfsr`).
    pub addr: u32,
    /// Bits to set in HFSR when it is HardFault directly (VECTTBL).
    pub hfsr: u32,
}

/// HardFault cannot be taken: the core locks up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lockup;

/// The controller's registers and exception state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvicState {
    /// Per exception number: pending.
    pub pending: Vec<bool>,
    /// Per exception number: active.
    pub active: Vec<bool>,
    /// External interrupts: enabled (ISER).
    pub enabled: Vec<bool>,
    /// Per exception number: priority (8 bits; system handlers 4-15 and
    /// external interrupts).
    pub prio: Vec<u8>,
    /// External interrupt input levels.
    pub level: Vec<bool>,
    /// Vector table offset.
    pub vtor: u32,
    /// AIRCR.PRIGROUP.
    pub prigroup: u32,
    /// System control.
    pub scr: u32,
    /// Configuration and control.
    pub ccr: u32,
    /// SHCSR enable bits (MEMFAULTENA, BUSFAULTENA, USGFAULTENA).
    pub shcsr_ena: u32,
    /// Configurable fault status.
    pub cfsr: u32,
    /// HardFault status.
    pub hfsr: u32,
    /// Debug fault status.
    pub dfsr: u32,
    /// MemManage fault address.
    pub mmfar: u32,
    /// BusFault address.
    pub bfar: u32,
    /// Auxiliary fault status.
    pub afsr: u32,
    /// Coprocessor access control.
    pub cpacr: u32,
    /// FP context control.
    pub fpccr: u32,
    /// FP context address.
    pub fpcar: u32,
    /// FP default status control.
    pub fpdscr: u32,
    /// The core's PRIMASK, FAULTMASK, BASEPRI and IPSR (pushed by it).
    pub primask: bool,
    /// FAULTMASK.
    pub faultmask: bool,
    /// BASEPRI.
    pub basepri: u8,
    /// The exception the core is in (0: Thread mode).
    pub ipsr: u32,
    /// Current levels of the outputs (exc, wake).
    pub out: [bool; 2],
}

/// The device.
pub struct Nvic {
    st: NvicState,
    num_irq: u32,
    core: Core,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "armv7m-nvic",
    description: "ARMv7-M NVIC and System Control Block (0xE000E100-0xE000EFFF)",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// number of external interrupt lines (0-240)
    #[prop(default = 64)]
    pub num_irq: u64,
    /// core: cortex-m3 or cortex-m4 (CPUID, FPU registers)
    #[prop(default = "cortex-m3")]
    pub cpu: String,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    if c.num_irq > 240 {
        return Err(format!("num-irq {} is more than 240", c.num_irq));
    }
    let core = match c.cpu.as_str() {
        "cortex-m3" => Core::M3,
        "cortex-m4" => Core::M4,
        other => return Err(format!("cpu '{other}' is not cortex-m3 or cortex-m4")),
    };
    Ok(Box::new(Nvic::new(c.num_irq as u32, core)))
}

impl Nvic {
    /// A NVIC with `num_irq` external interrupts, in its reset state.
    pub fn new(num_irq: u32, core: Core) -> Nvic {
        let n = (exc::IRQ0 + num_irq) as usize;
        Nvic {
            st: NvicState {
                pending: vec![false; n],
                active: vec![false; n],
                enabled: vec![false; num_irq as usize],
                prio: vec![0; n],
                level: vec![false; num_irq as usize],
                vtor: 0,
                prigroup: 0,
                scr: 0,
                ccr: CCR_RESET,
                shcsr_ena: 0,
                cfsr: 0,
                hfsr: 0,
                dfsr: 0,
                mmfar: 0,
                bfar: 0,
                afsr: 0,
                cpacr: 0,
                fpccr: if core == Core::M4 { FPCCR_RESET } else { 0 },
                fpcar: 0,
                fpdscr: 0,
                primask: false,
                faultmask: false,
                basepri: 0,
                ipsr: 0,
                out: [false; 2],
            },
            num_irq,
            core,
        }
    }

    /// The registers and state, for inspection.
    pub fn state(&self) -> &NvicState {
        &self.st
    }

    fn nexc(&self) -> u32 {
        exc::IRQ0 + self.num_irq
    }

    /// The (full) priority of exception `n`: Reset -3, NMI -2,
    /// HardFault -1, the others as programmed.
    pub fn priority(&self, n: u32) -> i32 {
        match n {
            exc::RESET => -3,
            exc::NMI => -2,
            exc::HARDFAULT => -1,
            _ => self.st.prio.get(n as usize).copied().unwrap_or(0) as i32,
        }
    }

    /// Group priority: the priority without its subpriority bits.
    fn group(&self, p: i32) -> i32 {
        if p < 0 {
            return p;
        }
        let sub = (2u32 << self.st.prigroup) - 1;
        p & !(sub as i32)
    }

    /// The execution priority (B1.5.4), with or without PRIMASK.
    fn exec_priority_with(&self, primask: bool) -> i32 {
        let mut high = 256;
        for n in 1..self.nexc() {
            if self.st.active[n as usize] {
                high = high.min(self.group(self.priority(n)));
            }
        }
        let mut boosted = 256;
        if self.st.basepri != 0 {
            boosted = self.group(self.st.basepri as i32);
        }
        if primask {
            boosted = 0;
        }
        if self.st.faultmask {
            boosted = -1;
        }
        high.min(boosted)
    }

    /// The current execution priority.
    pub fn exec_priority(&self) -> i32 {
        self.exec_priority_with(self.st.primask)
    }

    fn eligible(&self, n: u32) -> bool {
        self.st.pending[n as usize] && (n < exc::IRQ0 || self.st.enabled[(n - exc::IRQ0) as usize])
    }

    /// The highest-priority pending exception that is enabled: lowest group
    /// priority, then lowest priority, then lowest number.
    pub fn best_pending(&self) -> Option<u32> {
        (1..self.nexc())
            .filter(|&n| self.eligible(n))
            .min_by_key(|&n| (self.group(self.priority(n)), self.priority(n), n))
    }

    fn can_preempt(&self, primask: bool) -> bool {
        self.best_pending()
            .is_some_and(|n| self.group(self.priority(n)) < self.exec_priority_with(primask))
    }

    /// Recompute the outputs and signal changes.
    fn update(&mut self, cx: &mut DeviceCtx<'_>) {
        let out = [self.can_preempt(self.st.primask), self.can_preempt(false)];
        for (i, level) in out.iter().enumerate() {
            if *level != self.st.out[i] {
                self.st.out[i] = *level;
                cx.irq(i as u32, *level);
            }
        }
    }

    /// The core's mask registers and IPSR changed.
    pub fn set_core_state(
        &mut self,
        primask: bool,
        faultmask: bool,
        basepri: u8,
        ipsr: u32,
        cx: &mut DeviceCtx<'_>,
    ) {
        self.st.primask = primask;
        self.st.faultmask = faultmask;
        self.st.basepri = basepri;
        self.st.ipsr = ipsr;
        self.update(cx);
    }

    /// Can a pending exception preempt now (the "exc" output)?
    pub fn exception_request(&self) -> bool {
        self.st.out[0]
    }

    /// Take the highest-priority pending exception if it can preempt:
    /// it becomes active and no longer pending.
    pub fn acknowledge(&mut self, cx: &mut DeviceCtx<'_>) -> Option<u32> {
        if !self.can_preempt(self.st.primask) {
            return None;
        }
        let n = self.best_pending()?;
        self.st.pending[n as usize] = false;
        self.st.active[n as usize] = true;
        self.update(cx);
        Some(n)
    }

    /// Exception `n` returns: false if it was not active (the core raises
    /// INVPC). A level-sensitive interrupt still asserted pends again.
    pub fn complete(&mut self, n: u32, cx: &mut DeviceCtx<'_>) -> bool {
        let Some(a) = self.st.active.get_mut(n as usize) else {
            return false;
        };
        if !*a {
            return false;
        }
        *a = false;
        if n >= exc::IRQ0 && self.st.level[(n - exc::IRQ0) as usize] {
            self.st.pending[n as usize] = true;
        }
        self.update(cx);
        true
    }

    /// Number of active exceptions.
    pub fn active_count(&self) -> usize {
        self.st.active.iter().filter(|a| **a).count()
    }

    /// Is exception `n` active?
    pub fn is_active(&self, n: u32) -> bool {
        self.st.active.get(n as usize).copied().unwrap_or(false)
    }

    /// Pend a synchronous exception, escalating to HardFault when it is
    /// disabled or cannot preempt (B1.5.15); `Lockup` when HardFault
    /// itself cannot be taken.
    pub fn pend_sync(&mut self, f: SyncFault, cx: &mut DeviceCtx<'_>) -> Result<(), Lockup> {
        self.st.cfsr |= f.cfsr;
        if f.cfsr & MMARVALID != 0 {
            self.st.mmfar = f.addr;
        }
        if f.cfsr & BFARVALID != 0 {
            self.st.bfar = f.addr;
        }
        let exec = self.exec_priority();
        let mut n = f.exc;
        let enabled = match n {
            exc::MEMMANAGE => self.st.shcsr_ena & (1 << 16) != 0,
            exc::BUSFAULT => self.st.shcsr_ena & (1 << 17) != 0,
            exc::USAGEFAULT => self.st.shcsr_ena & (1 << 18) != 0,
            // DebugMonitor is disabled (DEMCR.MON_EN is not modelled):
            // a BKPT is a debug event that escalates.
            exc::DEBUGMONITOR => {
                self.st.dfsr |= DFSR_BKPT;
                self.st.hfsr |= HFSR_DEBUGEVT;
                false
            }
            _ => true,
        };
        if n != exc::HARDFAULT && (!enabled || self.group(self.priority(n)) >= exec) {
            if n != exc::DEBUGMONITOR {
                self.st.hfsr |= HFSR_FORCED;
            }
            n = exc::HARDFAULT;
        } else if n == exc::HARDFAULT {
            self.st.hfsr |= f.hfsr;
        }
        if n == exc::HARDFAULT && exec <= -1 {
            return Err(Lockup);
        }
        self.st.pending[n as usize] = true;
        self.update(cx);
        Ok(())
    }

    /// A vector table read failed during entry: HardFault (VECTTBL).
    pub fn vector_fault(&mut self, cx: &mut DeviceCtx<'_>) -> Result<(), Lockup> {
        self.pend_sync(
            SyncFault {
                exc: exc::HARDFAULT,
                cfsr: 0,
                addr: 0,
                hfsr: HFSR_VECTTBL,
            },
            cx,
        )
    }

    /// Vector table offset.
    pub fn vtor(&self) -> u32 {
        self.st.vtor
    }

    /// CCR.
    pub fn ccr(&self) -> u32 {
        self.st.ccr
    }

    /// CPACR (0 without an FPU).
    pub fn cpacr(&self) -> u32 {
        self.st.cpacr
    }

    /// FPCCR.
    pub fn fpccr(&self) -> u32 {
        self.st.fpccr
    }

    /// Record where a lazily preserved FP context lives (FPCAR, FPCCR).
    pub fn set_fp_context(&mut self, fpccr: u32, fpcar: u32) {
        self.st.fpccr = fpccr;
        self.st.fpcar = fpcar;
    }

    /// FPDSCR (the default FPSCR of a new FP context).
    pub fn fpdscr(&self) -> u32 {
        self.st.fpdscr
    }

    fn set_pending(&mut self, n: u32, on: bool) {
        if let Some(p) = self.st.pending.get_mut(n as usize) {
            *p = on;
        }
    }

    fn bitmap(&self, v: &[bool], word: u64) -> u32 {
        (0..32).fold(0, |acc, i| {
            let n = word as usize * 32 + i;
            if v.get(n).copied().unwrap_or(false) {
                acc | 1 << i
            } else {
                acc
            }
        })
    }

    fn icsr(&self) -> u32 {
        let s = &self.st;
        let mut v = s.ipsr & 0x1ff;
        let others = (1..self.nexc()).filter(|&n| s.active[n as usize] && n != s.ipsr);
        if others.count() == 0 {
            v |= 1 << 11; // RETTOBASE
        }
        if let Some(p) = self.best_pending() {
            v |= (p & 0x1ff) << 12;
        }
        if (exc::IRQ0..self.nexc()).any(|n| s.pending[n as usize]) {
            v |= 1 << 22; // ISRPENDING
        }
        if s.pending[exc::SYSTICK as usize] {
            v |= 1 << 26;
        }
        if s.pending[exc::PENDSV as usize] {
            v |= 1 << 28;
        }
        if s.pending[exc::NMI as usize] {
            v |= 1 << 31;
        }
        v
    }

    fn shcsr(&self) -> u32 {
        let s = &self.st;
        let bit = |n: u32, on: bool| if on { 1 << n } else { 0 };
        s.shcsr_ena
            | bit(0, s.active[exc::MEMMANAGE as usize])
            | bit(1, s.active[exc::BUSFAULT as usize])
            | bit(3, s.active[exc::USAGEFAULT as usize])
            | bit(7, s.active[exc::SVCALL as usize])
            | bit(8, s.active[exc::DEBUGMONITOR as usize])
            | bit(10, s.active[exc::PENDSV as usize])
            | bit(11, s.active[exc::SYSTICK as usize])
            | bit(12, s.pending[exc::USAGEFAULT as usize])
            | bit(13, s.pending[exc::MEMMANAGE as usize])
            | bit(14, s.pending[exc::BUSFAULT as usize])
            | bit(15, s.pending[exc::SVCALL as usize])
    }

    fn write_shcsr(&mut self, v: u32) {
        let s = &mut self.st;
        s.shcsr_ena = v & (7 << 16);
        for (bit, n, active) in [
            (0, exc::MEMMANAGE, true),
            (1, exc::BUSFAULT, true),
            (3, exc::USAGEFAULT, true),
            (7, exc::SVCALL, true),
            (8, exc::DEBUGMONITOR, true),
            (10, exc::PENDSV, true),
            (11, exc::SYSTICK, true),
            (12, exc::USAGEFAULT, false),
            (13, exc::MEMMANAGE, false),
            (14, exc::BUSFAULT, false),
            (15, exc::SVCALL, false),
        ] {
            let on = v >> bit & 1 != 0;
            if active {
                s.active[n as usize] = on;
            } else {
                s.pending[n as usize] = on;
            }
        }
    }

    /// A 32-bit register at word offset `off`.
    fn read_word(&self, off: u64) -> Result<u32, DeviceError> {
        let s = &self.st;
        let m4 = self.core == Core::M4;
        Ok(match off {
            ISER..=0x03c => self.bitmap(&s.enabled, (off - ISER) / 4),
            ICER..=0x0bc => self.bitmap(&s.enabled, (off - ICER) / 4),
            ISPR..=0x13c => self.bitmap(&s.pending[exc::IRQ0 as usize..], (off - ISPR) / 4),
            ICPR..=0x1bc => self.bitmap(&s.pending[exc::IRQ0 as usize..], (off - ICPR) / 4),
            IABR..=0x23c => self.bitmap(&s.active[exc::IRQ0 as usize..], (off - IABR) / 4),
            IPR..IPR_END => {
                let base = exc::IRQ0 as u64 + (off - IPR);
                (0..4).fold(0, |acc, i| {
                    acc | (s.prio.get((base + i) as usize).copied().unwrap_or(0) as u32) << (8 * i)
                })
            }
            CPUID => match self.core {
                Core::M3 => 0x410f_c231,
                Core::M4 => 0x410f_c240,
            },
            ICSR => self.icsr(),
            VTOR => s.vtor,
            AIRCR => 0xfa05_0000 | s.prigroup << 8,
            SCR => s.scr,
            CCR => s.ccr,
            SHPR..SHPR_END => {
                let base = 4 + (off - SHPR);
                (0..4).fold(0, |acc, i| {
                    acc | (s.prio[(base + i) as usize] as u32) << (8 * i)
                })
            }
            SHCSR => self.shcsr(),
            CFSR => s.cfsr,
            HFSR => s.hfsr,
            DFSR => s.dfsr,
            MMFAR => s.mmfar,
            BFAR => s.bfar,
            AFSR => s.afsr,
            ID_START..ID_END => id_register(off),
            CPACR => s.cpacr,
            MPU_START..MPU_END => 0, // no MPU: MPU_TYPE.DREGION = 0
            STIR => 0,
            FPCCR if m4 => s.fpccr,
            FPCAR if m4 => s.fpcar,
            FPDSCR if m4 => s.fpdscr,
            FPCCR | FPCAR | FPDSCR => 0,
            _ => return Err(DeviceError::BadOffset(off)),
        })
    }

    fn write_word(&mut self, off: u64, v: u32, cx: &mut DeviceCtx<'_>) -> Result<(), DeviceError> {
        let m4 = self.core == Core::M4;
        let num_irq = self.num_irq;
        let irqs = |word: u64| {
            (0..32u32)
                .filter(move |i| v >> i & 1 != 0)
                .map(move |i| word as u32 * 32 + i)
        };
        match off {
            ISER..=0x03c => {
                for i in irqs((off - ISER) / 4) {
                    if let Some(e) = self.st.enabled.get_mut(i as usize) {
                        *e = true;
                    }
                }
            }
            ICER..=0x0bc => {
                for i in irqs((off - ICER) / 4) {
                    if let Some(e) = self.st.enabled.get_mut(i as usize) {
                        *e = false;
                    }
                }
            }
            ISPR..=0x13c => {
                for i in irqs((off - ISPR) / 4).filter(|i| *i < num_irq) {
                    self.set_pending(exc::IRQ0 + i, true);
                }
            }
            ICPR..=0x1bc => {
                for i in irqs((off - ICPR) / 4).filter(|i| *i < num_irq) {
                    self.set_pending(exc::IRQ0 + i, false);
                }
            }
            // Read-only.
            IABR..=0x23c | CPUID => {}
            IPR..IPR_END | SHPR..SHPR_END => {
                for i in 0..4 {
                    self.write_byte(off + i, (v >> (8 * i)) as u8);
                }
            }
            ICSR => {
                if v & 1 << 31 != 0 {
                    self.set_pending(exc::NMI, true);
                }
                if v & 1 << 28 != 0 {
                    self.set_pending(exc::PENDSV, true);
                } else if v & 1 << 27 != 0 {
                    self.set_pending(exc::PENDSV, false);
                }
                if v & 1 << 26 != 0 {
                    self.set_pending(exc::SYSTICK, true);
                } else if v & 1 << 25 != 0 {
                    self.set_pending(exc::SYSTICK, false);
                }
            }
            VTOR => self.st.vtor = v & 0xffff_ff80,
            AIRCR => {
                if v >> 16 == 0x05fa {
                    self.st.prigroup = v >> 8 & 7;
                    if v & 1 << 1 != 0 {
                        // VECTCLRACTIVE: clear all active state.
                        self.st.active.iter_mut().for_each(|a| *a = false);
                    }
                    if v & 1 << 2 != 0 {
                        cx.events.push(hemu_runtime::device::MachineEvent::Reset);
                    }
                }
            }
            SCR => self.st.scr = v & 0x16,
            CCR => self.st.ccr = v & CCR_WRITABLE,
            SHCSR => self.write_shcsr(v),
            CFSR => self.st.cfsr &= !v,
            HFSR => self.st.hfsr &= !v,
            DFSR => self.st.dfsr &= !v,
            MMFAR => self.st.mmfar = v,
            BFAR => self.st.bfar = v,
            AFSR => self.st.afsr &= !v,
            CPACR if m4 => self.st.cpacr = v & (0xf << 20),
            CPACR | ID_START..ID_END | MPU_START..MPU_END => {}
            STIR => {
                let i = v & 0x1ff;
                if i < self.num_irq {
                    self.set_pending(exc::IRQ0 + i, true);
                }
            }
            FPCCR if m4 => self.st.fpccr = (self.st.fpccr & !0xc000_0000) | (v & 0xc000_0000),
            FPCAR if m4 => self.st.fpcar = v & !7,
            FPDSCR if m4 => self.st.fpdscr = v & 0x07c0_0000,
            FPCCR | FPCAR | FPDSCR => {}
            _ => return Err(DeviceError::BadOffset(off)),
        }
        self.update(cx);
        Ok(())
    }

    /// IPR and SHPR are byte-accessible.
    fn write_byte(&mut self, off: u64, b: u8) {
        let n = match off {
            IPR..IPR_END => exc::IRQ0 as u64 + (off - IPR),
            SHPR..SHPR_END => 4 + (off - SHPR),
            _ => return,
        };
        if let Some(p) = self.st.prio.get_mut(n as usize) {
            *p = b;
        }
    }
}

/// The processor feature registers (ID_PFR0 ... ID_ISAR4) of an ARMv7-M
/// core, as QEMU's Cortex-M3/M4 report them.
fn id_register(off: u64) -> u32 {
    match off {
        0xc40 => 0x0000_0030, // ID_PFR0
        0xc44 => 0x0000_0200, // ID_PFR1
        0xc48 => 0x0010_0000, // ID_DFR0
        0xc4c => 0,           // ID_AFR0
        0xc50 => 0x0000_0030, // ID_MMFR0
        0xc54 => 0,           // ID_MMFR1
        0xc58 => 0,           // ID_MMFR2
        0xc5c => 0,           // ID_MMFR3
        0xc60 => 0x0110_1110, // ID_ISAR0
        0xc64 => 0x0211_1000, // ID_ISAR1
        0xc68 => 0x2111_2231, // ID_ISAR2
        0xc6c => 0x0111_1110, // ID_ISAR3
        0xc70 => 0x0131_0132, // ID_ISAR4
        _ => 0,
    }
}

impl Device for Nvic {
    fn mmio_size(&self) -> u64 {
        WINDOW
    }

    fn read(&mut self, offset: u64, size: u8, _cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        let byte_ok = matches!(offset, IPR..IPR_END | SHPR..SHPR_END);
        if size != 4 && !byte_ok {
            return Err(DeviceError::BadSize(size));
        }
        let word = self.read_word(offset & !3)?;
        let shift = 8 * (offset & 3);
        let mask = if size >= 4 {
            u32::MAX
        } else {
            (1u32 << (8 * size)) - 1
        };
        Ok(((word >> shift) & mask) as u64)
    }

    fn write(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        if matches!(offset, IPR..IPR_END | SHPR..SHPR_END) && size < 4 {
            for i in 0..size as u64 {
                self.write_byte(offset + i, (value >> (8 * i)) as u8);
            }
            self.update(cx);
            return Ok(());
        }
        if size != 4 || offset & 3 != 0 {
            return Err(DeviceError::BadSize(size));
        }
        self.write_word(offset, value as u32, cx)
    }

    fn reset(&mut self) {
        *self = Nvic::new(self.num_irq, self.core);
    }

    fn set_input(&mut self, line: u32, level: bool, cx: &mut DeviceCtx<'_>) {
        if line < self.num_irq {
            let l = &mut self.st.level[line as usize];
            if *l != level {
                *l = level;
                if level {
                    self.set_pending(exc::IRQ0 + line, true);
                }
            }
        } else if line >= SYSTEM_INPUTS && level {
            let n = line - SYSTEM_INPUTS;
            if matches!(n, exc::NMI | exc::PENDSV | exc::SYSTICK) {
                self.set_pending(n, true);
            }
        }
        self.update(cx);
    }

    fn fdt_node(&self) -> Option<FdtNode> {
        Some(FdtNode {
            name: "interrupt-controller".into(),
            props: vec![(
                "compatible".into(),
                FdtValue::Strs(vec!["arm,armv7m-nvic".into()]),
            )],
            interrupt_controller: true,
        })
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::MachineEvent;

    fn with_cx<R>(f: impl FnOnce(&mut DeviceCtx<'_>) -> R) -> (R, Vec<MachineEvent>) {
        let mut events = Vec::new();
        let mut cx = DeviceCtx {
            events: &mut events,
            device: 0,
            now_ns: 0,
        };
        let r = f(&mut cx);
        (r, events)
    }

    #[test]
    fn an_enabled_pending_irq_raises_the_exception_request() {
        let mut n = Nvic::new(32, Core::M3);
        let (_, ev) = with_cx(|cx| {
            n.write(ISER, 4, 1 << 5, cx).unwrap();
            n.set_input(5, true, cx);
        });
        assert_eq!(
            ev,
            vec![
                MachineEvent::Irq {
                    device: 0,
                    out: 0,
                    level: true
                },
                MachineEvent::Irq {
                    device: 0,
                    out: 1,
                    level: true
                },
            ]
        );
        let (taken, _) = with_cx(|cx| n.acknowledge(cx));
        assert_eq!(taken, Some(exc::IRQ0 + 5));
        assert!(n.is_active(21));
        // Still asserted at return: pending again.
        let (ok, _) = with_cx(|cx| n.complete(21, cx));
        assert!(ok);
        assert!(n.state().pending[21]);
    }

    #[test]
    fn priorities_and_masks_decide_preemption() {
        let mut n = Nvic::new(32, Core::M3);
        with_cx(|cx| {
            n.write(IPR, 4, 0x80, cx).unwrap(); // IRQ0 priority 0x80
            n.write(ISER, 4, 1, cx).unwrap();
            n.write(ISPR, 4, 1, cx).unwrap();
        });
        assert!(n.exception_request());
        with_cx(|cx| n.set_core_state(false, false, 0x80, 0, cx));
        assert!(!n.exception_request(), "BASEPRI 0x80 masks priority 0x80");
        with_cx(|cx| n.set_core_state(true, false, 0, 0, cx));
        assert!(!n.exception_request(), "PRIMASK masks it");
        assert!(n.state().out[1], "but it wakes WFI");
        with_cx(|cx| n.set_core_state(false, false, 0, 0, cx));
        assert!(n.exception_request());
    }

    #[test]
    fn a_disabled_fault_escalates_to_hardfault_and_a_second_locks_up() {
        let mut n = Nvic::new(0, Core::M3);
        let f = SyncFault {
            exc: exc::USAGEFAULT,
            cfsr: 1 << 16,
            addr: 0,
            hfsr: 0,
        };
        let (r, _) = with_cx(|cx| n.pend_sync(f, cx));
        assert_eq!(r, Ok(()));
        assert!(n.state().pending[exc::HARDFAULT as usize]);
        assert_eq!(n.state().hfsr, HFSR_FORCED);
        assert_eq!(n.state().cfsr, 1 << 16);
        let (t, _) = with_cx(|cx| n.acknowledge(cx));
        assert_eq!(t, Some(exc::HARDFAULT));
        let (r, _) = with_cx(|cx| n.pend_sync(f, cx));
        assert_eq!(r, Err(Lockup));
    }

    #[test]
    fn registers_read_back() {
        let mut n = Nvic::new(64, Core::M4);
        with_cx(|cx| {
            n.write(VTOR, 4, 0x2000_0123, cx).unwrap();
            n.write(SHPR + 11, 1, 0xe0, cx).unwrap(); // SysTick priority
            n.write(AIRCR, 4, 0x05fa_0300, cx).unwrap();
            n.write(CPACR, 4, 0xf << 20, cx).unwrap();
        });
        let (r, _) = with_cx(|cx| {
            (
                n.read(VTOR, 4, cx).unwrap(),
                n.read(SHPR + 8, 4, cx).unwrap(),
                n.read(AIRCR, 4, cx).unwrap(),
                n.read(CPACR, 4, cx).unwrap(),
                n.read(CPUID, 4, cx).unwrap(),
                n.read(0x123, 4, cx).is_err(),
            )
        });
        assert_eq!(
            r,
            (
                0x2000_0100,
                0xe000_0000,
                0xfa05_0300,
                0xf << 20,
                0x410f_c240,
                false
            )
        );
        let (bad, _) = with_cx(|cx| n.read(0xd00, 4, cx));
        assert!(bad.is_err());
    }
}
