#![allow(missing_docs)] // register bit names: their meaning is the privileged spec's
//! The RISC-V CSR file: privileged state and the access rules of the
//! privileged specification (1.12) for the CSRs OpenSBI, U-Boot and Linux
//! use. Unknown CSRs raise illegal instruction, as hardware does.

use hemu_runtime::cpu::CpuState;

/// Privilege levels.
pub const PRV_U: u64 = 0;
/// Supervisor.
pub const PRV_S: u64 = 1;
/// Machine.
pub const PRV_M: u64 = 3;

// mstatus bits.
pub const SIE: u64 = 1 << 1;
pub const MIE: u64 = 1 << 3;
pub const SPIE: u64 = 1 << 5;
pub const MPIE: u64 = 1 << 7;
pub const SPP: u64 = 1 << 8;
pub const MPP_SHIFT: u32 = 11;
pub const MPP: u64 = 3 << MPP_SHIFT;
pub const FS: u64 = 3 << 13;
pub const MPRV: u64 = 1 << 17;
pub const SUM: u64 = 1 << 18;
pub const MXR: u64 = 1 << 19;
pub const TVM: u64 = 1 << 20;
pub const TW: u64 = 1 << 21;
pub const TSR: u64 = 1 << 22;

/// Bits of mstatus software can write.
const MSTATUS_WRITE: u64 =
    SIE | MIE | SPIE | MPIE | SPP | MPP | FS | MPRV | SUM | MXR | TVM | TW | TSR;
/// The sstatus view of mstatus.
const SSTATUS_MASK: u64 = SIE | SPIE | SPP | FS | SUM | MXR | (3 << 32) | (1 << 63);

// Interrupt bits (mip/mie).
pub const SSI: u64 = 1 << 1;
pub const MSI: u64 = 1 << 3;
pub const STI: u64 = 1 << 5;
pub const MTI: u64 = 1 << 7;
pub const SEI: u64 = 1 << 9;
pub const MEI: u64 = 1 << 11;
/// Interrupts S-mode may see and delegate.
pub const S_INTS: u64 = SSI | STI | SEI;
const ALL_INTS: u64 = SSI | MSI | STI | MTI | SEI | MEI;

/// Exceptions that can be delegated to S-mode (not ecall from M).
const MEDELEG_WRITE: u64 = 0xb3ff;

/// Number of PMP entries (as QEMU's virt CPU).
pub const PMP_ENTRIES: usize = 16;

/// Frequency of `time` (mtime), as the CLINT of the virt board.
pub const TIMEBASE_HZ: u64 = 10_000_000;

/// Privileged state of a hart, kept in `CpuState::ext`.
#[derive(Clone, Debug, Default)]
pub struct RvState {
    /// Current privilege level.
    pub prv: u64,
    pub mstatus: u64,
    pub misa: u64,
    pub medeleg: u64,
    pub mideleg: u64,
    pub mie: u64,
    /// Software-written pending bits (SSIP, STIP, SEIP).
    pub mip_sw: u64,
    /// Pending bits driven by devices (MSIP, MTIP, MEIP, SEIP).
    pub mip_hw: u64,
    pub mtvec: u64,
    pub mcounteren: u64,
    pub menvcfg: u64,
    pub mcountinhibit: u64,
    pub mscratch: u64,
    pub mepc: u64,
    pub mcause: u64,
    pub mtval: u64,
    pub stvec: u64,
    pub scounteren: u64,
    pub senvcfg: u64,
    pub sscratch: u64,
    pub sepc: u64,
    pub scause: u64,
    pub stval: u64,
    pub satp: u64,
    pub pmpcfg: [u8; PMP_ENTRIES],
    pub pmpaddr: [u64; PMP_ENTRIES],
    /// `mcycle`/`minstret` are retired instructions plus this offset.
    pub cycle_offset: u64,
    /// LR/SC reservation: address, size and the value `lr` read.
    pub reservation: Option<(u64, u64, u64)>,
    /// Word width (32 or 64).
    pub xlen: u32,
}

