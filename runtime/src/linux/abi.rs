//! Linux ABI tables: system-call numbers, errno values, flag bits and
//! struct layouts, keyed by the ids an ISA names in its
//! [`LinuxAbi`](crate::cpu::LinuxAbi). No ISA is named here: a table is a
//! Linux convention (`asm-generic`, later MIPS o32, ...) that several ISAs
//! may share.

/// Which Linux system-call convention a program uses: numbers, errno
/// values, flag bits and the layouts of the structs system calls exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallTable {
    /// `include/uapi/asm-generic/unistd.h` numbers with the generic errno,
    /// `fcntl.h`, `mman.h` and signal values (RISC-V, LoongArch, ...).
    /// 32-bit programs use its 32-bit variants (`mmap2`, `llseek`, the
    /// `*_time64` calls).
    AsmGeneric,
    /// MIPS o32: `arch/mips/include/uapi/asm/unistd.h` numbers (4000 + n),
    /// MIPS errno, `fcntl.h`, `mman.h`, ioctl and signal values; arguments
    /// five to eight on the stack at sp+16.
    MipsO32,
}

/// How a system call reports failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorReturn {
    /// The result register holds `-errno` (most ISAs).
    Negated,
    /// The result register holds `errno` and this register is set to 1
    /// (0 on success), as MIPS does with `a3`.
    FlagRegister(usize),
}

/// Layout of `struct stat` for `fstat`/`newfstatat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatLayout {
    /// `asm-generic/stat.h`: 64-bit device, inode, size and block fields,
    /// then word-sized time fields (128 bytes with 64-bit words; `stat64`,
    /// 104 bytes, with 32-bit words).
    Generic,
}

/// A system call the dispatcher knows, by meaning rather than number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Sys {
    Getcwd,
    Dup,
    Dup3,
    Fcntl,
    Ioctl,
    Faccessat,
    Faccessat2,
    Openat,
    Close,
    Lseek,
    Llseek,
    Read,
    Write,
    Readv,
    Writev,
    Pread64,
    Pwrite64,
    Readlinkat,
    Newfstatat,
    Fstat,
    Statx,
    Exit,
    ExitGroup,
    SetTidAddress,
    Futex,
    SetRobustList,
    Nanosleep,
    ClockGettime,
    ClockGettime64,
    ClockGetres,
    ClockGetres64,
    ClockNanosleep,
    ClockNanosleep64,
    SchedYield,
    Kill,
    Tkill,
    Tgkill,
    Sigaltstack,
    RtSigaction,
    RtSigprocmask,
    Uname,
    Getrlimit,
    Setrlimit,
    Prlimit64,
    Umask,
    Gettimeofday,
    Getpid,
    Getppid,
    Getuid,
    Geteuid,
    Getgid,
    Getegid,
    Gettid,
    Sysinfo,
    Brk,
    Munmap,
    Mremap,
    Mmap,
    Mmap2,
    Mprotect,
    Madvise,
    Getrandom,
    Rseq,
    // Legacy calls of older tables (MIPS o32), served by their *at forms.
    Open,
    Access,
    Dup2,
    Readlink,
    SetThreadArea,
}

/// The system call numbered `nr` in `table` for a program with
/// `word_bits`-bit words, if the dispatcher knows it.
pub fn lookup(table: SyscallTable, word_bits: u32, nr: u64) -> Option<Sys> {
    match table {
        SyscallTable::AsmGeneric => asm_generic(word_bits == 64, nr),
        SyscallTable::MipsO32 => mips_o32(nr),
    }
}

