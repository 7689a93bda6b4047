//! ARM semihosting (`BKPT 0xAB`, "Semihosting for AArch32 and AArch64"
//! v2), as QEMU 7.2's `-semihosting` serves it to bare-metal firmware —
//! enough for newlib's `--specs=rdimon.specs` (printf, malloc, exit) and
//! for test firmware's console and exit. The operation is in r0, its
//! argument (a value, or the address of a parameter block) in r1; the
//! result goes to r0.
//!
//! - Console: SYS_WRITEC and SYS_WRITE0 print to hemu's standard output;
//!   they return nothing and leave 0xDEADBEEF in r0, as QEMU does.
//! - Files: SYS_OPEN gives handles (the lowest free, from 1) for `:tt`
//!   (mode 0-3 standard input, 4-7 standard output, 8-11 standard error)
//!   and for `:semihosting-features` (read-only: "SHFB" and the feature
//!   byte EXIT_EXTENDED | STDOUT_STDERR). Host files are not opened (-1,
//!   errno EACCES): a guest gets nothing from the host's file system.
//!   SYS_CLOSE, SYS_WRITE (returns the bytes not written), SYS_READ
//!   (bytes not read: standard input is always at its end), SYS_ISTTY,
//!   SYS_SEEK, SYS_FLEN work on those handles; a bad handle is errno
//!   EBADF.
//! - SYS_HEAPINFO: as QEMU, the largest writable RAM in the vCPU's address
//!   space, and in it the largest gap no loaded image covers, is the heap
//!   (base, limit) and the stack (base = the heap's limit, limit = its
//!   base).
//! - Time: SYS_CLOCK (centiseconds), SYS_ELAPSED and SYS_TICKFREQ (1 GHz
//!   ticks) count virtual time, so they are deterministic; SYS_TIME is the
//!   host's clock.
//! - SYS_ERRNO, SYS_ISERROR; SYS_GET_CMDLINE gives an empty command line.
//! - SYS_EXIT and SYS_EXIT_EXTENDED shut the machine down with the status
//!   QEMU gives: 0 for ADP_Stopped_ApplicationExit (its subcode with
//!   EXIT_EXTENDED), else 1.
//! - Anything else (SYS_READC, SYS_SYSTEM, SYS_REMOVE, ...) returns -1
//!   with errno EACCES (QEMU blocks on console input or runs them on the
//!   host).

use super::state::{arm, R0};
use hemu_runtime::cpu::Trap;
use hemu_runtime::device::MachineEvent;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::ir::{Endian, MemOp};
use hemu_runtime::memory::Target;
use std::io::Write;

const SYS_OPEN: u32 = 0x01;
const SYS_CLOSE: u32 = 0x02;
const SYS_WRITEC: u32 = 0x03;
const SYS_WRITE0: u32 = 0x04;
const SYS_WRITE: u32 = 0x05;
const SYS_READ: u32 = 0x06;
const SYS_ISERROR: u32 = 0x08;
const SYS_ISTTY: u32 = 0x09;
const SYS_SEEK: u32 = 0x0a;
const SYS_FLEN: u32 = 0x0c;
const SYS_CLOCK: u32 = 0x10;
const SYS_TIME: u32 = 0x11;
const SYS_ERRNO: u32 = 0x13;
const SYS_GET_CMDLINE: u32 = 0x15;
const SYS_HEAPINFO: u32 = 0x16;
const SYS_EXIT: u32 = 0x18;
const SYS_EXIT_EXTENDED: u32 = 0x20;
const SYS_ELAPSED: u32 = 0x30;
const SYS_TICKFREQ: u32 = 0x31;
/// ADP_Stopped_ApplicationExit.
const APPLICATION_EXIT: u32 = 0x20026;
/// Longest string or transfer a call handles (a missing NUL or a huge
/// length must not hang hemu).
const MAX_STRING: u64 = 1 << 20;
/// r0 after a call that returns nothing.
const NO_RESULT: u32 = 0xdead_beef;
/// Most handles open at once.
const MAX_FILES: usize = 64;
/// The `:semihosting-features` file: magic and SH_EXT_EXIT_EXTENDED |
/// SH_EXT_STDOUT_STDERR.
const FEATURES: &[u8] = b"SHFB\x03";
/// errno values (Linux's, which QEMU passes through).
const ENOENT: u32 = 2;
const EBADF: u32 = 9;
const EACCES: u32 = 13;
const EINVAL: u32 = 22;

/// An open semihosting handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum File {
    /// `:tt` opened for reading.
    Stdin,
    /// `:tt` opened for writing.
    Stdout,
    /// `:tt` opened for appending (the error stream).
    Stderr,
    /// `:semihosting-features`, at this read position.
    Features(u32),
}

