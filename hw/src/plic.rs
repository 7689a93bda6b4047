//! SiFive PLIC (platform-level interrupt controller) as QEMU's virt board
//! has it: 7 priority levels, level-triggered sources `1..=ndev`, one
//! output per context (on virt: context `2k` = hart k M-mode, `2k + 1` =
//! hart k S-mode).
//!
//! As in QEMU, a source's pending bit follows its input level while the
//! source is not claimed; claiming clears it, and completing re-arms the
//! gateway (pending again at once if the input is still high).

use hemu_runtime::device::{
    Device, DeviceConfig, DeviceCtx, DeviceError, DeviceType, FdtNode, FdtValue, Properties,
};
use serde::{Deserialize, Serialize};

// Register offsets.
/// `priority[src]`, 4 bytes each (source 0 does not exist).
const PRIORITY_BASE: u64 = 0x0;
/// Pending bits, 32 sources per word.
const PENDING_BASE: u64 = 0x1000;
/// Enable bits of context `c` at `ENABLE_BASE + ENABLE_STRIDE * c`.
const ENABLE_BASE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
/// Threshold of context `c` at `CONTEXT_BASE + CONTEXT_STRIDE * c`.
const CONTEXT_BASE: u64 = 0x20_0000;
const CONTEXT_STRIDE: u64 = 0x1000;
/// Claim/complete, after the threshold in each context block.
const CLAIM: u64 = 4;

/// Priority bits implemented (QEMU virt: 7 levels, WARL).
const PRIORITY_MASK: u32 = 7;
/// Most sources the layout has room for.
const MAX_SOURCES: u64 = 1023;
/// Most contexts the layout has room for.
const MAX_CONTEXTS: u64 = 15872;
/// QEMU 7.2 sizes the virt PLIC window for its 512-hart maximum
/// (`VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2)` = 0x600000); larger configurations
/// get the room their contexts need.
const MIN_CONTEXTS_MAPPED: u64 = 1024;

/// Register state, for snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlicState {
    /// Priority of each source (index 0 unused).
    pub priority: Vec<u32>,
    /// Pending bits, 32 sources per word.
    pub pending: Vec<u32>,
    /// Claimed (in service) bits, 32 sources per word.
    pub claimed: Vec<u32>,
    /// Input line levels, 32 sources per word.
    pub level: Vec<u32>,
    /// Enable bits, `words` per context.
    pub enable: Vec<u32>,
    /// Threshold per context.
    pub threshold: Vec<u32>,
    /// Current level of each context's output.
    pub out: Vec<bool>,
}

/// The PLIC.
pub struct Plic {
    state: PlicState,
    ndev: u32,
    contexts: usize,
    words: usize,
}

/// Type registration.
pub static TYPE: DeviceType = DeviceType {
    name: "plic",
    description: "SiFive platform-level interrupt controller (QEMU virt layout)",
    props: Config::PROPS,
    create,
};

/// Properties.
#[derive(Properties)]
pub struct Config {
    /// number of interrupt sources (inputs 1..=ndev)
    #[prop(default = 96, range = 1..=MAX_SOURCES)]
    pub ndev: u64,
    /// number of contexts (output c drives context c; virt: 2 per hart, M then S)
    #[prop(default = 2, range = 1..=MAX_CONTEXTS)]
    pub num_contexts: u64,
    /// if set, 2 contexts per hart (M then S), as QEMU's virt board: overrides num-contexts
    #[prop(default = 0, max = MAX_CONTEXTS / 2)]
    pub num_harts: u64,
}

fn create(cfg: &DeviceConfig) -> Result<Box<dyn Device>, String> {
    let c = Config::from_config(cfg);
    let ndev = c.ndev;
    if !(1..=MAX_SOURCES).contains(&ndev) {
        return Err(format!("ndev {ndev} is out of range 1..={MAX_SOURCES}"));
    }
    let harts = c.num_harts;
    let contexts = if harts > 0 {
        harts.saturating_mul(2)
    } else {
        c.num_contexts
    };
    if !(1..=MAX_CONTEXTS).contains(&contexts) {
        return Err(format!(
            "num-contexts {contexts} is out of range 1..={MAX_CONTEXTS}"
        ));
    }
    let mut p = Plic {
        state: PlicState::default(),
        ndev: ndev as u32,
        contexts: contexts as usize,
        words: (ndev as usize + 1).div_ceil(32),
    };
    p.reset();
    Ok(Box::new(p))
}

