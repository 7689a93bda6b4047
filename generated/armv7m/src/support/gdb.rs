//! How GDB sees a Cortex-M core: `org.gnu.gdb.arm.m-profile` (r0-r12, sp,
//! lr, pc, xpsr) and, with the FPU (Cortex-M4F), `org.gnu.gdb.arm.vfp`
//! (d0-d15 over the spec's `S` file, fpscr), as gdb's
//! features/arm/arm-m-profile.xml and arm-vfpv2.xml lay them out.

use super::state::{self, arm};
use crate::Model;
use hemu_runtime::cpu::{CpuModel, CpuState, GdbFeature, GdbReg, GdbRegSource, GdbTarget, RegFile};

/// Extra-register ids.
const XPSR: u32 = 0;
const FPSCR: u32 = 1;

/// The target description.
pub fn target(m: &Model, fpu: bool) -> GdbTarget {
    let files: Vec<RegFile> = m.reg_files();
    // R15 is the pc, which the runtime keeps in `CpuState::pc`.
    let mut core: Vec<GdbReg> = GdbTarget::file_regs(&files, "R", "int")
        .into_iter()
        .filter(|r| r.name != "pc")
        .collect();
    for r in &mut core {
        r.ty = match r.name.as_str() {
            "sp" => "data_ptr",
            "lr" => "code_ptr",
            _ => "int",
        };
    }
    core.push(GdbReg {
        name: "pc".into(),
        bits: 32,
        ty: "code_ptr",
        source: GdbRegSource::Pc,
    });
    core.push(GdbReg {
        name: "xpsr".into(),
        bits: 32,
        ty: "int",
        source: GdbRegSource::Extra(XPSR),
    });
    let mut features = vec![GdbFeature {
        name: "org.gnu.gdb.arm.m-profile",
        regs: core,
    }];
    if fpu {
        let s = GdbTarget::file_regs(&files, "S", "int");
        let mut regs: Vec<GdbReg> = s
            .chunks(2)
            .enumerate()
            .filter_map(|(i, pair)| match pair {
                [lo, hi] => match (lo.source, hi.source) {
                    (GdbRegSource::Slot(a), GdbRegSource::Slot(b)) => Some(GdbReg {
                        name: format!("d{i}"),
                        bits: 64,
                        ty: "ieee_double",
                        source: GdbRegSource::Pair(a, b),
                    }),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        regs.push(GdbReg {
            name: "fpscr".into(),
            bits: 32,
            ty: "int",
            source: GdbRegSource::Extra(FPSCR),
        });
        features.push(GdbFeature {
            name: "org.gnu.gdb.arm.vfp",
            regs,
        });
    }
    GdbTarget {
        // BFD's name for ARMv7-M and ARMv7E-M (GDB has no plain
        // "armv7-m"); with "arm", GDB would guess ARMv3M.
        arch: "armv7e-m",
        features,
    }
}

/// Read xPSR or FPSCR.
pub fn read(st: &mut CpuState, id: u32) -> u64 {
    match id {
        XPSR => state::xpsr(st) as u64,
        FPSCR => arm(st).fpscr as u64,
        _ => 0,
    }
}

/// Write xPSR (its APSR flags and GE bits, as `msr apsr_nzcvqg` does; the
/// exception number and execution state are not writable) or FPSCR.
pub fn write(st: &mut CpuState, id: u32, v: u64) {
    match id {
        XPSR => state::set_apsr(st, v as u32, true, true),
        FPSCR => arm(st).fpscr = v as u32,
        _ => {}
    }
}
