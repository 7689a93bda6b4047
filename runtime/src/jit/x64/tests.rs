//! Tests of the x86-64 backend's own pieces.

use super::*;

/// Every way five argument registers (and rdi, from r15) can be
/// filled from registers temps live in, shared ones included: the
/// sequence gives every destination its source's old value.
#[test]
fn parallel_argument_moves_are_sequenced_exactly() {
    const R15: u8 = 15;
    let dests = [RSI, RDX, RCX, R8, R9];
    // Sources: registers that are also destinations, and others.
    let srcs = [RBX, RSI, RDI, R8, R9, R10];
    let mut cycles = 0;
    for code in 0..srcs.len().pow(dests.len() as u32) {
        let mut c = code;
        let mut moves = vec![(RDI, R15)];
        for &d in &dests {
            moves.push((d, srcs[c % srcs.len()]));
            c /= srcs.len();
        }
        let seq = sequential_moves(moves.clone(), RAX);
        cycles += seq.iter().any(|m| m.0 == RAX) as u32;
        // Registers start out holding their own number.
        let mut regs: Vec<u64> = (0..16).collect();
        for (d, s) in seq {
            regs[d as usize] = regs[s as usize];
        }
        for (d, s) in moves {
            assert_eq!(regs[d as usize], s as u64, "{code}: r{d} from r{s}");
        }
    }
    assert!(cycles > 0, "cycles were exercised");
}

/// Window checks (`cmp reg, [r15 + window_size]`, as dynasm encodes it:
/// REX.W(R)B, 3B /r, a 32-bit displacement) in `code`.
fn window_checks(code: &[u8]) -> usize {
    let disp = ENV_WINDOW_SIZE.to_le_bytes();
    code.windows(7)
        .filter(|w| w[0] & 0xfb == 0x49 && w[1] == 0x3b && w[2] & 0xc7 == 0x87 && w[3..] == disp)
        .count()
}

/// Direct accesses near an address checked earlier in straight-line code
/// skip the check; farther away, after a label (a join), or once the base
/// is redefined, they check again.
#[test]
fn accesses_near_a_checked_address_skip_the_window_check() {
    use crate::ir::{Endian, IrBuilder, MemOp, RegId};
    let mop = {
        let mut m = MemOp::new(8, false, Endian::Little);
        m.aligned = false;
        m
    };
    let k = |b: &mut IrBuilder, v: i64| b.konst(Ty::I64, v as u64);
    let checks = |addressing: Addressing, build: &dyn Fn(&mut IrBuilder)| {
        let mut b = IrBuilder::new();
        b.insn_start(0x1000);
        build(&mut b);
        b.exit_direct(0x2000);
        let block = b.finish(0x1000, 4, 1);
        let slots = [0usize; 4];
        let req = CompileRequest {
            block: &block,
            id: 0,
            base: 0x10_0000,
            epilogue: 0x20_0000,
            slots: &slots,
            site_base: 0,
            addressing,
            direct_access: true,
        };
        window_checks(&X64.compile(&req).expect("compiles").code)
    };
    // Loads at t, t + 8, t - 16 and t + 4096 + 8: one check.
    let near = |b: &mut IrBuilder| {
        let t = b.read_reg(Ty::I64, RegId(1));
        let mut sum = t;
        for d in [0i64, 8, -16, 4096 + 8] {
            let a = if d == 0 {
                t
            } else {
                let c = k(b, d);
                b.bin(BinOp::Add, Ty::I64, t, c)
            };
            let v = b.load(Ty::I64, a, mop);
            sum = b.bin(BinOp::Xor, Ty::I64, sum, v);
        }
        b.write_reg(RegId(2), sum);
    };
    assert_eq!(checks(Addressing::Identity, &near), 1);
    // Below the base is only safe at host address 0 (it wraps into the
    // kernel's half there): a window elsewhere checks t - 16 again.
    assert_eq!(checks(Addressing::Window, &near), 2);
    // Far off (t + 1 MiB, past the guard), after a label, and after t is
    // reloaded: each checks.
    let far = |b: &mut IrBuilder| {
        let t = b.read_reg(Ty::I64, RegId(1));
        let v = b.load(Ty::I64, t, mop);
        b.write_reg(RegId(2), v);
        let c = k(b, 1 << 20);
        let a = b.bin(BinOp::Add, Ty::I64, t, c);
        let v = b.load(Ty::I64, a, mop);
        b.write_reg(RegId(3), v);
        let l = b.label();
        let zero = k(b, 0);
        b.brcond(crate::ir::Cond::Eq, Ty::I64, v, zero, l);
        b.set_label(l);
        let v = b.load(Ty::I64, t, mop);
        b.write_reg(RegId(4), v);
    };
    assert_eq!(checks(Addressing::Identity, &far), 3);
}
