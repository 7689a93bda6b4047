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