/// MIPS o32 (`unistd_o32.h`): 4000 + the number below. 64-bit time calls
/// are the `*_time64` ones; `stat64`/`fstatat64` are not served (glibc
/// uses `statx`).
fn mips_o32(nr: u64) -> Option<Sys> {
    use Sys::*;
    Some(match nr.checked_sub(4000)? {
        1 => Exit,
        3 => Read,
        4 => Write,
        5 => Open,
        6 => Close,
        19 => Lseek,
        20 => Getpid,
        24 => Getuid,
        33 => Access,
        37 => Kill,
        41 => Dup,
        45 => Brk,
        47 => Getgid,
        49 => Geteuid,
        50 => Getegid,
        54 => Ioctl,
        55 => Fcntl,
        60 => Umask,
        63 => Dup2,
        64 => Getppid,
        75 => Setrlimit,
        76 => Getrlimit,
        78 => Gettimeofday,
        85 => Readlink,
        90 => Mmap,
        91 => Munmap,
        116 => Sysinfo,
        122 => Uname,
        125 => Mprotect,
        140 => Llseek,
        145 => Readv,
        146 => Writev,
        162 => SchedYield,
        166 => Nanosleep,
        167 => Mremap,
        194 => RtSigaction,
        195 => RtSigprocmask,
        200 => Pread64,
        201 => Pwrite64,
        203 => Getcwd,
        206 => Sigaltstack,
        210 => Mmap2,
        218 => Madvise,
        220 => Fcntl,
        222 => Gettid,
        236 => Tkill,
        238 => Futex,
        246 => ExitGroup,
        252 => SetTidAddress,
        263 => ClockGettime,
        264 => ClockGetres,
        265 => ClockNanosleep,
        266 => Tgkill,
        283 => SetThreadArea,
        288 => Openat,
        298 => Readlinkat,
        300 => Faccessat,
        309 => SetRobustList,
        327 => Dup3,
        338 => Prlimit64,
        353 => Getrandom,
        366 => Statx,
        367 => Rseq,
        403 => ClockGettime64,
        406 => ClockGetres64,
        407 => ClockNanosleep64,
        422 => Futex,
        439 => Faccessat2,
        _ => return None,
    })
}

fn asm_generic(is64: bool, nr: u64) -> Option<Sys> {
    use Sys::*;
    Some(match nr {
        17 => Getcwd,
        23 => Dup,
        24 => Dup3,
        25 => Fcntl,
        29 => Ioctl,
        48 => Faccessat,
        56 => Openat,
        57 => Close,
        62 if is64 => Lseek,
        62 => Llseek,
        63 => Read,
        64 => Write,
        65 => Readv,
        66 => Writev,
        67 => Pread64,
        68 => Pwrite64,
        78 => Readlinkat,
        // 32-bit asm-generic programs use statx (no 32-bit-time stat64).
        79 if is64 => Newfstatat,
        80 if is64 => Fstat,
        93 => Exit,
        94 => ExitGroup,
        96 => SetTidAddress,
        98 => Futex,
        99 => SetRobustList,
        101 => Nanosleep,
        113 => ClockGettime,
        114 => ClockGetres,
        115 => ClockNanosleep,
        124 => SchedYield,
        129 => Kill,
        130 => Tkill,
        131 => Tgkill,
        132 => Sigaltstack,
        134 => RtSigaction,
        135 => RtSigprocmask,
        160 => Uname,
        163 => Getrlimit,
        164 => Setrlimit,
        166 => Umask,
        169 => Gettimeofday,
        172 => Getpid,
        173 => Getppid,
        174 => Getuid,
        175 => Geteuid,
        176 => Getgid,
        177 => Getegid,
        178 => Gettid,
        179 => Sysinfo,
        214 => Brk,
        215 => Munmap,
        216 => Mremap,
        222 if is64 => Mmap,
        222 => Mmap2,
        226 => Mprotect,
        233 => Madvise,
        261 => Prlimit64,
        278 => Getrandom,
        291 => Statx,
        293 => Rseq,
        403 if !is64 => ClockGettime64,
        406 if !is64 => ClockGetres64,
        407 if !is64 => ClockNanosleep64,
        422 if !is64 => Futex,
        439 => Faccessat2,
        _ => return None,
    })
}

