//! What GDB reads and writes in a cluster: its target description (XML
//! from the CPU model's [`GdbTarget`]), registers in the order and byte
//! order of that description, and memory through the cluster's address
//! space and the vCPU's MMU.

use crate::cpu::{AccessKind, CpuModel, CpuState, GdbReg, GdbRegSource, GdbTarget};
use crate::engine::debug_translate;
use crate::ir::Endian;
use crate::machine::Machine;
use crate::memory::{Bus, Target};

/// The target description of `model` as GDB's XML, every feature inline.
pub fn xml(model: &dyn CpuModel) -> Option<String> {
    let t = model.gdb_target()?;
    Some(render(&t))
}

/// Render a target description.
pub fn render(t: &GdbTarget) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n",
    );
    s.push_str(&format!("<architecture>{}</architecture>\n", t.arch));
    let mut n = 0;
    for f in &t.features {
        s.push_str(&format!("<feature name=\"{}\">\n", f.name));
        for r in &f.regs {
            s.push_str(&format!(
                "  <reg name=\"{}\" bitsize=\"{}\" type=\"{}\" regnum=\"{n}\"/>\n",
                r.name, r.bits, r.ty
            ));
            n += 1;
        }
        s.push_str("</feature>\n");
    }
    s.push_str("</target>\n");
    s
}

