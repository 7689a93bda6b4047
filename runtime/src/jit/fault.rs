//! Host faults in generated code's direct loads and stores.
//!
//! Code for a guest address window (`Memory::window`) loads from and
//! stores to `window base + guest address` after checking only that the
//! address is inside the window, as QEMU's user mode does: no TLB lookup.
//! Guest pages that are not mapped are `PROT_NONE` in the window, and
//! pages holding translated code are read-only, so such an access faults
//! on the host. This module's SIGSEGV handler looks the faulting host pc
//! up in the running JIT's [`FaultMap`] and resumes at that access's slow
//! path, which performs it through the full path (which raises the guest's
//! exception, or notes the write to code and makes the page writable
//! again); every other fault goes to the handler that was
//! installed before (Rust's stack-overflow report, or the default action).
//!
//! The map is per JIT and published per thread only while that thread
//! runs generated code; the handler itself is process-wide by nature (a
//! signal disposition), installed once and never changed again.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Host pc of a direct load or store -> host pc of its slow path.
pub type FaultMap = HashMap<usize, usize>;

thread_local! {
    /// The fault map of the JIT running generated code on this thread.
    static ACTIVE: Cell<*const FaultMap> = const { Cell::new(std::ptr::null()) };
}

/// The SIGSEGV disposition before ours (chained to for other faults);
/// set once, when the handler is installed.
static PREVIOUS: OnceLock<Option<libc::sigaction>> = OnceLock::new();

/// Install the handler (once per process); false when the host refused,
/// in which case generated code must not load directly.
pub fn install() -> bool {
    PREVIOUS
        .get_or_init(|| {
            // SAFETY: sigaction with a zeroed (valid: empty mask, no flags)
            // struct filled with our handler; the old disposition is
            // written to `old`.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_segv as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                (libc::sigaction(libc::SIGSEGV, &new, &mut old) == 0).then_some(old)
            }
        })
        .is_some()
}

/// Publish `map` as this thread's while generated code runs; the guard
/// withdraws it.
pub fn activate(map: &FaultMap) -> Active {
    ACTIVE.with(|a| a.set(map));
    Active
}

/// See [`activate`].
pub struct Active;

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(std::ptr::null()));
    }
}

/// The pc register in a signal context.
#[cfg(target_arch = "x86_64")]
fn pc(uc: &mut libc::ucontext_t) -> &mut i64 {
    &mut uc.uc_mcontext.gregs[libc::REG_RIP as usize]
}

extern "C" fn on_segv(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    #[cfg(target_arch = "x86_64")]
    {
        // Reading a thread-local with a const initialiser allocates
        // nothing and takes no lock: fine in a signal handler.
        let map = ACTIVE.with(|a| a.get());
        if !map.is_null() && !ctx.is_null() {
            // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO
            // handlers; `map` is the running JIT's map, published by
            // `activate` for the duration of the call into generated
            // code, during which nothing mutates it (compilation happens
            // outside that call).
            unsafe {
                let uc = &mut *(ctx as *mut libc::ucontext_t);
                if let Some(&to) = (*map).get(&(*pc(uc) as usize)) {
                    *pc(uc) = to as i64;
                    return;
                }
            }
        }
    }
    chain(sig, info, ctx);
}

/// Hand a fault that is not ours to the previous disposition.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let old = PREVIOUS.get().copied().flatten();
    match old {
        Some(o) if o.sa_sigaction != libc::SIG_DFL && o.sa_sigaction != libc::SIG_IGN => {
            // SAFETY: the previous handler, called as the kernel would
            // have called it (with SA_SIGINFO, three arguments).
            unsafe {
                if o.sa_flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(o.sa_sigaction);
                    f(sig, info, ctx);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(o.sa_sigaction);
                    f(sig);
                }
            }
        }
        _ => {
            // The default action: restore it; returning re-runs the
            // faulting instruction, which then kills the process as
            // SIGSEGV always did.
            // SAFETY: resetting a disposition to SIG_DFL.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGSEGV, &dfl, std::ptr::null_mut());
            }
        }
    }
}