/// An error a system call returns, by meaning; [`Consts::errno`] gives its
/// number in a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Errno {
    Perm,
    NoEnt,
    Srch,
    Intr,
    Io,
    NxIo,
    TooBig,
    BadF,
    Again,
    NoMem,
    Acces,
    Fault,
    Busy,
    Exist,
    XDev,
    NoDev,
    NotDir,
    IsDir,
    Inval,
    NFile,
    MFile,
    NoTty,
    TxtBsy,
    FBig,
    NoSpc,
    SPipe,
    RoFs,
    MLink,
    Pipe,
    Range,
    NameTooLong,
    NoSys,
    NotEmpty,
    Loop,
    Overflow,
    TimedOut,
    NotSup,
}

/// Flag bits, request codes and signal numbers of one table.
#[derive(Debug)]
pub struct Consts {
    /// `O_*` bits of `openat`.
    pub o_wronly: u64,
    /// See [`Consts::o_wronly`].
    pub o_rdwr: u64,
    /// `O_CREAT`.
    pub o_creat: u64,
    /// `O_EXCL`.
    pub o_excl: u64,
    /// `O_TRUNC`.
    pub o_trunc: u64,
    /// `O_APPEND`.
    pub o_append: u64,
    /// `O_DIRECTORY`.
    pub o_directory: u64,
    /// `O_CLOEXEC`.
    pub o_cloexec: u64,
    /// `MAP_SHARED`.
    pub map_shared: u64,
    /// `MAP_PRIVATE`.
    pub map_private: u64,
    /// `MAP_FIXED`.
    pub map_fixed: u64,
    /// `MAP_ANONYMOUS`.
    pub map_anonymous: u64,
    /// `MAP_FIXED_NOREPLACE`.
    pub map_fixed_noreplace: u64,
    /// `PROT_EXEC`.
    pub prot_exec: u64,
    /// `MREMAP_MAYMOVE`.
    pub mremap_maymove: u64,
    /// `MREMAP_FIXED`.
    pub mremap_fixed: u64,
    /// `AT_FDCWD`.
    pub at_fdcwd: i32,
    /// `AT_SYMLINK_NOFOLLOW`.
    pub at_symlink_nofollow: u64,
    /// `AT_EMPTY_PATH`.
    pub at_empty_path: u64,
    /// ioctl `TCGETS`.
    pub tcgets: u64,
    /// ioctls `TCSETS`, `TCSETSW`, `TCSETSF`.
    pub tcsets: [u64; 3],
    /// ioctl `TIOCGWINSZ`.
    pub tiocgwinsz: u64,
    /// ioctl `TIOCGPGRP`.
    pub tiocgpgrp: u64,
    /// `SIGABRT` (for messages).
    pub sigabrt: u32,
    /// Signals whose default action is to do nothing (or stop/continue,
    /// which a lone process may treat the same way).
    pub sig_default_ignore: &'static [u32],
    /// Signals that cannot be caught (`SIGKILL`, `SIGSTOP`).
    pub sig_uncatchable: &'static [u32],
    /// Number of signals (`_NSIG`).
    pub nsig: u32,
    /// `RLIMIT_STACK`.
    pub rlimit_stack: u32,
    /// `RLIMIT_NOFILE`.
    pub rlimit_nofile: u32,
    /// `RLIM_INFINITY` of `getrlimit` for 32-bit programs.
    pub rlim_infinity32: u64,
    /// Size of the kernel's `sigset_t` (`rt_sigaction`, `rt_sigprocmask`).
    pub sigset_bytes: u64,
    /// `struct sigaction` starts with `sa_flags` (MIPS) rather than the
    /// handler.
    pub sigaction_flags_first: bool,
    /// System-call arguments past the registers are on the stack at this
    /// offset from sp (MIPS o32: 16), else there are none.
    pub stack_args: Option<u64>,
    /// Errno values that differ from asm-generic's.
    pub errno_overrides: &'static [(Errno, u64)],
    /// `SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`.
    pub sig_how: [u64; 3],
}