fn bit(v: &[u32], src: u32) -> bool {
    v[(src / 32) as usize] & (1 << (src % 32)) != 0
}

fn set_bit(v: &mut [u32], src: u32, on: bool) {
    let w = &mut v[(src / 32) as usize];
    if on {
        *w |= 1 << (src % 32);
    } else {
        *w &= !(1 << (src % 32));
    }
}

impl Plic {
    fn enabled(&self, ctx: usize, src: u32) -> bool {
        bit(&self.state.enable[ctx * self.words..][..self.words], src)
    }

    /// The source a claim by `ctx` would return: the highest-priority
    /// pending, enabled source above the threshold (lowest id on ties).
    fn best(&self, ctx: usize) -> Option<u32> {
        let s = &self.state;
        let mut best: Option<(u32, u32)> = None;
        for w in 0..self.words {
            let mut bits = s.pending[w] & s.enable[ctx * self.words + w];
            while bits != 0 {
                let src = w as u32 * 32 + bits.trailing_zeros();
                bits &= bits - 1;
                let prio = s.priority[src as usize];
                if prio > s.threshold[ctx] && best.is_none_or(|(_, p)| prio > p) {
                    best = Some((src, prio));
                }
            }
        }
        best.map(|(src, _)| src)
    }

    fn update(&mut self, cx: &mut DeviceCtx<'_>) {
        for ctx in 0..self.contexts {
            let level = self.best(ctx).is_some();
            if level != self.state.out[ctx] {
                self.state.out[ctx] = level;
                cx.irq(ctx as u32, level);
            }
        }
    }

    fn valid_source(&self, src: u32) -> bool {
        (1..=self.ndev).contains(&src)
    }

    /// (context, register within the context block) of a context-area offset.
    fn context_reg(&self, offset: u64) -> Option<(usize, u64)> {
        let ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) as usize;
        (ctx < self.contexts).then_some((ctx, (offset - CONTEXT_BASE) % CONTEXT_STRIDE))
    }

    /// (context, word) of an enable-area offset.
    fn enable_word(&self, offset: u64) -> Option<(usize, usize)> {
        let rel = offset - ENABLE_BASE;
        let ctx = (rel / ENABLE_STRIDE) as usize;
        let word = ((rel % ENABLE_STRIDE) / 4) as usize;
        (ctx < self.contexts && word < self.words).then_some((ctx, word))
    }

    /// Mask of the valid source bits of word `w`.
    fn word_mask(&self, w: usize) -> u32 {
        let mut m = u32::MAX;
        if w == 0 {
            m &= !1; // source 0 does not exist
        }
        let last = self.ndev as usize; // highest valid source
        if last / 32 == w && last % 32 != 31 {
            m &= (1u32 << (last % 32 + 1)) - 1;
        }
        m
    }

    fn claim(&mut self, ctx: usize, cx: &mut DeviceCtx<'_>) -> u32 {
        let Some(src) = self.best(ctx) else {
            return 0;
        };
        set_bit(&mut self.state.pending, src, false);
        set_bit(&mut self.state.claimed, src, true);
        self.update(cx);
        src
    }

    fn complete(&mut self, ctx: usize, src: u32, cx: &mut DeviceCtx<'_>) {
        // The specification ignores completions of sources not enabled
        // for the context.
        if !self.valid_source(src) || !self.enabled(ctx, src) {
            return;
        }
        set_bit(&mut self.state.claimed, src, false);
        if bit(&self.state.level, src) {
            set_bit(&mut self.state.pending, src, true);
        }
        self.update(cx);
    }
}

impl Device for Plic {
    fn mmio_size(&self) -> u64 {
        CONTEXT_BASE + CONTEXT_STRIDE * (self.contexts as u64).max(MIN_CONTEXTS_MAPPED)
    }

