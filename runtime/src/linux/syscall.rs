//! The system-call dispatcher and the calls that are not about files:
//! process, memory, time, signals, identity.
//!
//! Every pointer the guest passes is checked (`EFAULT`), every length
//! bounded (`ENOMEM`/`EINVAL`); unknown numbers return `ENOSYS` and are
//! reported once per number on stderr.

use super::abi::{self, Errno, ErrorReturn, Sys};
use super::fs::{read_file_at, MAX_FDS};
use super::mm::{MIN_ADDR, STACK_SIZE};
use super::{Ending, Process};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type R = Result<u64, Errno>;

/// `SIG_DFL` and `SIG_IGN`.
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
/// Longest sleep served in one call (longer ones are cut short).
const MAX_SLEEP: Duration = Duration::from_secs(3600);
/// `RLIM_INFINITY` of `prlimit64`.
const RLIM64_INFINITY: u64 = u64::MAX;
/// Bytes copied at a time between files or mappings.
const COPY_CHUNK: usize = 1 << 20;
/// Most bytes one `getrandom` returns (Linux's limit).
const MAX_RANDOM: u64 = (1 << 25) - 1;

impl Process {
    fn reg(&self, r: usize) -> u64 {
        self.cpu.regs.get(r).copied().unwrap_or(0) & self.word_mask
    }

    fn set_reg(&mut self, r: usize, v: u64) {
        if let Some(slot) = self.cpu.regs.get_mut(r) {
            *slot = v & self.word_mask;
        }
    }

    /// Serve the system call the vCPU trapped on; `Some` ends the process.
    pub(super) fn syscall(&mut self) -> Option<Ending> {
        let nr = self.reg(self.abi.nr_reg);
        let mut a = [0u64; 6];
        for (slot, r) in a.iter_mut().zip(self.abi.arg_regs.iter()) {
            *slot = self.reg(*r);
        }
        // Arguments past the registers on the stack (MIPS o32: at sp+16);
        // an unreadable stack leaves them 0, as a short stack would.
        if let Some(off) = self.consts.stack_args {
            let sp = self.reg(self.abi.sp_reg);
            let w = self.mm.word;
            let first = self.abi.arg_regs.len();
            for (k, slot) in a.iter_mut().enumerate().skip(first) {
                let at = sp.wrapping_add(off + w * (k - first) as u64);
                *slot = self
                    .mm
                    .read_int(at & self.word_mask, w as usize)
                    .unwrap_or(0);
            }
        }
        let res = match abi::lookup(self.abi.syscalls, self.model.word_bits(), nr) {
            Some(s) => match self.dispatch(s, a) {
                Ok(r) => r,
                Err(end) => return Some(end),
            },
            None => {
                if self.unimplemented.insert(nr) {
                    eprintln!("hemu: unimplemented syscall {nr}");
                }
                Err(Errno::NoSys)
            }
        };
        let (ret, flag) = match res {
            Ok(v) => (v, 0),
            Err(e) => {
                let n = self.consts.errno(e);
                match self.abi.errors {
                    ErrorReturn::Negated => (n.wrapping_neg(), 1),
                    ErrorReturn::FlagRegister(_) => (n, 1),
                }
            }
        };
        self.set_reg(self.abi.ret_reg, ret);
        if let ErrorReturn::FlagRegister(r) = self.abi.errors {
            self.set_reg(r, flag);
        }
        None
    }

    /// `AT_FDCWD` as a guest argument (for the legacy non-*at calls).
    fn fdcwd(&self) -> u64 {
        (self.consts.at_fdcwd as i64 as u64) & self.word_mask
    }

    /// Read a `sigset_t` (the first 64 signals: hemu keeps no more) as
    /// the kernel lays it out: an array of words.
    fn read_sigset(&self, addr: u64) -> Result<u64, Errno> {
        let w = self.mm.word;
        if w >= 8 {
            return self.mm.read_int(addr, 8);
        }
        let lo = self.mm.read_int(addr, 4)?;
        let hi = self.mm.read_int(addr + 4, 4)?;
        Ok(lo | (hi << 32))
    }

