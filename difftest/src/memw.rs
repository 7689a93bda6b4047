//! Which memory an instruction writes, for the `mem` field of hemu's
//! trace records: the instruction is lifted again and its IR evaluated
//! with the registers before it (following its in-instruction branches)
//! up to each store's address. Evaluation stops at what it cannot know —
//! a branch on a loaded value, a helper call (RISC-V SC and the AMOs
//! store through helpers), a trap — so such stores are not reported.
//! The value is read back from RAM after the instruction (stores to
//! devices are not reported: reading a device register back could have
//! side effects).

use hemu_runtime::cpu::CpuModel;
use hemu_runtime::engine::interp::{binop, compare, extend};
use hemu_runtime::ir::{Endian, IrBuilder, Op};
use std::collections::HashMap;

/// A store the instruction makes: address, size, byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreAt {
    /// Guest virtual address.
    pub addr: u64,
    /// Bytes.
    pub size: u8,
    /// Byte order of the access.
    pub endian: Endian,
}

/// The stores of the instruction in `bytes` at `pc`, given the vCPU's
/// registers `regs` before it.
pub fn stores(model: &dyn CpuModel, bytes: &[u8], pc: u64, regs: &[u64]) -> Vec<StoreAt> {
    let mut b = IrBuilder::new();
    if model.lift(bytes, pc, &mut b).is_err() {
        return Vec::new();
    }
    let mut regs = regs.to_vec();
    // Temps with a known value.
    let mut t: HashMap<u32, u64> = HashMap::new();
    let mut out = Vec::new();
    let ops = b.ops();
    // Where each label is.
    let labels: HashMap<u32, usize> = ops
        .iter()
        .enumerate()
        .filter_map(|(k, op)| match op {
            Op::SetLabel(l) => Some((l.0, k)),
            _ => None,
        })
        .collect();
    let mut ip = 0usize;
    // Forward-only control flow in one instruction; a bound all the same.
    let mut budget = 10 * ops.len() + 16;
    while ip < ops.len() && budget > 0 {
        budget -= 1;
        let op = &ops[ip];
        ip += 1;
        let get = |t: &HashMap<u32, u64>, x: &hemu_runtime::ir::Temp| t.get(&x.0).copied();
        match op {
            Op::InsnStart { .. } | Op::SlotStart { .. } => {}
            Op::Const { dst, val } => {
                t.insert(dst.0, *val);
            }
            Op::Mov { dst, src } => match get(&t, src) {
                Some(v) => {
                    t.insert(dst.0, v);
                }
                None => {
                    t.remove(&dst.0);
                }
            },
            Op::ReadReg { dst, reg } => {
                let v = regs.get(reg.0 as usize).copied().unwrap_or(0) & b.ty(*dst).mask();
                t.insert(dst.0, v);
            }
            Op::WriteReg { reg, src } => {
                if let (Some(v), Some(r)) = (get(&t, src), regs.get_mut(reg.0 as usize)) {
                    *r = v;
                }
            }
            Op::Bin {
                op,
                ty,
                dst,
                a,
                b: bb,
            } => match (get(&t, a), get(&t, bb)) {
                (Some(x), Some(y)) => {
                    t.insert(dst.0, binop(*op, *ty, x, y));
                }
                _ => {
                    t.remove(&dst.0);
                }
            },
            Op::Not { ty, dst, a } => match get(&t, a) {
                Some(x) => {
                    t.insert(dst.0, !x & ty.mask());
                }
                None => {
                    t.remove(&dst.0);
                }
            },
            Op::Neg { ty, dst, a } => match get(&t, a) {
                Some(x) => {
                    t.insert(dst.0, x.wrapping_neg() & ty.mask());
                }
                None => {
                    t.remove(&dst.0);
                }
            },
            Op::SetCond {
                cond,
                ty,
                dst,
                a,
                b: bb,
            } => match (get(&t, a), get(&t, bb)) {
                (Some(x), Some(y)) => {
                    t.insert(dst.0, u64::from(compare(*cond, *ty, x, y)));
                }
                _ => {
                    t.remove(&dst.0);
                }
            },
            Op::Select {
                ty,
                dst,
                c,
                a,
                b: bb,
            } => match (get(&t, c), get(&t, a), get(&t, bb)) {
                (Some(c), Some(x), Some(y)) => {
                    t.insert(dst.0, if c != 0 { x } else { y } & ty.mask());
                }
                _ => {
                    t.remove(&dst.0);
                }
            },
            Op::Ext {
                ty,
                dst,
                src,
                bits,
                signed,
            } => match get(&t, src) {
                Some(x) => {
                    t.insert(dst.0, extend(x, *bits, *signed) & ty.mask());
                }
                None => {
                    t.remove(&dst.0);
                }
            },
            Op::Load { dst, .. } => {
                // Loaded values are not known here.
                t.remove(&dst.0);
            }
            Op::Store { addr, mop, .. } => {
                if let Some(a) = get(&t, addr) {
                    out.push(StoreAt {
                        addr: a,
                        size: mop.size,
                        endian: mop.endian,
                    });
                }
            }
            Op::SetLabel(_) => {}
            Op::Br(l) => match labels.get(&l.0) {
                Some(k) => ip = *k,
                None => break,
            },
            Op::BrCond {
                cond,
                ty,
                a,
                b: bb,
                label,
            } => match (get(&t, a), get(&t, bb), labels.get(&label.0)) {
                (Some(x), Some(y), Some(k)) => {
                    if compare(*cond, *ty, x, y) {
                        ip = *k;
                    }
                }
                // A branch on a loaded value or a helper's result.
                _ => break,
            },
            // Helper calls (their stores are theirs), exits, traps.
            _ => break,
        }
    }
    out
}

/// A stored value from its bytes (memory order).
pub fn value(bytes: &[u8], endian: Endian) -> u64 {
    let mut v = 0u64;
    match endian {
        Endian::Big => {
            for b in bytes {
                v = v << 8 | u64::from(*b);
            }
        }
        Endian::Little => {
            for b in bytes.iter().rev() {
                v = v << 8 | u64::from(*b);
            }
        }
    }
    v
}
