//! Linux user mode end to end: `hemu run` on the checked-in static test
//! programs of `tests/guests/riscv-user/bin/` (built by `cargo xtask
//! guests`; sources beside them), checking stdout, stderr and the exit
//! status. Every expectation was first checked against `qemu-riscv64` /
//! `qemu-riscv32` (QEMU's user mode), except where a comment says why
//! hemu differs.
//!
//! The benchmark programs (`tests/guests/bench/`, static glibc, built into
//! `target/guests/bench/riscv64/` by `cargo xtask guests`) are checked by
//! `benchmark_programs`, which says SKIPPED when they are not built.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A hang fails the test instead of blocking it.
const TIMEOUT: Duration = Duration::from_secs(30);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a user-mode guest, relative to the workspace root (the tests
/// run there, so this is also argv[0] and AT_EXECFN).
fn guest(name: &str) -> String {
    format!("tests/guests/riscv-user/bin/{name}.elf")
}

#[derive(Debug)]
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run hemu with `args` and only the environment `env`, stdin empty,
/// killing it after `timeout`.
fn hemu_with(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(root())
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hemu starts");
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for hemu") {
            Some(s) => break s,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "hemu {} did not exit within {}s (killed)",
                    args.join(" "),
                    timeout.as_secs()
                );
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Outcome {
        status: status.code(),
        stdout: text(out_thread.join().unwrap_or_default()),
        stderr: text(err_thread.join().unwrap_or_default()),
    }
}

fn hemu(args: &[&str]) -> Outcome {
    hemu_with(args, &[], TIMEOUT)
}

/// Run `hemu run <guest> args...`; expect this stdout, status and an
/// empty stderr.
fn expect_run(name: &str, args: &[&str], stdout: &str, status: i32) {
    let g = guest(name);
    let mut all = vec!["run", g.as_str()];
    all.extend_from_slice(args);
    let o = hemu(&all);
    assert_eq!(o.stdout, stdout, "{name}: stdout ({o:?})");
    assert_eq!(o.status, Some(status), "{name}: status ({o:?})");
    assert_eq!(o.stderr, "", "{name}: stderr");
}

#[test]
fn hello_rv64() {
    expect_run("hello64", &[], "Hello from hemu user mode (rv64)\n", 0);
}

#[test]
fn hello_rv32() {
    expect_run("hello32", &[], "Hello from hemu user mode (rv32)\n", 0);
}

#[test]
fn exit_status_is_the_guests() {
    expect_run("exit42", &[], "", 42);
}

#[test]
fn brk_grows_and_shrinks() {
    expect_run("brk", &[], "brk ok\n", 0);
}

#[test]
fn anonymous_mmap_munmap_mprotect() {
    expect_run("mmap", &[], "mmap ok\n", 0);
}

#[test]
fn bad_pointers_give_efault() {
    expect_run("efault", &[], "EFAULT ok\n", 0);
}

#[test]
fn abort_ends_like_sigabrt() {
    // 134 = 128 + SIGABRT, what a shell shows for an aborted host program.
    expect_run("abort", &[], "ignored ok\nblocked ok\n", 134);
}

/// The lines `auxv64`/`auxv32` print, but AT_RANDOM's.
fn auxv_expected(name: &str, args: &[&str], phent: u32, loads: u32, platform: &str) -> String {
    let path = guest(name);
    let mut s = format!("sp%16=0\nargc={}\nargv[0]={path}\n", args.len() + 1);
    for (i, a) in args.iter().enumerate() {
        s += &format!("argv[{}]={a}\n", i + 1);
    }
    s += &format!(
        "env=EMPTY=\nenv=FOO=bar\nAT_PAGESZ=4096\nAT_CLKTCK=100\nAT_PHENT={phent}\n\
         AT_SECURE=0\nAT_BASE=0\nAT_ENTRY ok\nPT_LOAD headers={loads}\n\
         AT_UID..AT_EGID present\nAT_HWCAP has I\nAT_EXECFN={path}\n\
         AT_PLATFORM={platform}\n"
    );
    s
}

