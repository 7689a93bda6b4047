//! The translator and interpreter with a mock ISA of one-byte instructions,
//! for mechanisms no real frontend exercises yet (branch delay slots).

use super::*;
use crate::cpu::*;
use crate::ir::{Endian, Ty};
use crate::lift::LiftCx;
use crate::memory::{AddressSpace, Memory, RamBlock, Region, Target};

/// 0x01: r0 += 1. 0x02: jump to pc + 4 after a delay slot. 0x04: the same,
/// only if r1 != 0. 0x05: jump to pc + 4 at once when r1 == 0 (annulling
/// the slot), else after the slot. 0x03: raise trap 9. Others: illegal.
struct Mock;

impl CpuModel for Mock {
    fn target(&self) -> String {
        "mock".into()
    }
    fn isa_name(&self) -> &'static str {
        "mock"
    }
    fn word_bits(&self) -> u32 {
        32
    }
    fn endian(&self) -> Endian {
        Endian::Little
    }
    fn insn_len_range(&self) -> (usize, usize) {
        (1, 1)
    }
    fn reg_files(&self) -> Vec<RegFile> {
        Vec::new()
    }
    fn new_state(&self, index: u32) -> CpuState {
        CpuState::new(index, 2)
    }
    fn reset(&self, st: &mut CpuState, boot: &BootInfo) {
        st.pc = boot.entry;
    }
    fn lift(&self, bytes: &[u8], pc: u64, b: &mut IrBuilder) -> Result<Lifted, DecodeError> {
        let mut cx = LiftCx::new(b, pc, 1, 32, Endian::Little);
        let ends = match bytes[0] {
            1 => {
                let r = cx.reg(Ty::I32, 0, 0, None);
                let one = cx.k(Ty::I32, 1);
                let s = cx.b.bin(crate::ir::BinOp::Add, Ty::I32, r, one);
                cx.set_reg(0, 0, None, s);
                false
            }
            2 => {
                cx.begin_delay();
                cx.jump_to(pc as i64 + 4);
                true
            }
            4 | 5 => {
                cx.begin_delay();
                let r1 = cx.reg(Ty::I32, 0, 1, None);
                let zero = cx.k(Ty::I32, 0);
                let skip = cx.b.label();
                cx.b.brcond(crate::ir::Cond::Eq, Ty::I32, r1, zero, skip);
                cx.jump_to(pc as i64 + 4);
                let done = cx.b.label();
                cx.b.br(done);
                cx.b.set_label(skip);
                if bytes[0] == 5 {
                    cx.jump_now(pc as i64 + 4);
                }
                cx.b.set_label(done);
                true
            }
            3 => {
                let t = cx.k(Ty::I32, 0);
                cx.b.raise(9, t);
                true
            }
            _ => return Err(DecodeError::Invalid),
        };
        Ok(Lifted {
            len: 1,
            ends_block: ends,
            delayed: cx.delayed,
        })
    }
    fn disassemble(&self, _: &[u8], _: u64) -> Result<(String, usize), DecodeError> {
        Err(DecodeError::Invalid)
    }
    fn fault_trap(&self, f: &MemFault) -> Trap {
        Trap {
            code: 1,
            tval: f.addr,
        }
    }
    fn illegal_trap(&self, _: &[u8]) -> Trap {
        Trap { code: 2, tval: 0 }
    }
    fn take_trap(&self, _: &mut CpuState, _: &Trap) -> TrapOutcome {
        TrapOutcome::Fatal
    }
    fn trap_name(&self, _: u32) -> &'static str {
        "trap"
    }
}

/// Run `code` from address 0 until it traps; returns (r0, trap, pc, slot).
fn run(code: &[u8], r1: u64) -> (u64, Trap, u64, Option<u64>) {
    let mut mem = Memory::default();
    mem.ram.push(RamBlock::new("/ram", 0x100, false).unwrap());
    let mut space = AddressSpace::new("sys");
    space
        .map(Region {
            name: "ram".into(),
            base: 0,
            size: 0x100,
            target: Target::Ram {
                block: 0,
                offset: 0,
            },
        })
        .unwrap();
    let mut bus = Bus {
        space: &space,
        mem: &mut mem,
    };
    bus.load_bytes(0, code).unwrap();
    let model = Mock;
    let mut cpu = model.new_state(0);
    cpu.regs[1] = r1;
    cpu.exit_on_trap = true;
    let mut cache = TranslationCache::new();
    let mut interp = Interpreter::new();
    let exit = interp.run(
        ExecCtx {
            model: &model,
            cache: &mut cache,
            cpu: &mut cpu,
            bus: &mut bus,
        },
        1000,
    );
    let Exit::Trap(t) = exit else {
        panic!("expected a trap, got {exit:?}")
    };
    (cpu.regs[0], t, cpu.pc, cpu.delay_slot_of)
}

#[test]
fn the_delay_slot_runs_before_the_branch_takes_effect() {
    // 0: branch to 4; 1: slot (inc); 2, 3: skipped; 4: trap.
    let (r0, t, pc, _) = run(&[2, 1, 1, 1, 3], 0);
    assert_eq!((r0, t.code, pc), (1, 9, 4));
}

#[test]
fn a_conditional_branch_not_taken_falls_through_after_its_slot() {
    let (r0, t, pc, _) = run(&[4, 1, 1, 1, 3, 3], 0);
    assert_eq!(
        (r0, t.code, pc),
        (3, 9, 4),
        "slot + two more incs, then the trap at 4"
    );
    let (r0, _, pc, _) = run(&[4, 1, 1, 1, 3], 1);
    assert_eq!((r0, pc), (1, 4), "taken: only the slot ran");
}

#[test]
fn branch_likely_annuls_its_slot_when_not_taken() {
    let (r0, _, pc, _) = run(&[5, 1, 1, 1, 3], 0);
    assert_eq!((r0, pc), (0, 4), "not taken: the slot is skipped");
    let (r0, _, pc, _) = run(&[5, 1, 1, 1, 3], 1);
    assert_eq!((r0, pc), (1, 4), "taken: the slot runs");
}

#[test]
fn a_trap_in_the_slot_names_the_branch() {
    let (_, t, pc, slot) = run(&[2, 3, 1, 1, 1], 0);
    assert_eq!((t.code, pc, slot), (9, 1, Some(0)));
    let (_, _, pc, slot) = run(&[1, 3], 0);
    assert_eq!((pc, slot), (1, None), "outside a slot");
}

#[test]
fn single_step_keeps_the_slot_with_its_branch() {
    let mut mem = Memory::default();
    mem.ram.push(RamBlock::new("/ram", 0x100, false).unwrap());
    let mut space = AddressSpace::new("sys");
    space
        .map(Region {
            name: "ram".into(),
            base: 0,
            size: 0x100,
            target: Target::Ram {
                block: 0,
                offset: 0,
            },
        })
        .unwrap();
    let mut bus = Bus {
        space: &space,
        mem: &mut mem,
    };
    bus.load_bytes(0, &[2, 1, 1, 1, 3]).unwrap();
    let mut cpu = Mock.new_state(0);
    let (block, _) = translate(&Mock, &mut cpu, &mut bus, 0, 1);
    assert_eq!(block.insns, 2, "branch and slot translate together");
}