impl RvState {
    /// The reset state of a hart.
    pub fn new(xlen: u32) -> RvState {
        let mxl = if xlen == 64 { 2u64 << 62 } else { 1u64 << 30 };
        let ext = |c: char| 1u64 << (c as u8 - b'A');
        let mut mstatus = 0;
        if xlen == 64 {
            mstatus |= (2 << 32) | (2 << 34); // UXL = SXL = 64
        }
        RvState {
            prv: PRV_M,
            misa: mxl
                | ext('I')
                | ext('M')
                | ext('A')
                | ext('F')
                | ext('D')
                | ext('C')
                | ext('S')
                | ext('U'),
            mstatus,
            xlen,
            ..RvState::default()
        }
    }

    /// The pending interrupt bits as `mip` reads.
    pub fn mip(&self) -> u64 {
        self.mip_sw | self.mip_hw
    }

    fn mask(&self) -> u64 {
        if self.xlen == 32 {
            0xffff_ffff
        } else {
            u64::MAX
        }
    }
}

/// The hart state of a vCPU.
pub fn rv(st: &mut CpuState) -> &mut RvState {
    if !st.ext.is::<RvState>() {
        // A state built without init_state (should not happen): repair it
        // rather than crash the host.
        st.ext = Box::new(RvState::new(64));
    }
    st.ext.downcast_mut::<RvState>().expect("just checked")
}

/// Why a CSR access failed: the instruction is illegal.
pub struct Illegal;

/// Read CSR `csr` at the current privilege.
pub fn read(st: &mut CpuState, csr: u32, now_ns: u64) -> Result<u64, Illegal> {
    let insns = st.insns;
    let index = st.index as u64;
    // fflags and frm live in `CpuState::fp` (see there).
    let (fflags, frm) = (st.fp.flags as u64, st.fp.rm as u64);
    let s = rv(st);
    check_access(s, csr, false)?;
    let m = s.mask();
    let v = match csr {
        // Floating-point CSRs.
        0x001 => fflags,
        0x002 => frm,
        0x003 => frm << 5 | fflags,
        // Counters (S/U access gated by the counter-enable registers).
        0xc00 | 0xc02 | 0xb00 | 0xb02 => insns.wrapping_add(s.cycle_offset),
        0xc80 | 0xc82 | 0xb80 | 0xb82 if s.xlen == 32 => insns.wrapping_add(s.cycle_offset) >> 32,
        0xc01 => time(now_ns),
        0xc81 if s.xlen == 32 => time(now_ns) >> 32,
        0xc03..=0xc1f | 0xb03..=0xb1f | 0x323..=0x33f => 0,
        0xc83..=0xc9f | 0xb83..=0xb9f if s.xlen == 32 => 0,
        // Machine information.
        0xf11..=0xf13 | 0xf15 => 0,
        0xf14 => index,
        // Machine trap setup and handling.
        0x300 => s.mstatus | sd(s.mstatus, s.xlen),
        0x310 if s.xlen == 32 => 0,
        0x301 => s.misa,
        0x302 => s.medeleg,
        0x303 => s.mideleg,
        0x304 => s.mie,
        0x305 => s.mtvec,
        0x306 => s.mcounteren,
        0x30a => s.menvcfg,
        0x31a if s.xlen == 32 => 0,
        0x320 => s.mcountinhibit,
        0x340 => s.mscratch,
        0x341 => s.mepc,
        0x342 => s.mcause,
        0x343 => s.mtval,
        0x344 => s.mip(),
        0x34a | 0x34b => 0,
        0x3a0..=0x3af => pmpcfg_read(s, csr - 0x3a0)?,
        0x3b0..=0x3bf => s.pmpaddr[(csr - 0x3b0) as usize],
        0x3c0..=0x3ef => 0,
        // Supervisor.
        0x100 => (s.mstatus | sd(s.mstatus, s.xlen)) & SSTATUS_MASK & m,
        0x104 => s.mie & s.mideleg,
        0x105 => s.stvec,
        0x106 => s.scounteren,
        0x10a => s.senvcfg,
        0x140 => s.sscratch,
        0x141 => s.sepc,
        0x142 => s.scause,
        0x143 => s.stval,
        0x144 => s.mip() & s.mideleg,
        0x180 => s.satp,
        _ => return Err(Illegal),
    };
    Ok(v & m)
}

