//! How GDB sees a RISC-V hart: the standard `org.gnu.gdb.riscv.cpu` and
//! `.fpu` features (gdb's features/riscv/*.xml), the registers and their
//! names taken from the spec's register files.

use super::csr;
use crate::Model;
use hemu_runtime::cpu::{CpuModel, CpuState, GdbFeature, GdbReg, GdbRegSource, GdbTarget, RegFile};

/// Extra-register ids: the floating-point CSRs, by CSR number.
const FFLAGS: u32 = 0x001;
const FRM: u32 = 0x002;
const FCSR: u32 = 0x003;

/// The target description.
pub fn target(m: &Model) -> GdbTarget {
    let files: Vec<RegFile> = m.reg_files();
    let mut cpu = GdbTarget::file_regs(&files, "X", "int");
    // The spec's hard-wired zero register.
    if let Some(r) = cpu.first_mut() {
        r.source = GdbRegSource::Zero;
    }
    for r in &mut cpu {
        r.ty = match r.name.as_str() {
            "ra" => "code_ptr",
            "sp" | "gp" | "tp" => "data_ptr",
            _ => "int",
        };
    }
    cpu.push(GdbReg {
        name: "pc".into(),
        bits: m.word_bits(),
        ty: "code_ptr",
        source: GdbRegSource::Pc,
    });
    let mut fpu = GdbTarget::file_regs(&files, "F", "ieee_double");
    for (name, id) in [("fflags", FFLAGS), ("frm", FRM), ("fcsr", FCSR)] {
        fpu.push(GdbReg {
            name: name.into(),
            bits: 32,
            ty: "int",
            source: GdbRegSource::Extra(id),
        });
    }
    GdbTarget {
        arch: if m.word_bits() == 32 {
            "riscv:rv32"
        } else {
            "riscv:rv64"
        },
        features: vec![
            GdbFeature {
                name: "org.gnu.gdb.riscv.cpu",
                regs: cpu,
            },
            GdbFeature {
                name: "org.gnu.gdb.riscv.fpu",
                regs: fpu,
            },
        ],
    }
}

/// Read a floating-point CSR (as machine mode would: the debugger sees
/// everything).
pub fn read(st: &mut CpuState, id: u32) -> u64 {
    let (fflags, frm) = (st.fp.flags as u64, st.fp.rm as u64);
    match id {
        FFLAGS => fflags,
        FRM => frm,
        FCSR => frm << 5 | fflags,
        _ => 0,
    }
}

/// Write a floating-point CSR.
pub fn write(st: &mut CpuState, id: u32, v: u64) {
    let csr = match id {
        FFLAGS => 0x001,
        FRM => 0x002,
        FCSR => 0x003,
        _ => return,
    };
    csr::set_fp_csr(st, csr, v);
}
