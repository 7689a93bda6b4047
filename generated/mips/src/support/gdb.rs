//! How GDB sees a MIPS32 CPU: `org.gnu.gdb.mips.cpu` (r0-r31, lo, hi,
//! pc), `.cp0` (status, badvaddr, cause) and `.fpu` (f0-f31, fcsr, fir),
//! as gdb's features/mips-*.xml lay them out (gdb requires all three).
//! GDB names the general registers `r0`..`r31`, not by their ABI names.

use super::cp0::ms;
use super::fpu::{FCSR, FIR};
use crate::Model;
use hemu_runtime::cpu::{CpuModel, CpuState, GdbFeature, GdbReg, GdbRegSource, GdbTarget, RegFile};

/// Extra-register ids.
const STATUS: u32 = 0;
const BADVADDR: u32 = 1;
const CAUSE: u32 = 2;
const FIR_ID: u32 = 3;

/// The target description.
pub fn target(m: &Model) -> GdbTarget {
    let files: Vec<RegFile> = m.reg_files();
    let mut cpu = GdbTarget::file_regs(&files, "X", "int");
    // The spec's hard-wired zero register.
    if let Some(r) = cpu.first_mut() {
        r.source = GdbRegSource::Zero;
    }
    for (i, r) in cpu.iter_mut().enumerate() {
        r.name = format!("r{i}");
    }
    let acc = GdbTarget::file_regs(&files, "ACC", "int");
    for name in ["lo", "hi"] {
        cpu.extend(acc.iter().filter(|r| r.name == name).cloned());
    }
    cpu.push(GdbReg {
        name: "pc".into(),
        bits: 32,
        ty: "code_ptr",
        source: GdbRegSource::Pc,
    });
    let extra = |name: &str, id: u32| GdbReg {
        name: name.into(),
        bits: 32,
        ty: "int",
        source: GdbRegSource::Extra(id),
    };
    let cp0 = vec![
        extra("status", STATUS),
        extra("badvaddr", BADVADDR),
        extra("cause", CAUSE),
    ];
    // MIPS32 GDB shows 32-bit FPRs (the low word of each 64-bit slot).
    let mut fpu: Vec<GdbReg> = GdbTarget::file_regs(&files, "F", "ieee_single")
        .into_iter()
        .map(|r| GdbReg { bits: 32, ..r })
        .collect();
    fpu.push(GdbReg {
        name: "fcsr".into(),
        bits: 32,
        ty: "int",
        source: GdbRegSource::Slot(FCSR),
    });
    fpu.push(extra("fir", FIR_ID));
    GdbTarget {
        arch: "mips",
        features: vec![
            GdbFeature {
                name: "org.gnu.gdb.mips.cpu",
                regs: cpu,
            },
            GdbFeature {
                name: "org.gnu.gdb.mips.cp0",
                regs: cp0,
            },
            GdbFeature {
                name: "org.gnu.gdb.mips.fpu",
                regs: fpu,
            },
        ],
    }
}

/// Read a CP0 register or FIR.
pub fn read(st: &mut CpuState, id: u32) -> u64 {
    let s = ms(st);
    (match id {
        STATUS => s.status,
        BADVADDR => s.badvaddr,
        CAUSE => s.cause(),
        FIR_ID => FIR,
        _ => 0,
    }) as u64
}

/// Write Status, BadVAddr or Cause's software bits (FIR is read-only).
pub fn write(st: &mut CpuState, id: u32, v: u64) {
    let s = ms(st);
    let v = v as u32;
    match id {
        STATUS => {
            s.status = v;
            // Privilege and translation depend on Status.
            st.flush_code = true;
            st.flush_tlb = true;
        }
        BADVADDR => s.badvaddr = v,
        // The interrupt lines are driven by devices; the rest is stored.
        CAUSE => s.cause = v & !(0x3f << 10),
        _ => {}
    }
    st.irq_pending = true;
}