/// A vCPU's semihosting state: its handles and last errno.
#[derive(Clone, Debug, Default)]
pub struct Semihost {
    /// Handle h is `files[h - 1]`.
    files: Vec<Option<File>>,
    errno: u32,
}

impl Semihost {
    fn open(&mut self, f: File) -> u32 {
        if let Some(i) = self.files.iter().position(Option::is_none) {
            self.files[i] = Some(f);
            return i as u32 + 1;
        }
        if self.files.len() >= MAX_FILES {
            self.errno = EACCES;
            return u32::MAX;
        }
        self.files.push(Some(f));
        self.files.len() as u32
    }

    fn file(&mut self, h: u32) -> Option<&mut File> {
        let f = (h as usize)
            .checked_sub(1)
            .and_then(|i| self.files.get_mut(i))
            .and_then(Option::as_mut);
        if f.is_none() {
            self.errno = EBADF;
        }
        f
    }
}

type R = Result<u32, Trap>;

fn byte(cx: &mut HelperCtx<'_, '_>, addr: u64) -> Result<u8, Trap> {
    cx.load(addr & 0xffff_ffff, MemOp::new(1, false, Endian::Little))
        .map(|b| b as u8)
}

fn word(cx: &mut HelperCtx<'_, '_>, addr: u64) -> R {
    cx.load(addr & 0xffff_ffff, MemOp::new(4, false, Endian::Little))
        .map(|w| w as u32)
}

fn put_byte(cx: &mut HelperCtx<'_, '_>, addr: u64, v: u8) -> Result<(), Trap> {
    cx.store(
        addr & 0xffff_ffff,
        v as u64,
        MemOp::new(1, false, Endian::Little),
    )
}

fn put_word(cx: &mut HelperCtx<'_, '_>, addr: u64, v: u32) -> Result<(), Trap> {
    cx.store(
        addr & 0xffff_ffff,
        v as u64,
        MemOp::new(4, false, Endian::Little),
    )
}

fn bytes(cx: &mut HelperCtx<'_, '_>, addr: u64, len: u64) -> Result<Vec<u8>, Trap> {
    (0..len.min(MAX_STRING))
        .map(|i| byte(cx, addr + i))
        .collect()
}

fn output(to_stderr: bool, bytes: &[u8]) {
    // Host output errors are not the guest's business.
    if to_stderr {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(bytes);
        let _ = e.flush();
    } else {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(bytes);
        let _ = o.flush();
    }
}

fn exit(cx: &mut HelperCtx<'_, '_>, status: i32) {
    cx.bus.mem.events.push(MachineEvent::Shutdown(status));
}

fn sh<'a>(cx: &'a mut HelperCtx<'_, '_>) -> &'a mut Semihost {
    &mut arm(cx.cpu).semihost
}

/// SYS_HEAPINFO's (heap base, heap limit): the largest gap that no loaded
/// image covers in the largest writable RAM region (the first of equals).
fn heap(cx: &HelperCtx<'_, '_>) -> (u32, u32) {
    let mut ram: Option<(u64, u64)> = None;
    for r in cx.bus.space.regions() {
        if let Target::Ram { block, .. } = r.target {
            let writable = cx.bus.mem.ram.get(block).is_some_and(|b| !b.read_only());
            if writable && ram.is_none_or(|(_, size)| r.size > size) {
                ram = Some((r.base, r.size));
            }
        }
    }
    let Some((base, size)) = ram else {
        return (0, 0);
    };
    let end = base + size;
    let mut images: Vec<(u64, u64)> = cx
        .bus
        .mem
        .loaded
        .iter()
        .map(|&(a, n)| (a.max(base), a.saturating_add(n).min(end)))
        .filter(|(a, e)| a < e)
        .collect();
    images.sort_unstable();
    let (mut gap, mut at) = ((base, 0u64), base);
    for (a, e) in images {
        if a > at && a - at > gap.1 {
            gap = (at, a - at);
        }
        at = at.max(e);
    }
    if end > at && end - at > gap.1 {
        gap = (at, end - at);
    }
    (gap.0 as u32, (gap.0 + gap.1) as u32)
}

fn open(cx: &mut HelperCtx<'_, '_>, arg: u64) -> R {
    let name = word(cx, arg)? as u64;
    let mode = word(cx, arg + 4)?;
    let len = word(cx, arg + 8)? as u64;
    let name = bytes(cx, name, len)?;
    let s = sh(cx);
    let f = match (name.as_slice(), mode) {
        (b":tt", 0..=3) => File::Stdin,
        (b":tt", 4..=7) => File::Stdout,
        (b":tt", 8..=11) => File::Stderr,
        (b":semihosting-features", 0 | 1) => File::Features(0),
        (b":semihosting-features", 0..=11) => {
            s.errno = EACCES;
            return Ok(u32::MAX);
        }
        (_, 0..=11) => {
            s.errno = if name.is_empty() { ENOENT } else { EACCES };
            return Ok(u32::MAX);
        }
        _ => {
            s.errno = EINVAL;
            return Ok(u32::MAX);
        }
    };
    Ok(s.open(f))
}