    /// Write a `sigset_t` of `c.sigset_bytes` (signals past 64 clear).
    fn sigset_bytes(&self, set: u64) -> Vec<u8> {
        let w = self.mm.word;
        let mut b = if w >= 8 {
            self.mm.encode(set, 8)
        } else {
            let mut b = self.mm.encode(set & 0xffff_ffff, 4);
            b.extend(self.mm.encode(set >> 32, 4));
            b
        };
        b.resize(self.consts.sigset_bytes as usize, 0);
        b
    }

    /// Sign-extend a word-sized argument.
    fn signed(&self, v: u64) -> i64 {
        let bits = self.model.word_bits();
        if bits >= 64 {
            v as i64
        } else {
            ((v << (64 - bits)) as i64) >> (64 - bits)
        }
    }

    /// A 64-bit argument passed in two registers by a 32-bit program.
    fn pair(&self, first: u64, second: u64) -> u64 {
        match self.mm.endian {
            crate::ir::Endian::Little => (second << 32) | (first & 0xffff_ffff),
            crate::ir::Endian::Big => (first << 32) | (second & 0xffff_ffff),
        }
    }

    fn dispatch(&mut self, s: Sys, a: [u64; 6]) -> Result<R, Ending> {
        let is64 = self.model.word_bits() >= 64;
        Ok(match s {
            Sys::Exit | Sys::ExitGroup => return Err(Ending::Exited((a[0] & 0xff) as i32)),
            Sys::Read => self.sys_read(a[0], a[1], a[2]),
            Sys::Write => self.sys_write(a[0], a[1], a[2]),
            Sys::Readv => self.sys_readv(a[0], a[1], a[2]),
            Sys::Writev => self.sys_writev(a[0], a[1], a[2]),
            Sys::Pread64 | Sys::Pwrite64 => {
                // o32 aligns 64-bit arguments to an even register pair.
                let off = if is64 {
                    a[3]
                } else if self.consts.stack_args.is_some() {
                    self.pair(a[4], a[5])
                } else {
                    self.pair(a[3], a[4])
                };
                if s == Sys::Pread64 {
                    self.sys_pread(a[0], a[1], a[2], off)
                } else {
                    self.sys_pwrite(a[0], a[1], a[2], off)
                }
            }
            Sys::Openat => self.sys_openat(a[0], a[1], a[2], a[3]),
            Sys::Open => self.sys_openat(self.fdcwd(), a[0], a[1], a[2]),
            Sys::Access => self.sys_faccessat(self.fdcwd(), a[0]),
            Sys::Readlink => self.sys_readlinkat(self.fdcwd(), a[0], a[1], a[2]),
            Sys::Dup2 => {
                if a[0] == a[1] {
                    // dup2 to itself only checks the descriptor.
                    self.sys_fcntl(a[0], 1, 0).map(|_| a[1])
                } else {
                    self.sys_dup3(a[0], a[1], 0)
                }
            }
            Sys::SetThreadArea => match self.abi.set_tls {
                Some(set) => {
                    set(&mut self.cpu, a[0]);
                    Ok(0)
                }
                None => Err(Errno::NoSys),
            },
            Sys::Close => self.sys_close(a[0]),
            Sys::Lseek => {
                let off = self.signed(a[1]);
                self.seek(a[0], off, a[2])
            }
            Sys::Llseek => self.sys_llseek(a[0], a[1], a[2], a[3], a[4]),
            Sys::Fstat => self.sys_fstat(a[0], a[1]),
            Sys::Newfstatat => self.sys_newfstatat(a[0], a[1], a[2], a[3]),
            Sys::Statx => self.sys_statx(a[0], a[1], a[2], a[4]),
            Sys::Readlinkat => self.sys_readlinkat(a[0], a[1], a[2], a[3]),
            Sys::Faccessat | Sys::Faccessat2 => self.sys_faccessat(a[0], a[1]),
            Sys::Getcwd => self.sys_getcwd(a[0], a[1]),
            Sys::Dup => self.sys_dup(a[0]),
            Sys::Dup3 => self.sys_dup3(a[0], a[1], a[2]),
            Sys::Fcntl => self.sys_fcntl(a[0], a[1], a[2]),
            Sys::Ioctl => self.sys_ioctl(a[0], a[1], a[2]),
            Sys::Brk => {
                let (brk, removed) = self.mm.set_brk(a[0]);
                self.invalidate_regions(&removed);
                Ok(brk)
            }
            Sys::Mmap => self.sys_mmap(a[0], a[1], a[2], a[3], a[4], a[5]),
            Sys::Mmap2 => match a[5].checked_mul(4096) {
                Some(off) => self.sys_mmap(a[0], a[1], a[2], a[3], a[4], off),
                None => Err(Errno::Inval),
            },
            Sys::Munmap => self.sys_munmap(a[0], a[1]),
            Sys::Mprotect => self.sys_mprotect(a[0], a[1]),
            Sys::Mremap => self.sys_mremap(a[0], a[1], a[2], a[3], a[4]),
            Sys::Madvise => self.sys_madvise(a[0], a[1], a[2]),
            Sys::SetTidAddress => Ok(u64::from(self.pid)),
            Sys::SetRobustList | Sys::Sigaltstack | Sys::SchedYield => Ok(0),
            Sys::Rseq => Err(Errno::NoSys),
            Sys::Futex => self.sys_futex(a[0], a[1], a[2]),
            Sys::Getpid | Sys::Gettid => Ok(u64::from(self.pid)),
            Sys::Getppid => Ok(1),
            Sys::Getuid | Sys::Geteuid => Ok(super::host_ids().0),
            Sys::Getgid | Sys::Getegid => Ok(super::host_ids().1),
            Sys::Umask => {
                let old = self.umask;
                self.umask = (a[0] & 0o777) as u32;
                Ok(u64::from(old))
            }
            Sys::Uname => self.sys_uname(a[0]),
            Sys::Sysinfo => self.sys_sysinfo(a[0]),
            Sys::Getrandom => self.sys_getrandom(a[0], a[1]),
            Sys::ClockGettime | Sys::ClockGettime64 => self.clock(a[0]).and_then(|(sec, nsec)| {
                self.put_timespec(a[1], sec, nsec, s == Sys::ClockGettime64 || is64)
                    .map(|_| 0)
            }),
            Sys::ClockGetres | Sys::ClockGetres64 => {
                if let Err(e) = self.clock(a[0]) {
                    Err(e)
                } else if a[1] == 0 {
                    Ok(0)
                } else {
                    self.put_timespec(a[1], 0, 1, s == Sys::ClockGetres64 || is64)
                        .map(|_| 0)
                }
            }
            Sys::Gettimeofday => self.sys_gettimeofday(a[0], a[1]),
            Sys::Nanosleep => self.sys_sleep(a[0], is64, 0, false),
            Sys::ClockNanosleep | Sys::ClockNanosleep64 => {
                let wide = s == Sys::ClockNanosleep64 || is64;
                self.sys_sleep(a[2], wide, a[0], a[1] & 1 != 0)
            }
            Sys::Getrlimit => self.sys_getrlimit(a[0], a[1]),
            Sys::Setrlimit => Ok(0),
            Sys::Prlimit64 => self.sys_prlimit(a[0], a[1], a[3]),
            Sys::RtSigaction => self.sys_sigaction(a[0], a[1], a[2], a[3]),
            Sys::RtSigprocmask => {
                let r = self.sys_sigprocmask(a[0], a[1], a[2], a[3]);
                self.deliver_pending()?;
                r
            }
            Sys::Kill => {
                let pid = self.signed(a[0]);
                if pid == i64::from(self.pid) || pid == 0 || pid == -1 {
                    return self.raise(a[1]);
                }
                Err(Errno::Srch)
            }
            Sys::Tkill => {
                if a[0] as i32 as i64 == i64::from(self.pid) {
                    return self.raise(a[1]);
                }
                Err(Errno::Srch)
            }
            Sys::Tgkill => {
                let me = i64::from(self.pid);
                if a[0] as i32 as i64 == me && a[1] as i32 as i64 == me {
                    return self.raise(a[2]);
                }
                Err(Errno::Srch)
            }
        })
    }