/// Write CSR `csr` at the current privilege. Returns whether state that
/// translation or interrupt delivery depends on changed.
pub fn write(st: &mut CpuState, csr: u32, v: u64) -> Result<(), Illegal> {
    let insns = st.insns;
    let s = rv(st);
    check_access(s, csr, true)?;
    let v = v & s.mask();
    if (1..=3).contains(&csr) {
        s.mstatus |= FS; // writing FP state makes it dirty
        set_fp_csr(st, csr, v);
        sync_fp(st);
        return Ok(());
    }
    match csr {
        0xb00 | 0xb02 => s.cycle_offset = v.wrapping_sub(insns),
        0xb80 | 0xb82 if s.xlen == 32 => {
            let cur = insns.wrapping_add(s.cycle_offset);
            s.cycle_offset = ((v << 32) | (cur & 0xffff_ffff)).wrapping_sub(insns);
        }
        0xb03..=0xb1f | 0x323..=0x33f => {}
        0xb83..=0xb9f if s.xlen == 32 => {}
        0x300 => {
            let mut new = (s.mstatus & !MSTATUS_WRITE) | (v & MSTATUS_WRITE);
            if (new & MPP) >> MPP_SHIFT == 2 {
                new = (new & !MPP) | (s.mstatus & MPP); // reserved: keep
            }
            s.mstatus = new;
        }
        0x310 if s.xlen == 32 => {}
        0x301 => {} // misa is read-only here
        0x302 => s.medeleg = v & MEDELEG_WRITE,
        0x303 => s.mideleg = v & S_INTS,
        0x304 => s.mie = v & ALL_INTS,
        0x305 => s.mtvec = tvec(v),
        0x306 => s.mcounteren = v & 0xffff_ffff,
        0x30a => s.menvcfg = v & 1,
        0x31a if s.xlen == 32 => {}
        0x320 => s.mcountinhibit = v & 0xffff_fffd,
        0x340 => s.mscratch = v,
        0x341 => s.mepc = v & !1,
        0x342 => s.mcause = v,
        0x343 => s.mtval = v,
        0x344 => s.mip_sw = (s.mip_sw & !S_INTS) | (v & S_INTS),
        0x34a | 0x34b => {}
        0x3a0..=0x3af => pmpcfg_write(s, csr - 0x3a0, v)?,
        0x3b0..=0x3bf => {
            let i = (csr - 0x3b0) as usize;
            if s.pmpcfg[i] & 0x80 == 0 {
                s.pmpaddr[i] = v & ((1u64 << 54) - 1);
            }
        }
        0x3c0..=0x3ef => {}
        0x100 => {
            let w = SIE | SPIE | SPP | FS | SUM | MXR;
            s.mstatus = (s.mstatus & !w) | (v & w);
        }
        0x104 => s.mie = (s.mie & !s.mideleg) | (v & s.mideleg),
        0x105 => s.stvec = tvec(v),
        0x106 => s.scounteren = v & 0xffff_ffff,
        0x10a => s.senvcfg = v & 1,
        0x140 => s.sscratch = v,
        0x141 => s.sepc = v & !1,
        0x142 => s.scause = v,
        0x143 => s.stval = v,
        0x144 => {
            let w = SSI & s.mideleg;
            s.mip_sw = (s.mip_sw & !w) | (v & w);
        }
        0x180 => {
            let mode = if s.xlen == 32 { v >> 31 } else { v >> 60 };
            let ok = if s.xlen == 32 {
                mode <= 1
            } else {
                matches!(mode, 0 | 8 | 9)
            };
            if ok {
                // ASIDs are not implemented (ASIDLEN = 0): the field reads 0.
                s.satp = if s.xlen == 32 {
                    v & 0x803f_ffff
                } else {
                    v & 0xf000_0fff_ffff_ffff
                };
            }
        }
        _ => return Err(Illegal),
    }
    Ok(())
}