fn write(cx: &mut HelperCtx<'_, '_>, arg: u64) -> R {
    let h = word(cx, arg)?;
    let buf = word(cx, arg + 4)? as u64;
    let len = word(cx, arg + 8)?;
    let to_stderr = match sh(cx).file(h).copied() {
        Some(File::Stdout) => false,
        Some(File::Stderr) => true,
        Some(_) => {
            sh(cx).errno = EBADF;
            return Ok(len);
        }
        None => return Ok(len),
    };
    let data = bytes(cx, buf, len as u64)?;
    output(to_stderr, &data);
    Ok(len - data.len() as u32)
}

fn read(cx: &mut HelperCtx<'_, '_>, arg: u64) -> R {
    let h = word(cx, arg)?;
    let buf = word(cx, arg + 4)? as u64;
    let len = word(cx, arg + 8)?;
    let pos = match sh(cx).file(h).copied() {
        Some(File::Features(pos)) => pos,
        Some(File::Stdin) => return Ok(len),
        Some(_) => {
            sh(cx).errno = EBADF;
            return Ok(u32::MAX);
        }
        None => return Ok(u32::MAX),
    };
    let data = FEATURES.get(pos as usize..).unwrap_or(&[]);
    let n = data.len().min(len as usize);
    for (i, &b) in data[..n].iter().enumerate() {
        put_byte(cx, buf + i as u64, b)?;
    }
    if let Some(File::Features(p)) = sh(cx).file(h) {
        *p = pos + n as u32;
    }
    Ok(len - n as u32)
}

fn seek(cx: &mut HelperCtx<'_, '_>, arg: u64) -> R {
    let h = word(cx, arg)?;
    let to = word(cx, arg + 4)?;
    Ok(match sh(cx).file(h) {
        Some(File::Features(p)) => {
            *p = to;
            0
        }
        Some(_) => 0,
        None => u32::MAX,
    })
}

/// Perform the call in r0/r1; the result goes to r0.
pub fn call(cx: &mut HelperCtx<'_, '_>) -> Result<(), Trap> {
    let op = cx.cpu.regs[R0] as u32;
    let arg = cx.cpu.regs[R0 + 1] & 0xffff_ffff;
    let result: u32 = match op {
        SYS_WRITEC => {
            output(false, &[byte(cx, arg)?]);
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
            output(false, &s);
            NO_RESULT
        }
        SYS_OPEN => open(cx, arg)?,
        SYS_CLOSE => {
            let h = word(cx, arg)?;
            let s = sh(cx);
            match s.file(h) {
                Some(_) => {
                    s.files[h as usize - 1] = None;
                    0
                }
                None => u32::MAX,
            }
        }
        SYS_WRITE => write(cx, arg)?,
        SYS_READ => read(cx, arg)?,
        SYS_ISERROR => ((word(cx, arg)? as i32) < 0) as u32,
        SYS_ISTTY => {
            let h = word(cx, arg)?;
            match sh(cx).file(h) {
                Some(File::Features(_)) => 0,
                Some(_) => 1,
                None => u32::MAX,
            }
        }
        SYS_SEEK => seek(cx, arg)?,
        SYS_FLEN => {
            let h = word(cx, arg)?;
            match sh(cx).file(h) {
                Some(File::Features(_)) => FEATURES.len() as u32,
                Some(_) => 0,
                None => u32::MAX,
            }
        }
        SYS_CLOCK => (cx.bus.mem.now_ns / 10_000_000) as u32,
        SYS_TIME => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32),
        SYS_ERRNO => sh(cx).errno,
        SYS_GET_CMDLINE => {
            let buf = word(cx, arg)? as u64;
            if word(cx, arg + 4)? == 0 {
                u32::MAX
            } else {
                put_byte(cx, buf, 0)?;
                put_word(cx, arg + 4, 0)?;
                0
            }
        }
        SYS_HEAPINFO => {
            let block = word(cx, arg)? as u64;
            let (base, limit) = heap(cx);
            for (i, v) in [base, limit, limit, base].into_iter().enumerate() {
                put_word(cx, block + 4 * i as u64, v)?;
            }
            0
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
        SYS_ELAPSED => {
            let t = cx.bus.mem.now_ns;
            put_word(cx, arg, t as u32)?;
            put_word(cx, arg + 4, (t >> 32) as u32)?;
            0
        }
        SYS_TICKFREQ => 1_000_000_000,
        _ => {
            sh(cx).errno = EACCES;
            u32::MAX
        }
    };
    cx.cpu.regs[R0] = result as u64;
    Ok(())
}