/// Run an auxv guest with `--seed seed`; returns AT_RANDOM's hex digits.
fn auxv_run(name: &str, seed: &str, phent: u32, loads: u32, platform: &str) -> String {
    // hemu's own flags after PROG belong to the guest, untouched.
    let args = ["-x", "--seed", "5", "-kernel", "--max-insns=1"];
    let g = guest(name);
    let mut all = vec!["run", "--seed", seed, g.as_str()];
    all.extend_from_slice(&args);
    // (std::process::Command passes the environment sorted by name.)
    let o = hemu_with(&all, &[("FOO", "bar"), ("EMPTY", "")], TIMEOUT);
    assert_eq!(o.status, Some(0), "{name}: {o:?}");
    assert_eq!(o.stderr, "", "{name}");
    let (head, random) = o
        .stdout
        .rsplit_once("AT_RANDOM=")
        .unwrap_or_else(|| panic!("{name}: no AT_RANDOM line in {:?}", o.stdout));
    assert_eq!(head, auxv_expected(name, &args, phent, loads, platform));
    let random = random.trim_end().to_string();
    assert!(
        random.len() == 32 && random.chars().all(|c| c.is_ascii_hexdigit()),
        "{name}: AT_RANDOM={random}"
    );
    random
}

#[test]
fn initial_stack_rv64() {
    let a = auxv_run("auxv64", "1", 56, 2, "riscv64");
    assert_eq!(a, auxv_run("auxv64", "1", 56, 2, "riscv64"), "--seed");
    assert_ne!(a, auxv_run("auxv64", "2", 56, 2, "riscv64"), "--seed");
}

#[test]
fn initial_stack_rv32_unaligned_segments() {
    // Linked with -n: one segment at a non-page-aligned address that does
    // not hold the program headers (hemu copies them onto the stack).
    // (Real RISC-V Linux gives no AT_PLATFORM; QEMU gives none either.)
    let a = auxv_run("auxv32", "1", 32, 1, "riscv32");
    assert_eq!(a, auxv_run("auxv32", "1", 32, 1, "riscv32"), "--seed");
}