fn regs_of(model: &dyn CpuModel) -> Vec<GdbReg> {
    model
        .gdb_target()
        .map(|t| t.features.into_iter().flat_map(|f| f.regs).collect())
        .unwrap_or_default()
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

fn get(model: &dyn CpuModel, st: &mut CpuState, r: &GdbReg) -> u64 {
    let v = match r.source {
        GdbRegSource::Slot(i) => st.regs.get(i).copied().unwrap_or(0),
        GdbRegSource::Zero => 0,
        GdbRegSource::Pair(lo, hi) => {
            let w = |i: usize| st.regs.get(i).copied().unwrap_or(0) & 0xffff_ffff;
            w(lo) | w(hi) << 32
        }
        GdbRegSource::Pc => st.pc,
        GdbRegSource::Extra(id) => model.gdb_read_extra(st, id),
    };
    v & mask(r.bits)
}

fn set(model: &dyn CpuModel, st: &mut CpuState, r: &GdbReg, v: u64) {
    let v = v & mask(r.bits);
    match r.source {
        GdbRegSource::Zero => {}
        GdbRegSource::Slot(i) => {
            if let Some(s) = st.regs.get_mut(i) {
                *s = v;
            }
        }
        GdbRegSource::Pair(lo, hi) => {
            if lo < st.regs.len() && hi < st.regs.len() {
                st.regs[lo] = v & 0xffff_ffff;
                st.regs[hi] = v >> 32;
            }
        }
        GdbRegSource::Pc => {
            st.pc = v;
            st.delay_slot_of = None;
        }
        GdbRegSource::Extra(id) => model.gdb_write_extra(st, id, v),
    }
}

fn put(out: &mut Vec<u8>, v: u64, bytes: usize, endian: Endian) {
    let b = v.to_le_bytes();
    match endian {
        Endian::Little => out.extend_from_slice(&b[..bytes]),
        Endian::Big => out.extend(b[..bytes].iter().rev()),
    }
}

fn take(data: &[u8], endian: Endian) -> u64 {
    let it = data.iter().take(8);
    match endian {
        Endian::Little => it.rev().fold(0, |v, b| v << 8 | *b as u64),
        Endian::Big => it.fold(0, |v, b| v << 8 | *b as u64),
    }
}

fn bytes_of(r: &GdbReg) -> usize {
    r.bits.div_ceil(8) as usize
}

/// Every register of vCPU `(cluster, cpu)`, as `g` sends them.
pub fn read_regs(m: &mut Machine, (c, i): (usize, usize)) -> Option<Vec<u8>> {
    let cl = m.clusters.get_mut(c)?;
    let st = cl.cpus.get_mut(i)?;
    let model = &*cl.model;
    let endian = model.endian();
    let mut out = Vec::new();
    for r in regs_of(model) {
        let v = get(model, st, &r);
        put(&mut out, v, bytes_of(&r), endian);
    }
    Some(out)
}

/// Register `n` (`p`).
pub fn read_reg(m: &mut Machine, (c, i): (usize, usize), n: u64) -> Option<Vec<u8>> {
    let cl = m.clusters.get_mut(c)?;
    let st = cl.cpus.get_mut(i)?;
    let model = &*cl.model;
    let regs = regs_of(model);
    let r = regs.get(usize::try_from(n).ok()?)?;
    let mut out = Vec::new();
    put(&mut out, get(model, st, r), bytes_of(r), model.endian());
    Some(out)
}

/// Write every register (`G`); false when the data has the wrong length.
pub fn write_regs(m: &mut Machine, (c, i): (usize, usize), data: &[u8]) -> bool {
    let Some(cl) = m.clusters.get_mut(c) else {
        return false;
    };
    let Some(st) = cl.cpus.get_mut(i) else {
        return false;
    };
    let model = &*cl.model;
    let regs = regs_of(model);
    if regs.iter().map(bytes_of).sum::<usize>() != data.len() {
        return false;
    }
    let mut at = 0;
    for r in &regs {
        let n = bytes_of(r);
        set(model, st, r, take(&data[at..at + n], model.endian()));
        at += n;
    }
    true
}

/// Write register `n` (`P`); false for a bad number or length.
pub fn write_reg(m: &mut Machine, (c, i): (usize, usize), n: u64, data: &[u8]) -> bool {
    let Some(cl) = m.clusters.get_mut(c) else {
        return false;
    };
    let Some(st) = cl.cpus.get_mut(i) else {
        return false;
    };
    let model = &*cl.model;
    let regs = regs_of(model);
    let Some(r) = usize::try_from(n).ok().and_then(|k| regs.get(k)) else {
        return false;
    };
    if data.len() != bytes_of(r) {
        return false;
    }
    set(model, st, r, take(data, model.endian()));
    true
}

/// Set the pc of vCPU `(cluster, cpu)` (`c addr`, `s addr`).
pub fn set_pc(m: &mut Machine, (c, i): (usize, usize), pc: u64) {
    if let Some(st) = m.clusters.get_mut(c).and_then(|cl| cl.cpus.get_mut(i)) {
        st.pc = pc;
        st.delay_slot_of = None;
    }
}

/// The RAM byte behind guest-virtual `va` of the vCPU, as a debugger
/// sees it: translated by the vCPU's MMU when it is on, as a load by the
/// vCPU would be (a page the vCPU may not read is an error, where QEMU's
/// debug accesses ignore permissions; the vCPU's TLB is left alone),
/// RAM and ROM only (device registers are not read: reading them has
/// side effects).
fn ram_addr(
    model: &dyn CpuModel,
    st: &mut CpuState,
    bus: &mut Bus<'_>,
    va: u64,
) -> Option<(usize, usize)> {
    let pa = debug_translate(model, st, bus, va, AccessKind::Load).ok()?;
    let r = bus.space.find(pa)?;
    match r.target {
        Target::Ram { block, offset } => Some((block, (pa - r.base + offset) as usize)),
        Target::Mmio { .. } => None,
    }
}

/// Up to `len` bytes at `addr` of the vCPU's view (fewer when an
/// unreadable address comes first).
pub fn read_mem(m: &mut Machine, (c, i): (usize, usize), addr: u64, len: u64) -> Option<Vec<u8>> {
    let cl = m.clusters.get_mut(c)?;
    let st = cl.cpus.get_mut(i)?;
    let mut bus = Bus {
        space: m.spaces.get(cl.space)?,
        mem: &mut m.memory,
    };
    let mut out = Vec::new();
    for k in 0..len {
        let Some(va) = addr.checked_add(k) else {
            break;
        };
        let Some((block, off)) = ram_addr(&*cl.model, st, &mut bus, va) else {
            break;
        };
        match bus.mem.ram.get(block).and_then(|b| b.bytes().get(off)) {
            Some(b) => out.push(*b),
            None => break,
        }
    }
    Some(out)
}

/// Write `data` at `addr` of the vCPU's view: RAM, and ROM too (as a
/// debugger loading flash expects); translated code built from it is
/// dropped from every cache. False (and nothing written) when any byte is
/// not memory.
pub fn write_mem(m: &mut Machine, (c, i): (usize, usize), addr: u64, data: &[u8]) -> bool {
    let Some(cl) = m.clusters.get_mut(c) else {
        return false;
    };
    let Some(st) = cl.cpus.get_mut(i) else {
        return false;
    };
    let Some(space) = m.spaces.get(cl.space) else {
        return false;
    };
    let mut bus = Bus {
        space,
        mem: &mut m.memory,
    };
    let mut places = Vec::with_capacity(data.len());
    for k in 0..data.len() as u64 {
        let Some(va) = addr.checked_add(k) else {
            return false;
        };
        match ram_addr(&*cl.model, st, &mut bus, va) {
            Some(p) => places.push(p),
            None => return false,
        }
    }
    let mut granules = Vec::new();
    for ((block, off), b) in places.into_iter().zip(data) {
        let mut opened = Vec::new();
        let stored =
            m.memory.ram.get_mut(block).is_some_and(|r| {
                r.store_bytes(off, std::slice::from_ref(b), &mut |g| opened.push(g))
            });
        if !stored {
            return false;
        }
        let g = (off >> crate::memory::CODE_GRANULE_BITS) as u64;
        for g in opened.into_iter().chain([g]) {
            if !granules.contains(&(block, g)) {
                granules.push((block, g));
            }
        }
    }
    for g in granules {
        for cl in &mut m.clusters {
            cl.cache.invalidate(g);
        }
        if let Some(d) = m.debug.as_mut() {
            d.invalidate(g);
        }
    }
    true
}