/// The asm-generic values.
pub static GENERIC: Consts = Consts {
    o_wronly: 0o1,
    o_rdwr: 0o2,
    o_creat: 0o100,
    o_excl: 0o200,
    o_trunc: 0o1000,
    o_append: 0o2000,
    o_directory: 0o200000,
    o_cloexec: 0o2000000,
    map_shared: 0x01,
    map_private: 0x02,
    map_fixed: 0x10,
    map_anonymous: 0x20,
    map_fixed_noreplace: 0x100000,
    prot_exec: 0x4,
    mremap_maymove: 1,
    mremap_fixed: 2,
    at_fdcwd: -100,
    at_symlink_nofollow: 0x100,
    at_empty_path: 0x1000,
    tcgets: 0x5401,
    tcsets: [0x5402, 0x5403, 0x5404],
    tiocgwinsz: 0x5413,
    tiocgpgrp: 0x540f,
    sigabrt: 6,
    // SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH
    sig_default_ignore: &[17, 18, 19, 20, 21, 22, 23, 28],
    sig_uncatchable: &[9, 19],
    nsig: 64,
    rlimit_stack: 3,
    rlimit_nofile: 7,
    rlim_infinity32: 0xffff_ffff,
    sigset_bytes: 8,
    sigaction_flags_first: false,
    stack_args: None,
    errno_overrides: &[],
    sig_how: [0, 1, 2],
};

/// The MIPS o32 values (`arch/mips/include/uapi/asm/`).
pub static MIPS_O32: Consts = Consts {
    o_wronly: 0o1,
    o_rdwr: 0o2,
    o_creat: 0x100,
    o_excl: 0x400,
    o_trunc: 0x200,
    o_append: 0x8,
    o_directory: 0o200000,
    o_cloexec: 0o2000000,
    map_shared: 0x01,
    map_private: 0x02,
    map_fixed: 0x10,
    map_anonymous: 0x800,
    map_fixed_noreplace: 0x100000,
    prot_exec: 0x4,
    mremap_maymove: 1,
    mremap_fixed: 2,
    at_fdcwd: -100,
    at_symlink_nofollow: 0x100,
    at_empty_path: 0x1000,
    tcgets: 0x540d,
    tcsets: [0x540e, 0x540f, 0x5410],
    tiocgwinsz: 0x4008_7468,
    tiocgpgrp: 0x4004_7477,
    sigabrt: 6,
    // SIGCHLD, SIGWINCH, SIGURG, SIGSTOP, SIGTSTP, SIGCONT, SIGTTIN, SIGTTOU
    sig_default_ignore: &[18, 20, 21, 23, 24, 25, 26, 27],
    sig_uncatchable: &[9, 23],
    nsig: 128,
    rlimit_stack: 3,
    rlimit_nofile: 5,
    rlim_infinity32: 0x7fff_ffff,
    sigset_bytes: 16,
    sigaction_flags_first: true,
    stack_args: Some(16),
    errno_overrides: &[
        (Errno::NameTooLong, 78),
        (Errno::Overflow, 79),
        (Errno::NoSys, 89),
        (Errno::Loop, 90),
        (Errno::NotEmpty, 93),
        (Errno::NotSup, 122),
        (Errno::TimedOut, 145),
    ],
    sig_how: [1, 2, 3],
};

impl Consts {
    /// The constants of `table`.
    pub fn of(table: SyscallTable) -> &'static Consts {
        match table {
            SyscallTable::AsmGeneric => &GENERIC,
            SyscallTable::MipsO32 => &MIPS_O32,
        }
    }

    /// The number of `e` in this table: its override, else the
    /// asm-generic `errno-base.h`/`errno.h` value.
    pub fn errno(&self, e: Errno) -> u64 {
        use Errno::*;
        if let Some((_, n)) = self.errno_overrides.iter().find(|(x, _)| *x == e) {
            return *n;
        }
        match e {
            Perm => 1,
            NoEnt => 2,
            Srch => 3,
            Intr => 4,
            Io => 5,
            NxIo => 6,
            TooBig => 7,
            BadF => 9,
            Again => 11,
            NoMem => 12,
            Acces => 13,
            Fault => 14,
            Busy => 16,
            Exist => 17,
            XDev => 18,
            NoDev => 19,
            NotDir => 20,
            IsDir => 21,
            Inval => 22,
            NFile => 23,
            MFile => 24,
            NoTty => 25,
            TxtBsy => 26,
            FBig => 27,
            NoSpc => 28,
            SPipe => 29,
            RoFs => 30,
            MLink => 31,
            Pipe => 32,
            Range => 34,
            NameTooLong => 36,
            NoSys => 38,
            NotEmpty => 39,
            Loop => 40,
            Overflow => 75,
            TimedOut => 110,
            NotSup => 95,
        }
    }
}