#[test]
fn files_read_mapped_and_closed() {
    let dir = std::env::temp_dir().join(format!("hemu-user-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.txt");
    let text = "first line\nsecond line, a little longer\n";
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let want = format!("size={}\n{text}{text}EBADF ok\nENOENT ok\n", text.len());
    expect_run("cat", &[f], &want, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_syscalls_are_enosys_and_noted_once() {
    let o = hemu(&["run", &guest("enosys")]);
    assert_eq!(o.stdout, "ENOSYS ok\n");
    assert_eq!(o.status, Some(0));
    assert_eq!(
        o.stderr,
        "hemu: unimplemented syscall 999\nhemu: unimplemented syscall 258\n"
    );
}

#[test]
fn misc_syscalls() {
    let run = |seed: &str| {
        let o = hemu(&["run", "--seed", seed, &guest("misc")]);
        assert_eq!(o.status, Some(0), "{o:?}");
        assert_eq!(o.stderr, "");
        o.stdout
    };
    let out = run("7");
    let exe = std::fs::canonicalize(root().join(guest("misc"))).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let random = lines
        .iter()
        .find_map(|l| l.strip_prefix("getrandom="))
        .unwrap_or_else(|| panic!("no getrandom line: {out}"));
    assert_eq!(random.len(), 32, "{out}");
    let want = format!(
        "sysname=Linux\nmachine=riscv64\nclocks ok\ngetrandom={random}\ntid ok\n\
         stack limit=8388608\nexe={}\nENOTTY ok\nsigprocmask ok\n",
        exe.display()
    );
    assert_eq!(out, want);
    assert_eq!(run("7"), out, "--seed makes getrandom deterministic");
    assert_ne!(run("8"), out);
}

#[test]
fn self_modifying_code_sees_every_write() {
    // Generated code stores straight into the address window, where pages
    // holding translated code are read-only: plain stores, a block storing
    // into itself and a system call writing next to the code must all
    // reach it, on both engines.
    for accel in ["jit", "interp"] {
        let g = guest("smc");
        let o = hemu(&["run", "--accel", accel, &g]);
        assert_eq!(
            o.stdout, "store ok\nown block ok\nsyscall ok\n",
            "{accel}: {o:?}"
        );
        assert_eq!(o.status, Some(0), "{accel}: {o:?}");
    }
}

/// The guest faults: status `status`, stdout `stdout`, and one stderr line
/// naming the trap and the pc.
fn expect_fault(name: &str, stdout: &str, status: i32, trap: &str, pc: u64) {
    let o = hemu(&["run", &guest(name)]);
    assert_eq!(o.stdout, stdout, "{name}");
    assert_eq!(o.status, Some(status), "{name}: {o:?}");
    let want = format!("hemu: guest fault: {trap} at pc={pc:#x}");
    assert!(
        o.stderr.starts_with(&want) && o.stderr.lines().count() == 1,
        "{name}: expected '{want}...', got {:?}",
        o.stderr
    );
}

#[test]
fn store_to_unmapped_memory_is_sigsegv() {
    // `sb zero, 0(s0)` at symbol `faulting_store`, after munmap of s0's page.
    expect_fault("segv", "unmapped\n", 139, "store access fault", 0x100f8);
}

#[test]
fn illegal_instruction_is_sigill() {
    // `.word 0` at symbol `illegal_insn`.
    expect_fault("illegal", "before\n", 132, "illegal instruction", 0x100c0);
}

#[test]
fn instruction_limit() {
    let o = hemu(&["run", "--max-insns", "3", &guest("hello64")]);
    assert_eq!(o.status, Some(3), "{o:?}");
    assert_eq!(o.stderr, "hemu: instruction limit reached\n");
}

fn tmp(name: &str, data: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hemu-user-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// Bad programs: one line naming the file, status 2.
#[test]
fn bad_programs_are_bad_input() {
    let hello = std::fs::read(root().join(guest("hello64"))).unwrap();
    let mut x86 = hello.clone();
    x86[18] = 62; // e_machine = EM_X86_64
    let mut big = hello.clone();
    big[5] = 2; // big-endian
    let mut dynamic = hello.clone();
    dynamic[16] = 4; // e_type = ET_CORE
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text", b"#!/bin/sh\necho hi\n".to_vec(), "not an ELF file"),
        ("short", hello[..20].to_vec(), "truncated ELF file"),
        ("x86", x86, "no frontend runs 64-bit little-endian"),
        ("big", big, "no frontend runs 64-bit big-endian"),
        ("core", dynamic, "not an executable (ELF type 4)"),
        ("cut", hello[..200].to_vec(), "past the end of the file"),
    ];
    for (name, data, want) in cases {
        let p = tmp(name, &data);
        let o = hemu(&["run", p.to_str().unwrap()]);
        assert_eq!(o.status, Some(2), "{name}: {o:?}");
        let line = format!("hemu: {}: ", p.display());
        assert!(
            o.stderr.starts_with(&line) && o.stderr.contains(want),
            "{name}: expected '{line}...{want}', got {:?}",
            o.stderr
        );
        assert_eq!(o.stderr.lines().count(), 1, "{name}: {:?}", o.stderr);
    }
    let o = hemu(&["run", "/nonexistent/prog"]);
    assert_eq!(o.status, Some(2));
    assert!(o.stderr.starts_with("hemu: /nonexistent/prog: "), "{o:?}");
}

/// Corrupted headers of a real program: an error or a run, never a panic
/// or a hang. (A seeded xorshift keeps every run identical.)
#[test]
fn corrupted_programs_never_panic() {
    let hello = std::fs::read(root().join(guest("auxv64"))).unwrap();
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for i in 0..60 {
        let mut d = hello.clone();
        for _ in 0..1 + next() % 4 {
            // ELF header and program headers live in the first 0xb0 bytes.
            let at = (next() % 0xb0) as usize;
            d[at] = next() as u8;
        }
        let p = tmp(&format!("fuzz{i}"), &d);
        let o = hemu_with(
            &["run", "--max-insns", "100000", p.to_str().unwrap()],
            &[],
            TIMEOUT,
        );
        assert!(
            !o.stderr.contains("panicked") && o.status != Some(101),
            "case {i}: {o:?}"
        );
    }
}

/// The benchmark programs, when `cargo xtask guests` has built them: each
/// prints its expected line for one repetition.
#[test]
fn benchmark_programs() {
    let expected = std::fs::read_to_string(root().join("tests/guests/bench/expected.txt")).unwrap();
    let dir = root().join("target/guests/bench/riscv64");
    let mut ran = 0;
    for line in expected.lines().filter(|l| l.contains("reps=1 ")) {
        let prog = line.split(' ').next().unwrap();
        let bin = dir.join(prog);
        if !bin.is_file() {
            println!(
                "SKIPPED: {} is not built (run `cargo xtask guests`; needs libc6-dev-riscv64-cross)",
                bin.display()
            );
            return;
        }
        let o = hemu_with(
            &["run", bin.to_str().unwrap(), "1"],
            &[],
            Duration::from_secs(600),
        );
        assert_eq!(o.stdout.lines().last(), Some(line), "{prog}: {o:?}");
        assert_eq!(o.status, Some(0), "{prog}: {o:?}");
        ran += 1;
    }
    assert_eq!(ran, 6, "six benchmark programs");
}
