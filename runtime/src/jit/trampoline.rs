//! Rust functions generated code calls: slow-path loads and stores (a
//! host TLB miss, MMIO, misaligned or page-crossing accesses), helpers and
//! exceptions. Each reconstructs the vCPU's context from the [`JitEnv`],
//! puts the guest state where the interpreter would have it at that
//! instruction, and afterwards asks for a return to the dispatcher when
//! the interpreter would have had work to do after the block.

use super::{JitEnv, Site, SiteKind};
use crate::cpu::{CpuModel, CpuState, Trap};
use crate::engine::{fill_host_tlb, mem_load, mem_store, HelperCtx};
use crate::memory::Bus;

/// A value and a status (0: fine; 1: a trap is in `JitEnv::trap`),
/// returned in two registers.
#[repr(C)]
pub struct Ret {
    /// The result.
    pub value: u64,
    /// The status.
    pub status: u64,
}

struct Cx<'a> {
    env: &'a mut JitEnv,
    cpu: &'a mut CpuState,
    bus: &'a mut Bus<'a>,
    model: &'a dyn CpuModel,
    site: Site,
}

/// State the dispatcher reacts to, to notice changes across a call.
#[derive(PartialEq, Eq)]
struct Watch {
    ctx: u64,
    mmu: bool,
    code_writes: usize,
}

/// # Safety
/// `env` must be the JIT's env during a call into generated code (its
/// pointers set by the dispatcher from live exclusive borrows) and `site`
/// an index into its site table.
unsafe fn context<'a>(env: *mut JitEnv, site: u32) -> Cx<'a> {
    // SAFETY: per this function's contract.
    unsafe {
        let env = &mut *env;
        let cpu = &mut *env.cpu;
        let bus = &mut *(env.bus as *mut Bus<'a>);
        let model = &*env.model.expect("model set during a run");
        let site = *env.sites.add(site as usize);
        Cx {
            env,
            cpu,
            bus,
            model,
            site,
        }
    }
}

impl Cx<'_> {
    fn watch(&self) -> Watch {
        Watch {
            ctx: self.cpu.code_ctx,
            mmu: self.cpu.mmu_on,
            code_writes: self.bus.mem.code_writes.len(),
        }
    }
    /// Put the vCPU where the interpreter has it inside this instruction.
    fn enter_insn(&mut self) {
        self.cpu.pc = self.site.pc;
        self.cpu.delay_slot_of = self.site.slot_of;
        self.cpu.insns = self.cpu.insns.wrapping_sub(self.site.after as u64 - 1);
    }
    fn leave_insn(&mut self) {
        self.cpu.insns = self.cpu.insns.wrapping_add(self.site.after as u64 - 1);
    }
    /// A trap at this instruction: it did not retire.
    fn trap(&mut self, t: Trap) -> Ret {
        self.cpu.insns = self.cpu.insns.wrapping_sub(1);
        self.env.trap = Some(t);
        Ret {
            value: 0,
            status: 1,
        }
    }
    /// Ask for the dispatcher if the interpreter would do something
    /// after this block.
    fn after(&mut self, before: &Watch) {
        let c = &*self.cpu;
        if c.irq_pending
            || c.waiting
            || c.flush_code
            || c.flush_tlb
            || c.stopped.is_some()
            || !self.bus.mem.events.is_empty()
            || self.watch() != *before
        {
            self.request_exit();
        }
    }
    /// Return to the dispatcher at the next block entry (whose budget
    /// check fails once the limit is 0).
    fn request_exit(&mut self) {
        self.env.exit_req = 1;
        self.env.limit = 0;
    }
    /// Cache the host address of the page of `addr` if it is plain RAM.
    fn fill(&mut self, addr: u64, size: u8, write: bool) {
        fill_host_tlb(self.cpu, self.bus, addr, size, write);
    }
}

/// A load the inline path did not serve.
///
/// # Safety
/// Called by generated code only, with the env of the running JIT.
pub unsafe extern "C" fn jit_load(env: *mut JitEnv, site: u32, addr: u64) -> Ret {
    // SAFETY: per this function's contract.
    let mut cx = unsafe { context(env, site) };
    let SiteKind::Load { mop, mask } = cx.site.kind else {
        unreachable!("load site");
    };
    let before = cx.watch();
    cx.enter_insn();
    let r = mem_load(cx.model, cx.cpu, cx.bus, addr, mop);
    let ret = match r {
        Ok(v) => {
            cx.fill(addr, mop.size, false);
            cx.leave_insn();
            Ret {
                value: v & mask,
                status: 0,
            }
        }
        Err(t) => cx.trap(t),
    };
    cx.after(&before);
    ret
}

/// A store the inline path did not serve. Returns 0, or 1 for a trap.
///
/// # Safety
/// Called by generated code only, with the env of the running JIT.
pub unsafe extern "C" fn jit_store(env: *mut JitEnv, site: u32, addr: u64, value: u64) -> u64 {
    // SAFETY: per this function's contract.
    let mut cx = unsafe { context(env, site) };
    let SiteKind::Store { mop } = cx.site.kind else {
        unreachable!("store site");
    };
    let before = cx.watch();
    cx.enter_insn();
    let ret = match mem_store(cx.model, cx.cpu, cx.bus, addr, value, mop) {
        Ok(e) => {
            if e.hit_code {
                // The rest of the block may be stale: generated code
                // leaves at the next instruction start.
                cx.env.code_hit = 1;
                cx.request_exit();
            } else {
                cx.fill(addr, mop.size, true);
            }
            cx.leave_insn();
            0
        }
        Err(t) => cx.trap(t).status,
    };
    cx.after(&before);
    ret
}