impl Errno {
    /// The guest error for a host I/O error.
    pub fn from_io(e: &std::io::Error) -> Errno {
        use std::io::ErrorKind as K;
        // Linux hosts number errors the asm-generic way; elsewhere only the
        // error kind is portable.
        if cfg!(target_os = "linux") {
            if let Some(n) = e.raw_os_error() {
                if let Some(x) = Errno::from_generic(n) {
                    return x;
                }
            }
        }
        match e.kind() {
            K::NotFound => Errno::NoEnt,
            K::PermissionDenied => Errno::Acces,
            K::AlreadyExists => Errno::Exist,
            K::InvalidInput => Errno::Inval,
            K::BrokenPipe => Errno::Pipe,
            K::WouldBlock => Errno::Again,
            K::Interrupted => Errno::Intr,
            K::OutOfMemory => Errno::NoMem,
            K::Unsupported => Errno::NotSup,
            _ => Errno::Io,
        }
    }

    fn from_generic(n: i32) -> Option<Errno> {
        use Errno::*;
        Some(match n {
            1 => Perm,
            2 => NoEnt,
            3 => Srch,
            4 => Intr,
            5 => Io,
            6 => NxIo,
            7 => TooBig,
            9 => BadF,
            11 => Again,
            12 => NoMem,
            13 => Acces,
            14 => Fault,
            16 => Busy,
            17 => Exist,
            18 => XDev,
            19 => NoDev,
            20 => NotDir,
            21 => IsDir,
            22 => Inval,
            23 => NFile,
            24 => MFile,
            25 => NoTty,
            26 => TxtBsy,
            27 => FBig,
            28 => NoSpc,
            29 => SPipe,
            30 => RoFs,
            31 => MLink,
            32 => Pipe,
            34 => Range,
            36 => NameTooLong,
            38 => NoSys,
            39 => NotEmpty,
            40 => Loop,
            75 => Overflow,
            95 => NotSup,
            110 => TimedOut,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_numbers_depend_on_word_size() {
        let t = SyscallTable::AsmGeneric;
        assert_eq!(lookup(t, 64, 64), Some(Sys::Write));
        assert_eq!(lookup(t, 64, 222), Some(Sys::Mmap));
        assert_eq!(lookup(t, 32, 222), Some(Sys::Mmap2));
        assert_eq!(lookup(t, 32, 62), Some(Sys::Llseek));
        assert_eq!(lookup(t, 32, 80), None);
        assert_eq!(lookup(t, 64, 403), None);
        assert_eq!(lookup(t, 64, 258), None, "258 is not served");
    }

    #[test]
    fn mips_o32_numbers_and_errno() {
        let t = SyscallTable::MipsO32;
        assert_eq!(lookup(t, 32, 4004), Some(Sys::Write));
        assert_eq!(lookup(t, 32, 4246), Some(Sys::ExitGroup));
        assert_eq!(lookup(t, 32, 4283), Some(Sys::SetThreadArea));
        assert_eq!(lookup(t, 32, 4), None);
        assert_eq!(lookup(t, 32, 64), None);
        let c = Consts::of(t);
        assert_eq!(c.errno(Errno::NoSys), 89);
        assert_eq!(c.errno(Errno::NoEnt), 2);
        assert_eq!(GENERIC.errno(Errno::NoSys), 38);
    }

    #[test]
    fn errno_round_trips() {
        for n in 1..200 {
            if let Some(e) = Errno::from_generic(n) {
                assert_eq!(GENERIC.errno(e), n as u64);
            }
        }
    }
}