    fn read(&mut self, offset: u64, size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        if size != 4 {
            return Err(DeviceError::BadSize(size));
        }
        if offset & 3 != 0 {
            return Err(DeviceError::BadOffset(offset));
        }
        if offset >= CONTEXT_BASE {
            return Ok(match self.context_reg(offset) {
                Some((ctx, 0)) => self.state.threshold[ctx],
                Some((ctx, CLAIM)) => self.claim(ctx, cx),
                _ => 0,
            } as u64);
        }
        let s = &self.state;
        let v = match offset {
            o if o >= ENABLE_BASE => match self.enable_word(o) {
                Some((ctx, w)) => s.enable[ctx * self.words + w],
                None => 0,
            },
            o if o >= PENDING_BASE => {
                let w = ((o - PENDING_BASE) / 4) as usize;
                s.pending.get(w).copied().unwrap_or(0)
            }
            o => {
                let src = ((o - PRIORITY_BASE) / 4) as usize;
                s.priority.get(src).copied().unwrap_or(0)
            }
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
        if offset & 3 != 0 {
            return Err(DeviceError::BadOffset(offset));
        }
        let v = value as u32;
        match offset {
            o if o >= CONTEXT_BASE => match self.context_reg(o) {
                Some((ctx, 0)) => {
                    self.state.threshold[ctx] = v & PRIORITY_MASK;
                    self.update(cx);
                }
                Some((ctx, CLAIM)) => self.complete(ctx, v, cx),
                _ => {}
            },
            o if o >= ENABLE_BASE => {
                if let Some((ctx, w)) = self.enable_word(o) {
                    self.state.enable[ctx * self.words + w] = v & self.word_mask(w);
                    self.update(cx);
                }
            }
            // Pending bits are read-only.
            o if o >= PENDING_BASE => {}
            o => {
                let src = ((o - PRIORITY_BASE) / 4) as u32;
                if self.valid_source(src) {
                    self.state.priority[src as usize] = v & PRIORITY_MASK;
                    self.update(cx);
                }
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.state = PlicState {
            priority: vec![0; self.ndev as usize + 1],
            pending: vec![0; self.words],
            claimed: vec![0; self.words],
            level: vec![0; self.words],
            enable: vec![0; self.words * self.contexts],
            threshold: vec![0; self.contexts],
            out: vec![false; self.contexts],
        };
    }

    fn set_input(&mut self, line: u32, level: bool, cx: &mut DeviceCtx<'_>) {
        if !self.valid_source(line) {
            return;
        }
        set_bit(&mut self.state.level, line, level);
        if !bit(&self.state.claimed, line) {
            set_bit(&mut self.state.pending, line, level);
        }
        self.update(cx);
    }

    fn irq_inputs(&self) -> Option<std::ops::RangeInclusive<u32>> {
        Some(1..=self.ndev)
    }

    fn fdt_node(&self) -> Option<FdtNode> {
        Some(FdtNode {
            name: "plic".into(),
            props: vec![
                (
                    "compatible".into(),
                    FdtValue::Strs(vec!["sifive,plic-1.0.0".into(), "riscv,plic0".into()]),
                ),
                ("riscv,ndev".into(), FdtValue::Cells(vec![self.ndev])),
            ],
            interrupt_controller: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemu_runtime::device::{MachineEvent, PropValue};

    fn plic(ndev: u64, contexts: u64) -> Box<dyn Device> {
        let mut cfg = DeviceConfig::default();
        cfg.props.insert("ndev".into(), PropValue::U64(ndev));
        cfg.props
            .insert("num-contexts".into(), PropValue::U64(contexts));
        create(&cfg).unwrap()
    }

    fn irq(out: u32, level: bool) -> MachineEvent {
        MachineEvent::Irq {
            device: 0,
            out,
            level,
        }
    }

    struct T {
        p: Box<dyn Device>,
        ev: Vec<MachineEvent>,
    }

    impl T {
        fn new() -> T {
            T {
                p: plic(96, 2),
                ev: Vec::new(),
            }
        }
        fn cx(&mut self) -> DeviceCtx<'_> {
            DeviceCtx {
                events: &mut self.ev,
                device: 0,
                now_ns: 0,
            }
        }
        fn w(&mut self, off: u64, v: u64) {
            let mut p = std::mem::replace(&mut self.p, plic(1, 1));
            p.write(off, 4, v, &mut self.cx()).unwrap();
            self.p = p;
        }
        fn r(&mut self, off: u64) -> u64 {
            let mut p = std::mem::replace(&mut self.p, plic(1, 1));
            let v = p.read(off, 4, &mut self.cx()).unwrap();
            self.p = p;
            v
        }
        fn input(&mut self, src: u32, level: bool) {
            let mut p = std::mem::replace(&mut self.p, plic(1, 1));
            p.set_input(src, level, &mut self.cx());
            self.p = p;
        }
        fn take(&mut self) -> Vec<MachineEvent> {
            std::mem::take(&mut self.ev)
        }
    }

    const CLAIM1: u64 = CONTEXT_BASE + CONTEXT_STRIDE + CLAIM;

    #[test]
    fn claim_complete_with_priorities_and_ties() {
        let mut t = T::new();
        for src in [3u64, 10, 40] {
            t.w(PRIORITY_BASE + 4 * src, 1);
        }
        t.w(PRIORITY_BASE + 4 * 40, 5);
        t.w(ENABLE_BASE + ENABLE_STRIDE, (1 << 3) | (1 << 10)); // context 1
        t.w(ENABLE_BASE + ENABLE_STRIDE + 4, 1 << (40 - 32));
        t.input(10, true);
        assert_eq!(t.take(), vec![irq(1, true)], "context 1 only");
        t.input(3, true);
        t.input(40, true);
        assert!(t.take().is_empty());
        assert_eq!(t.r(PENDING_BASE), (1 << 3) | (1 << 10));
        assert_eq!(t.r(PENDING_BASE + 4), 1 << 8);
        // Highest priority first, then the lowest id of equal priority.
        assert_eq!(t.r(CLAIM1), 40);
        assert_eq!(t.r(CLAIM1), 3);
        assert_eq!(t.r(CLAIM1), 10);
        assert_eq!(t.take(), vec![irq(1, false)]);
        assert_eq!(t.r(CLAIM1), 0, "nothing left to claim");
        assert_eq!(t.r(PENDING_BASE), 0);
        // A claimed source stays quiet until completed, then, its input
        // still being high, is pending again.
        t.input(3, false);
        t.input(3, true);
        assert!(t.take().is_empty());
        t.w(CLAIM1, 3);
        assert_eq!(t.take(), vec![irq(1, true)]);
        assert_eq!(t.r(CLAIM1), 3);
        // Completing with a source not enabled for the context is ignored.
        t.w(CLAIM1, 5);
        t.input(3, false);
        t.w(CLAIM1, 3);
        assert_eq!(t.r(PENDING_BASE) & (1 << 3), 0, "input low: not pending");
    }

    #[test]
    fn threshold_masks_and_unmasks() {
        let mut t = T::new();
        t.w(PRIORITY_BASE + 4 * 10, 3);
        t.w(ENABLE_BASE, 1 << 10); // context 0
        t.w(CONTEXT_BASE, 3);
        assert_eq!(t.r(CONTEXT_BASE), 3);
        t.input(10, true);
        assert!(t.take().is_empty(), "priority must exceed the threshold");
        assert_eq!(t.r(CONTEXT_BASE + CLAIM), 0);
        t.w(CONTEXT_BASE, 2);
        assert_eq!(t.take(), vec![irq(0, true)]);
        t.w(CONTEXT_BASE, 7);
        assert_eq!(t.take(), vec![irq(0, false)]);
        // Priority 0 never interrupts; priorities are 3 bits (WARL).
        t.w(CONTEXT_BASE, 0);
        t.w(PRIORITY_BASE + 4 * 10, 0);
        assert_eq!(t.take(), vec![irq(0, true), irq(0, false)]);
        t.w(PRIORITY_BASE + 4 * 10, 0xff);
        assert_eq!(t.r(PRIORITY_BASE + 4 * 10), 7);
        assert_eq!(t.take(), vec![irq(0, true)]);
    }

    #[test]
    fn enables_gate_outputs_and_invalid_bits_read_zero() {
        let mut t = T::new();
        t.w(PRIORITY_BASE + 4 * 96, 1);
        t.input(96, true);
        assert!(t.take().is_empty(), "not enabled");
        t.w(ENABLE_BASE + 12, u64::from(u32::MAX));
        assert_eq!(t.r(ENABLE_BASE + 12), 1, "only source 96 exists in word 3");
        assert_eq!(t.take(), vec![irq(0, true)]);
        t.w(ENABLE_BASE, u64::from(u32::MAX));
        assert_eq!(t.r(ENABLE_BASE), 0xffff_fffe, "source 0 does not exist");
        t.w(ENABLE_BASE + 12, 0);
        assert_eq!(t.take(), vec![irq(0, false)]);
        // Level-triggered: dropping the input clears an unclaimed pending bit.
        t.w(ENABLE_BASE + 12, 1);
        t.take();
        t.input(96, false);
        assert_eq!(t.take(), vec![irq(0, false)]);
        // Out-of-range sources and contexts are ignored.
        t.input(0, true);
        t.input(97, true);
        assert_eq!(t.r(CONTEXT_BASE + 5 * CONTEXT_STRIDE), 0);
        assert!(t.take().is_empty());
        assert_eq!(plic(96, 4).mmio_size(), 0x60_0000);
    }
}