/// Write fflags (1), frm (2) or fcsr (3), no checks (CSR writes, GDB).
pub fn set_fp_csr(st: &mut CpuState, csr: u32, v: u64) {
    let fp = &mut st.fp;
    match csr {
        0x001 => fp.flags = (v & 0x1f) as u32,
        0x002 => fp.rm = (v & 7) as u32,
        0x003 => {
            fp.flags = (v & 0x1f) as u32;
            fp.rm = ((v >> 5) & 7) as u32;
        }
        _ => {}
    }
}

/// Refresh `CpuState::fp`'s copy of mstatus.FS (after anything that
/// changes mstatus other than the FP helpers, which keep it themselves).
pub fn sync_fp(st: &mut CpuState) {
    let fs = rv(st).mstatus & FS;
    st.fp.on = fs != 0;
    st.fp.dirty = fs == FS;
}

/// Privilege and read-only checks common to reads and writes.
fn check_access(s: &RvState, csr: u32, write: bool) -> Result<(), Illegal> {
    let min_prv = ((csr >> 8) & 3) as u64;
    if s.prv < min_prv || (write && (csr >> 10) & 3 == 3) {
        return Err(Illegal);
    }
    if csr == 0x180 && s.prv == PRV_S && s.mstatus & TVM != 0 {
        return Err(Illegal);
    }
    // The FP CSRs exist only while the FPU is on (mstatus.FS != Off).
    if (1..=3).contains(&csr) && s.mstatus & FS == 0 {
        return Err(Illegal);
    }
    // User counters: mcounteren gates S and U, scounteren gates U.
    if (0xc00..=0xc1f).contains(&csr) || (0xc80..=0xc9f).contains(&csr) {
        let bit = 1u64 << (csr & 0x1f);
        if s.prv < PRV_M && s.mcounteren & bit == 0 {
            return Err(Illegal);
        }
        if s.prv < PRV_S && s.scounteren & bit == 0 {
            return Err(Illegal);
        }
    }
    Ok(())
}

fn time(now_ns: u64) -> u64 {
    ((now_ns as u128 * TIMEBASE_HZ as u128) / 1_000_000_000) as u64
}

fn sd(mstatus: u64, xlen: u32) -> u64 {
    if mstatus & FS == FS {
        if xlen == 32 {
            1 << 31
        } else {
            1 << 63
        }
    } else {
        0
    }
}

fn tvec(v: u64) -> u64 {
    // Modes 0 (direct) and 1 (vectored); reserved modes read as direct.
    if v & 3 >= 2 {
        v & !3
    } else {
        v & !2
    }
}

fn pmpcfg_regs(s: &RvState, n: u32) -> Result<std::ops::Range<usize>, Illegal> {
    // RV64 has only the even pmpcfg registers, each holding 8 entries.
    let per = if s.xlen == 64 { 8 } else { 4 };
    if s.xlen == 64 && n % 2 == 1 {
        return Err(Illegal);
    }
    let first = (n as usize / if s.xlen == 64 { 2 } else { 1 }) * per;
    Ok(first.min(PMP_ENTRIES)..(first + per).min(PMP_ENTRIES))
}

fn pmpcfg_read(s: &RvState, n: u32) -> Result<u64, Illegal> {
    let r = pmpcfg_regs(s, n)?;
    let start = r.start;
    Ok(r.fold(0, |v, i| v | (s.pmpcfg[i] as u64) << (8 * (i - start))))
}

fn pmpcfg_write(s: &mut RvState, n: u32, v: u64) -> Result<(), Illegal> {
    let r = pmpcfg_regs(s, n)?;
    let start = r.start;
    for i in r {
        if s.pmpcfg[i] & 0x80 == 0 {
            let mut b = (v >> (8 * (i - start))) as u8 & 0x9f;
            if b & 3 == 2 {
                b &= !3; // W without R is reserved
            }
            s.pmpcfg[i] = b;
        }
    }
    Ok(())
}