    // ---- memory ----

    fn sys_mmap(&mut self, addr: u64, len: u64, _prot: u64, flags: u64, fd: u64, off: u64) -> R {
        let c = self.consts;
        if len == 0 {
            return Err(Errno::Inval);
        }
        let len = self.mm.ceil(len).ok_or(Errno::NoMem)?;
        if len > self.mm.task_size {
            return Err(Errno::NoMem);
        }
        // MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE: one process, so
        // shared mappings behave as private ones (writes do not reach the file).
        if flags & (c.map_shared | c.map_private) == 0 {
            return Err(Errno::Inval);
        }
        let anon = flags & c.map_anonymous != 0;
        if !anon {
            if off & (self.mm.page - 1) != 0 {
                return Err(Errno::Inval);
            }
            let f = self.fds.file(fd)?;
            if f.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(Errno::NoDev);
            }
        }
        let fixed = flags & c.map_fixed != 0;
        let noreplace = flags & c.map_fixed_noreplace != 0;
        let base = if fixed || noreplace {
            if addr & (self.mm.page - 1) != 0 {
                return Err(Errno::Inval);
            }
            if addr.checked_add(len).is_none_or(|e| e > self.mm.task_size) {
                return Err(Errno::NoMem);
            }
            if addr < MIN_ADDR {
                return Err(Errno::Perm);
            }
            if !self.mm.is_free(addr, len) {
                if noreplace && !fixed {
                    return Err(Errno::Exist);
                }
                let removed = self.mm.unmap(addr, len);
                self.invalidate_regions(&removed);
            }
            addr
        } else {
            let hint = self.mm.floor(addr);
            if hint != 0 && self.mm.is_free(hint, len) {
                hint
            } else {
                self.mm.find_free(len).ok_or(Errno::NoMem)?
            }
        };
        self.mm
            .map_new(base, len, if anon { "[anon]" } else { "[file]" })?;
        if !anon {
            if let Err(e) = self.fill_from_file(base, len, fd, off) {
                let removed = self.mm.unmap(base, len);
                self.invalidate_regions(&removed);
                return Err(e);
            }
        }
        Ok(base)
    }

    /// Copy file `fd` from `off` into the fresh mapping `[base, base + len)`
    /// in chunks, up to the end of the file (the rest stays zero).
    fn fill_from_file(&mut self, base: u64, len: u64, fd: u64, off: u64) -> Result<(), Errno> {
        let mut chunk = vec![0u8; COPY_CHUNK];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(COPY_CHUNK as u64) as usize;
            let at = off.checked_add(done).ok_or(Errno::Inval)?;
            let got = read_file_at(self.fds.file(fd)?, &mut chunk[..n], at)?;
            self.mm.write(base + done, &chunk[..got])?;
            if got < n {
                break;
            }
            done += n as u64;
        }
        Ok(())
    }

    /// Copy `len` bytes of guest memory from `src` to `dst` in chunks.
    fn copy_guest(&mut self, src: u64, dst: u64, len: u64) -> Result<(), Errno> {
        let mut chunk = vec![0u8; COPY_CHUNK];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(COPY_CHUNK as u64) as usize;
            self.mm.read(src + done, &mut chunk[..n])?;
            self.mm.write(dst + done, &chunk[..n])?;
            done += n as u64;
        }
        Ok(())
    }

    fn sys_munmap(&mut self, addr: u64, len: u64) -> R {
        if addr & (self.mm.page - 1) != 0 || len == 0 {
            return Err(Errno::Inval);
        }
        let len = self.mm.ceil(len).ok_or(Errno::Inval)?;
        if addr.checked_add(len).is_none_or(|e| e > self.mm.task_size) {
            return Err(Errno::Inval);
        }
        let removed = self.mm.unmap(addr, len);
        self.invalidate_regions(&removed);
        Ok(0)
    }

    fn sys_mprotect(&mut self, addr: u64, len: u64) -> R {
        if addr & (self.mm.page - 1) != 0 {
            return Err(Errno::Inval);
        }
        let len = self.mm.ceil(len).ok_or(Errno::NoMem)?;
        if len == 0 {
            return Ok(0);
        }
        self.mm.check(addr, len).map_err(|_| Errno::NoMem)?;
        // Protections are not enforced; code translated from the range is
        // dropped so a change of what is executable is always seen.
        let regions: Vec<_> = self
            .mm
            .space
            .regions()
            .iter()
            .filter(|r| r.base < addr + len && addr <= r.last())
            .cloned()
            .collect();
        self.invalidate_regions(&regions);
        Ok(0)
    }

    fn sys_mremap(&mut self, old: u64, old_len: u64, new_len: u64, flags: u64, new_addr: u64) -> R {
        let c = self.consts;
        let page = self.mm.page;
        if old & (page - 1) != 0
            || new_len == 0
            || flags & !(c.mremap_maymove | c.mremap_fixed) != 0
        {
            return Err(Errno::Inval);
        }
        let old_len = self.mm.ceil(old_len).ok_or(Errno::Inval)?;
        let new_len = self.mm.ceil(new_len).ok_or(Errno::NoMem)?;
        if old_len == 0 || new_len > self.mm.task_size {
            return Err(Errno::Inval);
        }
        self.mm.check(old, old_len)?;
        let fixed = flags & c.mremap_fixed != 0;
        if fixed && flags & c.mremap_maymove == 0 {
            return Err(Errno::Inval);
        }
        if !fixed {
            if new_len <= old_len {
                let removed = self.mm.unmap(old + new_len, old_len - new_len);
                self.invalidate_regions(&removed);
                return Ok(old);
            }
            let grow = new_len - old_len;
            if self.mm.is_free(old + old_len, grow) {
                self.mm.map_new(old + old_len, grow, "[anon]")?;
                return Ok(old);
            }
            if flags & c.mremap_maymove == 0 {
                return Err(Errno::NoMem);
            }
        }
        let dest = if fixed {
            if new_addr & (page - 1) != 0
                || new_addr < MIN_ADDR
                || new_addr
                    .checked_add(new_len)
                    .is_none_or(|e| e > self.mm.task_size)
                || (new_addr < old + old_len && old < new_addr + new_len)
            {
                return Err(Errno::Inval);
            }
            let removed = self.mm.unmap(new_addr, new_len);
            self.invalidate_regions(&removed);
            new_addr
        } else {
            self.mm.find_free(new_len).ok_or(Errno::NoMem)?
        };
        self.mm.map_new(dest, new_len, "[anon]")?;
        self.copy_guest(old, dest, old_len.min(new_len))?;
        let removed = self.mm.unmap(old, old_len);
        self.invalidate_regions(&removed);
        Ok(dest)
    }

    fn sys_madvise(&mut self, addr: u64, len: u64, advice: u64) -> R {
        const MADV_DONTNEED: u64 = 4;
        if addr & (self.mm.page - 1) != 0 {
            return Err(Errno::Inval);
        }
        let len = self.mm.ceil(len).ok_or(Errno::Inval)?;
        if advice == MADV_DONTNEED && len > 0 {
            // Private anonymous memory reads back as zeros afterwards.
            self.mm.check(addr, len).map_err(|_| Errno::NoMem)?;
            self.mm.zero(addr, len)?;
        }
        Ok(0)
    }

    // ---- identity, time, randomness ----

    fn sys_uname(&mut self, buf: u64) -> R {
        let fields: [&[u8]; 6] = [
            b"Linux",
            b"hemu",
            b"6.1.0",
            b"#1 SMP hemu",
            self.abi.uname_machine.as_bytes(),
            b"(none)",
        ];
        let mut b = vec![0u8; 65 * 6];
        for (i, f) in fields.iter().enumerate() {
            let n = f.len().min(64);
            b[i * 65..i * 65 + n].copy_from_slice(&f[..n]);
        }
        self.mm.write(buf, &b)?;
        Ok(0)
    }

    /// `struct sysinfo`: the same machine every run (8 GiB of RAM, half
    /// free, no swap, one process), counted in pages.
    fn sys_sysinfo(&mut self, buf: u64) -> R {
        let w = self.mm.word;
        let page = self.mm.page;
        let size = (11 * w + 20).div_ceil(w) * w;
        let mut b = vec![0u8; size as usize];
        let mut put = |off: u64, v: u64, n: u64| {
            let e = self.mm.encode(v, n as usize);
            b[off as usize..(off + n) as usize].copy_from_slice(&e);
        };
        put(0, self.start.elapsed().as_secs(), w);
        put(4 * w, (8 << 30) / page, w);
        put(5 * w, (4 << 30) / page, w);
        put(10 * w, 1, 2);
        put(13 * w, page, 4);
        self.mm.write(buf, &b)?;
        Ok(0)
    }

    fn sys_getrandom(&mut self, buf: u64, len: u64) -> R {
        let n = len.min(MAX_RANDOM);
        self.mm.check(buf, n)?;
        let mut b = vec![0u8; n as usize];
        self.rng.fill(&mut b);
        self.mm.write(buf, &b)?;
        Ok(n)
    }

    /// The time of clock `id`: realtime clocks from the host's wall
    /// clock, the others from the time since the program started.
    fn clock(&self, id: u64) -> Result<(i64, u64), Errno> {
        const REALTIME: [u64; 4] = [0, 5, 8, 11];
        // Negative ids are the CPU clocks of processes and threads.
        if (id as i32) >= 0 && (id > 11 || id == 10) {
            return Err(Errno::Inval);
        }
        Ok(if REALTIME.contains(&id) {
            let d = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            (d.as_secs() as i64, u64::from(d.subsec_nanos()))
        } else {
            let d = self.start.elapsed();
            (d.as_secs() as i64, u64::from(d.subsec_nanos()))
        })
    }

    /// Write a `timespec`: 64-bit fields if `wide`, else word-sized ones.
    fn put_timespec(&mut self, addr: u64, sec: i64, nsec: u64, wide: bool) -> Result<(), Errno> {
        let n = if wide { 8 } else { self.mm.word as usize };
        let mut b = self.mm.encode(sec as u64, n);
        b.extend(self.mm.encode(nsec, n));
        self.mm.write(addr, &b)
    }

    fn sys_gettimeofday(&mut self, tv: u64, tz: u64) -> R {
        let (sec, nsec) = self.clock(0)?;
        let w = self.mm.word as usize;
        if tv != 0 {
            let mut b = self.mm.encode(sec as u64, w);
            b.extend(self.mm.encode(nsec / 1000, w));
            self.mm.write(tv, &b)?;
        }
        if tz != 0 {
            self.mm.write(tz, &[0u8; 8])?;
        }
        Ok(0)
    }

    fn sys_sleep(&mut self, req: u64, wide: bool, clock: u64, absolute: bool) -> R {
        let n = if wide { 8 } else { self.mm.word as usize };
        let sec = self.mm.read_int(req, n)?;
        let nsec = self.mm.read_int(req + n as u64, n)?;
        let sec = if n == 8 { sec as i64 } else { self.signed(sec) };
        if sec < 0 || nsec >= 1_000_000_000 {
            return Err(Errno::Inval);
        }
        let mut d = Duration::new(sec as u64, nsec as u32);
        if absolute {
            let (now_s, now_ns) = self.clock(clock)?;
            let now = Duration::new(now_s.max(0) as u64, now_ns as u32);
            d = d.saturating_sub(now);
        }
        std::thread::sleep(d.min(MAX_SLEEP));
        Ok(0)
    }

    fn sys_getrlimit(&mut self, res: u64, buf: u64) -> R {
        let (cur, max) = self.rlimit(res)?;
        let inf = if self.mm.word >= 8 {
            self.word_mask
        } else {
            self.consts.rlim_infinity32
        };
        let w = self.mm.word as usize;
        let mut b = self.mm.encode(cur.min(inf), w);
        b.extend(self.mm.encode(max.min(inf), w));
        self.mm.write(buf, &b)?;
        Ok(0)
    }

    fn sys_prlimit(&mut self, pid: u64, res: u64, old: u64) -> R {
        if pid != 0 && pid != u64::from(self.pid) {
            return Err(Errno::Srch);
        }
        let (cur, max) = self.rlimit(res)?;
        if old != 0 {
            let mut b = self.mm.encode(cur, 8);
            b.extend(self.mm.encode(max, 8));
            self.mm.write(old, &b)?;
        }
        Ok(0)
    }

    fn rlimit(&self, res: u64) -> Result<(u64, u64), Errno> {
        let c = self.consts;
        if res >= 16 {
            return Err(Errno::Inval);
        }
        Ok(if res == u64::from(c.rlimit_stack) {
            (STACK_SIZE, RLIM64_INFINITY)
        } else if res == u64::from(c.rlimit_nofile) {
            (MAX_FDS as u64, MAX_FDS as u64)
        } else {
            (RLIM64_INFINITY, RLIM64_INFINITY)
        })
    }

    fn sys_futex(&mut self, uaddr: u64, op: u64, val: u64) -> R {
        const FUTEX_WAIT: u64 = 0;
        const FUTEX_WAKE: u64 = 1;
        const FUTEX_WAIT_BITSET: u64 = 9;
        const FUTEX_WAKE_BITSET: u64 = 10;
        match op & 0x7f {
            FUTEX_WAKE | FUTEX_WAKE_BITSET => Ok(0),
            FUTEX_WAIT | FUTEX_WAIT_BITSET => {
                // One thread: nobody could wake a waiter.
                let cur = self.mm.read_int(uaddr, 4)?;
                if cur != val & 0xffff_ffff {
                    Err(Errno::Again)
                } else {
                    Err(Errno::TimedOut)
                }
            }
            _ => Err(Errno::NoSys),
        }
    }

    // ---- signals ----

    fn sys_sigaction(&mut self, sig: u64, act: u64, oact: u64, setsize: u64) -> R {
        let c = self.consts;
        if setsize != c.sigset_bytes {
            return Err(Errno::Inval);
        }
        let sig = u32::try_from(sig).map_err(|_| Errno::Inval)?;
        if sig == 0 || sig > c.nsig {
            return Err(Errno::Inval);
        }
        let w = self.mm.word;
        let new = if act != 0 {
            if c.sig_uncatchable.contains(&sig) {
                return Err(Errno::Inval);
            }
            let (h, f) = if c.sigaction_flags_first {
                (act + w, act)
            } else {
                (act, act + w)
            };
            Some(super::SigAction {
                handler: self.mm.read_word(h)?,
                flags: self.mm.read_word(f)?,
                mask: self.read_sigset(act + 2 * w)?,
            })
        } else {
            None
        };
        if oact != 0 {
            let o = self.sigactions[sig as usize];
            let (first, second) = if c.sigaction_flags_first {
                (o.flags, o.handler)
            } else {
                (o.handler, o.flags)
            };
            let mut b = self.mm.encode(first, w as usize);
            b.extend(self.mm.encode(second, w as usize));
            b.extend(self.sigset_bytes(o.mask));
            self.mm.write(oact, &b)?;
        }
        if let Some(n) = new {
            self.sigactions[sig as usize] = n;
            if n.handler == SIG_IGN || (n.handler == SIG_DFL && c.sig_default_ignore.contains(&sig))
            {
                // An ignored signal is discarded, pending or not.
                self.sigpending &= !sig_bit(sig);
            }
        }
        Ok(0)
    }

    fn sys_sigprocmask(&mut self, how: u64, set: u64, oset: u64, setsize: u64) -> R {
        let [block, unblock, setmask] = self.consts.sig_how;
        if setsize != self.consts.sigset_bytes {
            return Err(Errno::Inval);
        }
        let new = if set != 0 {
            Some(self.read_sigset(set)?)
        } else {
            None
        };
        if oset != 0 {
            let b = self.sigset_bytes(self.sigmask);
            self.mm.write(oset, &b)?;
        }
        if let Some(s) = new {
            let mask = match how {
                h if h == block => self.sigmask | s,
                h if h == unblock => self.sigmask & !s,
                h if h == setmask => s,
                _ => return Err(Errno::Inval),
            };
            let never: u64 = self
                .consts
                .sig_uncatchable
                .iter()
                .map(|s| sig_bit(*s))
                .sum();
            self.sigmask = mask & !never;
        }
        Ok(0)
    }

    /// The process sends itself `sig`: ignored, left pending (blocked), or
    /// it ends the process as the default action does. Handlers are not
    /// run: a caught signal ends the process too, with a note.
    fn raise(&mut self, sig: u64) -> Result<R, Ending> {
        let c = self.consts;
        let Some(sig) = u32::try_from(sig).ok().filter(|s| *s <= c.nsig) else {
            return Ok(Err(Errno::Inval));
        };
        if sig == 0 {
            return Ok(Ok(0));
        }
        let catchable = !c.sig_uncatchable.contains(&sig);
        let bit = sig_bit(sig);
        let handler = self.sigactions[sig as usize].handler;
        if catchable && handler == SIG_IGN {
            return Ok(Ok(0));
        }
        if catchable && self.sigmask & bit != 0 {
            // Blocked: delivered when the mask lets it through.
            self.sigpending |= bit;
            return Ok(Ok(0));
        }
        self.act_on(sig).map(|_| Ok(0))
    }

    /// Deliver the lowest pending signal the mask no longer blocks.
    fn deliver_pending(&mut self) -> Result<(), Ending> {
        let ready = self.sigpending & !self.sigmask;
        if ready == 0 {
            return Ok(());
        }
        let sig = ready.trailing_zeros() + 1;
        self.sigpending &= !(1u64 << (sig - 1));
        self.act_on(sig)
    }

    /// Take signal `sig`'s action (it is neither ignored nor blocked).
    fn act_on(&mut self, sig: u32) -> Result<(), Ending> {
        let c = self.consts;
        let catchable = !c.sig_uncatchable.contains(&sig);
        let handler = self.sigactions[sig as usize].handler;
        if catchable && handler == SIG_DFL && c.sig_default_ignore.contains(&sig) {
            return Ok(());
        }
        let report = (catchable && handler != SIG_DFL).then(|| {
            format!("signal {sig} has a guest handler, which user mode cannot run yet; terminating")
        });
        Err(Ending::Signaled {
            signal: sig,
            report,
        })
    }
}

/// The bit of signal `sig` (1..) in hemu's 64-bit masks; 0 for signals
/// past 64 (MIPS has 128), which are then never blocked or pending.
fn sig_bit(sig: u32) -> u64 {
    1u64.checked_shl(sig.wrapping_sub(1)).unwrap_or(0)
}
