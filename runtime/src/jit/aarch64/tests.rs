//! Unit tests of the aarch64 backend (assembly on any host).

use super::*;

/// What a plan leaves in the register.
fn run(plan: &[ImmStep]) -> u64 {
    let mut r = 0u64;
    for s in plan {
        match *s {
            ImmStep::Movz(h, s) => r = (h as u64) << s,
            ImmStep::Movn(h, s) => r = !((h as u64) << s),
            ImmStep::Movk(h, s) => r = r & !(0xffff << s) | (h as u64) << s,
            ImmStep::Orr(v) => r = v,
        }
    }
    r
}

#[test]
fn constant_plans_load_their_value_in_few_steps() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut vals = vec![
        0,
        1,
        u64::MAX,
        0xffff,
        0xffff_0000,
        0x1234_0000_0000,
        0xffff_ffff_ffff_fffe,
        0xffff_ffff_0000_0000,
        0x5555_5555_5555_5555,
        0xffff_ffff,
        0x8000_0000_0000_0000,
        0xffff_8000_0000_1234,
    ];
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals.push(x);
        vals.push(x & 0xffff_0000_ffff);
        vals.push(x | 0xffff_ffff_0000_0000);
    }
    for v in vals {
        let p = imm_plan(v);
        assert_eq!(run(&p), v, "{v:#x}: {p:?}");
        let halves = |h: u16| (0..4).filter(|i| (v >> (16 * i)) as u16 == h).count();
        let best = (4 - halves(0).max(halves(0xffff))).max(1);
        assert!(p.len() <= best, "{v:#x}: {p:?}");
    }
    assert_eq!(imm_plan(0), vec![ImmStep::Movz(0, 0)]);
    assert_eq!(imm_plan(u64::MAX), vec![ImmStep::Movn(0, 0)]);
    assert_eq!(
        imm_plan(0x5555_5555_5555_5555),
        vec![ImmStep::Orr(0x5555_5555_5555_5555)]
    );
}

#[test]
fn far_registers_many_temps_and_odd_constants_assemble() {
    use crate::ir::{IrBuilder, RegId};
    let mut b = IrBuilder::new();
    b.insn_start(0x1000);
    // Guest registers past the scaled-offset range (4095 * 8 bytes).
    let far: Vec<_> = [4095u16, 4096, 8191, u16::MAX]
        .iter()
        .map(|&r| b.read_reg(if r % 2 == 0 { Ty::I64 } else { Ty::I32 }, RegId(r)))
        .collect();
    // More live temps than registers: spill slots.
    let mut live = Vec::new();
    for i in 0..40u64 {
        let c = b.konst(Ty::I64, i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let x = b.bin(BinOp::Add, Ty::I64, far[(i % 4) as usize], c);
        live.push(x);
    }
    for (k, &x) in live.iter().enumerate() {
        let y = b.bin(BinOp::Sub, Ty::I64, x, far[k % 4]);
        let z = b.ext(Ty::I32, y, [1, 31, 33, 63][k % 4], k % 2 == 0);
        b.write_reg(RegId(4000 + k as u16 * 3), z);
    }
    for &v in &[0u64, 4096, 0xfff000, 1 << 24, u64::MAX, 1 << 63] {
        let c = b.konst(Ty::I64, v);
        let s = b.setcond(Cond::Geu, Ty::I64, far[0], c);
        b.write_reg(RegId(9000), s);
    }
    b.exit_direct(0x1004);
    let block = b.finish(0x1000, 4, 1);
    for regs in [&ALLOCATABLE[..], &ALLOCATABLE[..2]] {
        let req = CompileRequest {
            block: &block,
            id: 7,
            base: 0x40_0000,
            epilogue: 0x10_0000,
            slots: &[0x5555_0000_0000],
            site_base: 0,
            addressing: Addressing::Tlb,
            direct_access: false,
        };
        let c = compile(&req, regs).expect("compiles");
        assert_eq!(c.stubs.len(), 1);
    }
}

#[test]
fn runtime_code_assembles() {
    let (code, rt) = Aarch64.runtime(0x10_0000).expect("runtime");
    assert_eq!(rt.enter, 0x10_0000);
    assert!(rt.epilogue > rt.enter && rt.epilogue < 0x10_0000 + code.len());
    assert_eq!(code.len() % 4, 0);
}
