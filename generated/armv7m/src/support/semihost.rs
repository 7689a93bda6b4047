//! ARM semihosting (`BKPT 0xAB`), the calls bare-metal test firmware uses:
//! SYS_WRITEC, SYS_WRITE0 and SYS_WRITE to the console (hemu's standard
//! output, as QEMU's `-semihosting` without a chardev), SYS_EXIT and
//! SYS_EXIT_EXTENDED (the machine shuts down with the status QEMU gives:
//! 0 for ADP_Stopped_ApplicationExit, its subcode with EXIT_EXTENDED, else
//! 1). Other calls return -1 in r0. The operation is in r0, its argument
//! (a value, or the address of a parameter block) in r1. The calls without
//! a result (WRITEC, WRITE0) leave 0xDEADBEEF in r0, as QEMU does.

use super::state::R0;
use hemu_runtime::cpu::Trap;
use hemu_runtime::device::MachineEvent;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::ir::{Endian, MemOp};
use std::io::Write;

const SYS_WRITEC: u32 = 0x03;
const SYS_WRITE0: u32 = 0x04;
const SYS_WRITE: u32 = 0x05;
const SYS_EXIT: u32 = 0x18;
const SYS_EXIT_EXTENDED: u32 = 0x20;
/// ADP_Stopped_ApplicationExit.
const APPLICATION_EXIT: u32 = 0x20026;
/// Longest string SYS_WRITE0 prints (a missing NUL must not hang hemu).
const MAX_STRING: u64 = 1 << 20;
/// r0 after a call that returns nothing.
const NO_RESULT: u32 = 0xdead_beef;

fn byte(cx: &mut HelperCtx<'_, '_>, addr: u64) -> Result<u8, Trap> {
    cx.load(addr & 0xffff_ffff, MemOp::new(1, false, Endian::Little))
        .map(|b| b as u8)
}

fn word(cx: &mut HelperCtx<'_, '_>, addr: u64) -> Result<u32, Trap> {
    cx.load(addr & 0xffff_ffff, MemOp::new(4, false, Endian::Little))
        .map(|w| w as u32)
}

fn console(bytes: &[u8]) {
    // Host output errors are not the guest's business.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

fn exit(cx: &mut HelperCtx<'_, '_>, status: i32) {
    cx.bus.mem.events.push(MachineEvent::Shutdown(status));
}

/// Perform the call in r0/r1; the result goes to r0.
pub fn call(cx: &mut HelperCtx<'_, '_>) -> Result<(), Trap> {
    let op = cx.cpu.regs[R0] as u32;
    let arg = cx.cpu.regs[R0 + 1];
    let result: u32 = match op {
        SYS_WRITEC => {
            console(&[byte(cx, arg)?]);
            NO_RESULT
        }
        SYS_WRITE0 => {
            let mut s = Vec::new();
            for i in 0..MAX_STRING {
                match byte(cx, arg + i)? {
                    0 => break,
                    b => s.push(b),
                }
            }
            console(&s);
            NO_RESULT
        }
        SYS_WRITE => {
            let fd = word(cx, arg)?;
            let buf = word(cx, arg + 4)? as u64;
            let len = word(cx, arg + 8)? as u64;
            if fd == 1 || fd == 2 {
                let mut s = Vec::new();
                for i in 0..len.min(MAX_STRING) {
                    s.push(byte(cx, buf + i)?);
                }
                console(&s);
                0
            } else {
                len as u32
            }
        }
        SYS_EXIT => {
            exit(cx, if arg as u32 == APPLICATION_EXIT { 0 } else { 1 });
            0
        }
        SYS_EXIT_EXTENDED => {
            let reason = word(cx, arg)?;
            let code = word(cx, arg + 4)?;
            exit(
                cx,
                if reason == APPLICATION_EXIT {
                    code as i32
                } else {
                    1
                },
            );
            0
        }
        _ => u32::MAX,
    };
    cx.cpu.regs[R0] = result as u64;
    Ok(())
}