impl Cx<'_> {
    /// Run the helper of this call site on the arguments in
    /// `JitEnv::args`; its result is masked to the destination type.
    fn call_helper(&mut self) -> Result<u64, Trap> {
        let SiteKind::Call {
            helper,
            nargs,
            mask,
        } = self.site.kind
        else {
            unreachable!("call site");
        };
        let mut hx = HelperCtx {
            cpu: &mut *self.cpu,
            bus: &mut *self.bus,
            model: self.model,
        };
        // The arguments in place: generated code just stored them one by
        // one, and a copy would read them back in 16-byte pieces, which
        // store forwarding cannot serve (a stall on every call).
        (helper.func)(&mut hx, &self.env.args[..nargs as usize]).map(|v| v & mask)
    }
}

/// A helper call; arguments in `JitEnv::args`.
///
/// # Safety
/// Called by generated code only, with the env of the running JIT.
pub unsafe extern "C" fn jit_call(env: *mut JitEnv, site: u32) -> Ret {
    // SAFETY: per this function's contract.
    let mut cx = unsafe { context(env, site) };
    let before = cx.watch();
    cx.enter_insn();
    let ret = match cx.call_helper() {
        Ok(value) => {
            cx.leave_insn();
            Ret { value, status: 0 }
        }
        Err(t) => cx.trap(t),
    };
    cx.after(&before);
    ret
}

/// A call of a [`HelperEffects::Cpu`](crate::ir::HelperEffects::Cpu)
/// helper: it neither reads the pc or instruction count nor changes what
/// the dispatcher watches, so the vCPU is put at its instruction only when
/// it traps, and nothing is checked after it.
///
/// # Safety
/// Called by generated code only, with the env of the running JIT.
pub unsafe extern "C" fn jit_call_cpu(env: *mut JitEnv, site: u32) -> Ret {
    // SAFETY: per this function's contract.
    let mut cx = unsafe { context(env, site) };
    match cx.call_helper() {
        Ok(value) => Ret { value, status: 0 },
        Err(t) => {
            cx.enter_insn();
            cx.trap(t)
        }
    }
}

/// An architectural exception raised by the block.
///
/// # Safety
/// Called by generated code only, with the env of the running JIT.
pub unsafe extern "C" fn jit_raise(env: *mut JitEnv, site: u32, tval: u64) {
    // SAFETY: per this function's contract.
    let mut cx = unsafe { context(env, site) };
    let SiteKind::Raise { code } = cx.site.kind else {
        unreachable!("raise site");
    };
    cx.enter_insn();
    cx.trap(Trap { code, tval });
}

/// The body of a [`DirectFn`](crate::ir::DirectFn) made by
/// [`direct_helper!`](crate::direct_helper): helper `f` on `args`, with
/// no site lookup, no argument block and no indirect call (`f` is a
/// constant there, so the helper is inlined). A trap is left in
/// `JitEnv::trap` (status 1); generated code then calls
/// [`jit_direct_trap`] with the site, which puts the vCPU at its
/// instruction as [`jit_call_cpu`] does.
///
/// # Safety
/// `env` must be the JIT's env during a call into generated code (its
/// pointers set by the dispatcher from live exclusive borrows).
#[doc(hidden)]
#[inline(always)]
pub unsafe fn call_direct(env: *mut JitEnv, args: &[u64], f: crate::ir::HelperFn) -> Ret {
    // SAFETY: per this function's contract (as `context`).
    let (env, cpu, bus, model) = unsafe {
        let env = &mut *env;
        let cpu = &mut *env.cpu;
        let bus = &mut *(env.bus as *mut Bus<'_>);
        let model = &*env.model.expect("model set during a run");
        (env, cpu, bus, model)
    };
    let mut hx = HelperCtx { cpu, bus, model };
    match f(&mut hx, args) {
        Ok(value) => Ret { value, status: 0 },
        Err(t) => {
            env.trap = Some(t);
            Ret {
                value: 0,
                status: 1,
            }
        }
    }
}

/// A direct helper call trapped (the trap is in `JitEnv::trap`): put
/// the vCPU at the trapping instruction, which did not retire.
///
/// # Safety
/// Called by generated code only, with the env of the running JIT.
pub unsafe extern "C" fn jit_direct_trap(env: *mut JitEnv, site: u32) {
    // SAFETY: per this function's contract.
    let cx = unsafe { context(env, site) };
    let Cx { env, cpu, site, .. } = cx;
    cpu.pc = site.pc;
    cpu.delay_slot_of = site.slot_of;
    cpu.insns = cpu.insns.wrapping_sub(site.after as u64);
    debug_assert!(env.trap.is_some());
}

/// A [`DirectFn`](crate::ir::DirectFn) for helper `$f` of `$n` arguments
/// (at most [`DIRECT_MAX_ARGS`](crate::ir::DIRECT_MAX_ARGS)), for a
/// [`HelperJit`](crate::ir::HelperJit) in a static:
/// `direct: Some(hemu_runtime::direct_helper!(crate::support::fadd_d, 4))`.
#[macro_export]
macro_rules! direct_helper {
    ($f:path, $n:expr) => {{
        /// Generated code's entry of the helper.
        ///
        /// # Safety
        /// Called by generated code only, with the env of the running JIT.
        unsafe extern "C" fn direct(
            env: *mut $crate::jit::JitEnv,
            a0: u64,
            a1: u64,
            a2: u64,
            a3: u64,
            a4: u64,
        ) -> $crate::jit::Ret {
            const N: usize = $n;
            const _: () = assert!(N <= $crate::ir::DIRECT_MAX_ARGS);
            let args = [a0, a1, a2, a3, a4];
            // SAFETY: per this function's contract, which is
            // `call_direct`'s.
            unsafe { $crate::jit::call_direct(env, &args[..N], $f) }
        }
        direct as $crate::ir::DirectFn
    }};
}
