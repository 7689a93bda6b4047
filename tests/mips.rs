//! MIPS32r2 (`specs/mips/`, one frontend for both byte orders): decoding
//! against binutils, Linux user mode (`hemu run`) for mips and mipsel,
//! the benchmark programs, and bare-metal guests on `machines/mips.yaml`.
//!
//! The guests are checked in (`tests/guests/mips*/bin/`, built by `cargo
//! xtask guests`); the benchmark programs are built into
//! `target/guests/bench/{mips,mipsel}/` and say SKIPPED when missing.

use hemu_runtime::cpu::CpuModel;
use hemu_runtime::ir::Endian;
use hemu_runtime::linux::{elf, select_model};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug)]
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run hemu with `args` (empty environment, stdin empty), killed after
/// `timeout`.
fn hemu(args: &[&str], timeout: Duration) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(root())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hemu starts");
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for hemu") {
            Some(s) => break s,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hemu {} did not exit within {timeout:?}", args.join(" "));
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Outcome {
        status: status.code(),
        stdout: text(t_out.join().unwrap_or_default()),
        stderr: text(t_err.join().unwrap_or_default()),
    }
}

fn model(endian: &str) -> Box<dyn CpuModel> {
    let fe = hemu_frontends::FRONTENDS
        .iter()
        .find(|f| f.name() == "mips")
        .expect("the mips frontend is registered");
    fe.configure(&[("endian".into(), endian.into())]).unwrap()
}

/// One instruction of every kind binutils found in the benchmark programs
/// and the guests (`mips-linux-gnu-objdump -d -M no-aliases`), with its
/// mnemonic.
const OBJDUMP: &[(u32, &str)] = &[
    (0x01084820, "add"),
    (0x46206300, "add.d"),
    (0x460c6300, "add.s"),
    (0x279c704c, "addiu"),
    (0x0399e021, "addu"),
    (0x03a1e824, "and"),
    (0x304200ff, "andi"),
    (0x4500003a, "bc1f"),
    (0x4501ffc8, "bc1t"),
    (0x10400004, "beq"),
    (0x511700a8, "beql"),
    (0x0441fff1, "bgez"),
    (0x041165d9, "bgezal"),
    (0x1c40fff7, "bgtz"),
    (0x1840fdb4, "blez"),
    (0x0440003b, "bltz"),
    (0x14600006, "bne"),
    (0x00ff000d, "break"),
    (0x4636b132, "c.eq.d"),
    (0x4622703e, "c.le.d"),
    (0x4620123c, "c.lt.d"),
    (0x462ca037, "c.ule.d"),
    (0x46200031, "c.un.d"),
    (0x4443f800, "cfc1"),
    (0x71894821, "clo"),
    (0x70421020, "clz"),
    (0x468000a1, "cvt.d.w"),
    (0x46201320, "cvt.s.d"),
    (0x0082001a, "div"),
    (0x4620b303, "div.d"),
    (0x0254001b, "divu"),
    (0x42000018, "eret"),
    (0x7cd4f000, "ext"),
    (0x7c0318c4, "ins"),
    (0x081003e6, "j"),
    (0x0c1003d8, "jal"),
    (0x0320f809, "jalr"),
    (0x03e00008, "jr"),
    (0x80c20000, "lb"),
    (0x9202fda0, "lbu"),
    (0xd5c0f2a8, "ldc1"),
    (0x84440002, "lh"),
    (0x9465002a, "lhu"),
    (0xc2230444, "ll"),
    (0x3c1c000a, "lui"),
    (0x8f828a48, "lw"),
    (0x88620000, "lwl"),
    (0x98620003, "lwr"),
    (0x70460000, "madd"),
    (0x4d0e0221, "madd.d"),
    (0x401a6800, "mfc0"),
    (0x44070000, "mfc1"),
    (0x44660000, "mfhc1"),
    (0x00001010, "mfhi"),
    (0x00001812, "mflo"),
    (0x4620d086, "mov.d"),
    (0x00048001, "movf"),
    (0x0294980b, "movn"),
    (0x0285a80a, "movz"),
    (0x40887801, "mtc0"),
    (0x4480a000, "mtc1"),
    (0x44e0a000, "mthc1"),
    (0x00800013, "mtlo"),
    (0x70433802, "mul"),
    (0x46341082, "mul.d"),
    (0x03d40018, "mult"),
    (0x00620019, "multu"),
    (0x46207387, "neg.d"),
    (0x00151023, "negu"),
    (0x00139827, "nor"),
    (0x02002025, "or"),
    (0x34e79dc5, "ori"),
    (0xcca40000, "pref"),
    (0x7c03e83b, "rdhwr"),
    (0x00221402, "ror"),
    (0xa202fda0, "sb"),
    (0xe2210444, "sc"),
    (0xf7ba0128, "sdc1"),
    (0x7c114420, "seb"),
    (0x7c021620, "seh"),
    (0xa6020000, "sh"),
    (0x00000000, "sll"),
    (0x00551804, "sllv"),
    (0x0044202a, "slt"),
    (0x28420002, "slti"),
    (0x2e850020, "sltiu"),
    (0x0051682b, "sltu"),
    (0x46206004, "sqrt.d"),
    (0x00051083, "sra"),
    (0x00a73807, "srav"),
    (0x00052fc2, "srl"),
    (0x00cb1006, "srlv"),
    (0x462a2101, "sub.d"),
    (0x00a42823, "subu"),
    (0xafbc0010, "sw"),
    (0xa8430000, "swl"),
    (0xb8430003, "swr"),
    (0x0000000f, "sync"),
    (0x0000000c, "syscall"),
    (0x028001f4, "teq"),
    (0x4620128d, "trunc.w.d"),
    (0x42000020, "wait"),
    (0x7c0210a0, "wsbh"),
    (0x00ca4026, "xor"),
    (0x3a020001, "xori"),
];

/// One name per instruction: binutils' `ror`/`negu` are hemu's
/// (the manual's) `rotr`/`subu`; hemu's aliases `b`, `bal` and `nop` are
/// `beq`, `bgezal` and `sll` without aliases.
fn canonical(m: &str) -> &str {
    match m {
        "ror" => "rotr",
        "negu" => "subu",
        "b" => "beq",
        "bal" => "bgezal",
        "nop" => "sll",
        m => m,
    }
}

#[test]
fn decodes_like_binutils_in_both_byte_orders() {
    for (endian, bytes) in [
        ("big", u32::to_be_bytes as fn(u32) -> [u8; 4]),
        ("little", u32::to_le_bytes),
    ] {
        let m = model(endian);
        for (word, mnem) in OBJDUMP {
            let (text, len) = m
                .disassemble(&bytes(*word), 0x400000)
                .unwrap_or_else(|e| panic!("{endian}: {word:08x} ({mnem}) does not decode: {e:?}"));
            assert_eq!(len, 4);
            let ours = text.split_whitespace().next().unwrap_or("");
            assert_eq!(
                canonical(ours),
                canonical(mnem),
                "{endian}: {word:08x} decodes as `{text}`"
            );
        }
    }
}

#[test]
fn reserved_encodings_do_not_decode() {
    let m = model("big");
    // Opcode 0x3b, SPECIAL function 0x05, a COP1 format of 0x12.
    for word in [0xec00_0000u32, 0x0000_0005, 0x4640_0000] {
        assert!(
            m.disassemble(&word.to_be_bytes(), 0).is_err(),
            "{word:08x} decodes"
        );
    }
}

#[test]
fn one_frontend_serves_both_byte_orders() {
    let fes: Vec<&dyn hemu_runtime::cpu::Frontend> = hemu_frontends::FRONTENDS.to_vec();
    for (name, endian) in [("hello", Endian::Big), ("helloel", Endian::Little)] {
        let data = std::fs::read(root().join(format!("tests/guests/mips-user/bin/{name}.elf")))
            .expect("guest is checked in");
        let h = elf::header(&data).unwrap();
        let (m, abi) = select_model(&fes, &h).unwrap();
        assert_eq!(m.isa_name(), "mips");
        assert_eq!(m.endian(), endian);
        // QEMU's target names.
        let target = if endian == Endian::Big {
            "mips"
        } else {
            "mipsel"
        };
        assert_eq!(m.target(), target);
        assert_eq!(abi.elf_machine, 8);
    }
}

#[test]
fn user_mode_guests() {
    for suffix in ["", "el"] {
        for (name, out) in [
            ("hello", "Hello from hemu (mips)\n"),
            ("ops", "ops OK\n"),
            ("fp32", ""),
        ] {
            let path = format!("tests/guests/mips-user/bin/{name}{suffix}.elf");
            let o = hemu(&["run", &path], TIMEOUT);
            assert_eq!(o.status, Some(0), "{path}: {o:?}");
            assert_eq!(o.stdout, out, "{path}: {o:?}");
        }
    }
}

#[test]
fn bare_metal_guests() {
    for (suffix, endian) in [("", "big"), ("el", "little")] {
        for (name, out) in [("hello", "Hello from hemu (mips)\n"), ("exc", "exc OK\n")] {
            let path = format!("tests/guests/mips/bin/{name}{suffix}.elf");
            let machine = format!("machines/mips.yaml,endian={endian}");
            let o = hemu(&["-M", &machine, "-nographic", "-kernel", &path], TIMEOUT);
            assert_eq!(o.status, Some(0), "{path}: {o:?}");
            assert_eq!(o.stdout, out, "{path}: {o:?}");
        }
    }
}

/// A guest built for the other byte order faults at its first instruction
/// (the machine's CPU reads the words reversed) instead of running.
#[test]
fn wrong_byte_order_is_a_clear_failure() {
    let o = hemu(
        &[
            "-M",
            "machines/mips.yaml,endian=little",
            "-nographic",
            "-kernel",
            "tests/guests/mips/bin/hello.elf",
        ],
        TIMEOUT,
    );
    assert_ne!(o.status, Some(0), "{o:?}");
    assert!(!o.stderr.contains("panicked"), "{o:?}");
}

/// The glibc system-call program (`tests/guests/mips-user/sys.c`), when
/// `cargo xtask guests` has built it: files, 64-bit and stack arguments,
/// MIPS flag and errno values, signal sets; and the signals faults end it
/// with.
#[test]
fn glibc_system_calls() {
    for arch in ["mips", "mipsel"] {
        let bin = root()
            .join("target/guests/mips-user")
            .join(arch)
            .join("sys");
        if !bin.is_file() {
            println!(
                "SKIPPED: {} is not built (run `cargo xtask guests`; needs libc6-dev-{arch}-cross)",
                bin.display()
            );
            continue;
        }
        let scratch =
            std::env::temp_dir().join(format!("hemu-mips-sys-{arch}-{}", std::process::id()));
        let o = hemu(
            &["run", bin.to_str().unwrap(), scratch.to_str().unwrap()],
            TIMEOUT,
        );
        let _ = std::fs::remove_file(&scratch);
        assert_eq!(o.stdout, "sys OK\n", "{arch}: {o:?}");
        assert_eq!(o.status, Some(0), "{arch}: {o:?}");
        // Deaths by signal, as Linux sends them: SIGABRT, SIGFPE (a
        // division by zero's trap code 7), SIGTRAP (break).
        for (arg, status) in [("abort", 134), ("divzero", 136), ("trap", 133)] {
            let o = hemu(&["run", bin.to_str().unwrap(), arg], TIMEOUT);
            assert_eq!(o.status, Some(status), "{arch} {arg}: {o:?}");
        }
    }
}

/// The benchmark programs, when `cargo xtask guests` has built them:
/// each prints its expected line for one repetition, in both byte orders.
#[test]
fn benchmark_programs() {
    let expected = std::fs::read_to_string(root().join("tests/guests/bench/expected.txt")).unwrap();
    for arch in ["mips", "mipsel"] {
        let dir = root().join("target/guests/bench").join(arch);
        let mut ran = 0;
        for line in expected.lines().filter(|l| l.contains("reps=1 ")) {
            let prog = line.split(' ').next().unwrap();
            let bin = dir.join(prog);
            if !bin.is_file() {
                println!(
                    "SKIPPED: {} is not built (run `cargo xtask guests`; needs libc6-dev-{arch}-cross)",
                    bin.display()
                );
                break;
            }
            let o = hemu(
                &["run", bin.to_str().unwrap(), "1"],
                Duration::from_secs(600),
            );
            assert_eq!(o.stdout.lines().last(), Some(line), "{arch} {prog}: {o:?}");
            assert_eq!(o.status, Some(0), "{arch} {prog}: {o:?}");
            ran += 1;
        }
        assert!(ran == 0 || ran == 6, "{arch}: six benchmark programs");
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random words (half of them with an opcode that decodes often:
/// SPECIAL, REGIMM, COP0, COP1, COP1X, SPECIAL2, SPECIAL3, loads,
/// stores, branches) decode or are invalid, lift and disassembly agree,
/// and nothing panics, in both byte orders.
#[test]
fn random_words_decode_or_are_invalid() {
    use hemu_runtime::ir::IrBuilder;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    const OPS: [u32; 12] = [
        0, 1, 0x10, 0x11, 0x13, 0x1c, 0x1f, 0x23, 0x2b, 0x04, 0x31, 0x35,
    ];
    for endian in ["big", "little"] {
        let m = model(endian);
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let (mut valid, mut invalid) = (0, 0);
        for i in 0..100_000u32 {
            let r = rng.next() as u32;
            let w = if i % 2 == 0 {
                (r & 0x03ff_ffff) | (OPS[(r >> 26) as usize % OPS.len()] << 26)
            } else {
                r
            };
            let bytes = if endian == "big" {
                w.to_be_bytes()
            } else {
                w.to_le_bytes()
            };
            let out = catch_unwind(AssertUnwindSafe(|| {
                let mut b = IrBuilder::new();
                (
                    m.lift(&bytes, 0x8000_1000, &mut b).is_ok(),
                    m.disassemble(&bytes, 0x8000_1000).is_ok(),
                )
            }));
            let (l, d) = out.unwrap_or_else(|_| panic!("{endian}: {w:08x} panicked"));
            assert_eq!(l, d, "{endian}: {w:08x}: lift and disassembly disagree");
            if l {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        assert!(
            valid > 10_000 && invalid > 1_000,
            "{valid} valid, {invalid} invalid"
        );
    }
}

/// Random code on the bare-metal board, with an exception handler that
/// skips the faulting instruction, runs to the instruction limit, a stop
/// or the finisher — never a host panic.
#[test]
fn random_guest_code_gets_architectural_outcomes() {
    use hemu_runtime::machine::{BuildOptions, Registry};
    use hemu_runtime::Machine;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let registry = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    // At 0x80000180: EPC += 4; eret. At 0x80100000 (the board's start
    // address): Status = 0 (no BEV),
    // then the random words.
    let handler = [0x401a_7000u32, 0x275a_0004, 0x409a_7000, 0x4200_0018];
    const OPS: [u32; 14] = [
        0, 0, 1, 0x10, 0x11, 0x13, 0x1c, 0x1f, 0x23, 0x2b, 0x09, 0x0f, 0x22, 0x26,
    ];
    let mut rng = Rng(0x0bad_c0de_1234_5678);
    for round in 0..200 {
        let endian = if round % 2 == 0 { "big" } else { "little" };
        let opts = BuildOptions {
            params: vec![
                ("endian".into(), endian.into()),
                ("ram_size".into(), "2M".into()),
            ],
            ..Default::default()
        };
        let mut m =
            Machine::from_file(&root().join("machines/mips.yaml"), &registry, opts).unwrap();
        let enc = |w: u32| {
            if endian == "big" {
                w.to_be_bytes()
            } else {
                w.to_le_bytes()
            }
        };
        let vec: Vec<u8> = handler.iter().flat_map(|w| enc(*w)).collect();
        let mut code: Vec<u8> = enc(0x4080_6000).to_vec();
        let dec = model(endian);
        for _ in 0..256 {
            let r = rng.next() as u32;
            let w = (r & 0x03ff_ffff) | (OPS[(r >> 26) as usize % OPS.len()] << 26);
            // WAIT with no interrupt source sleeps for good, as on
            // hardware: not what this test is about.
            let is_wait = dec
                .disassemble(&enc(w), 0)
                .is_ok_and(|(t, _)| t.starts_with("wait"));
            code.extend(enc(if is_wait { 0 } else { w }));
        }
        m.load_raw(0x180, &vec, false).unwrap();
        m.load_raw(0x10_0000, &code, false).unwrap();
        m.reset();
        let r = catch_unwind(AssertUnwindSafe(|| m.run(Some(5_000))));
        assert!(r.is_ok(), "round {round}: the run panicked");
    }
}

/// Mutated MIPS ELF headers: a clear error or a run, never a panic.
#[test]
fn mutated_mips_elfs_never_panic() {
    let mut rng = Rng(0x5eed_0f12_34ab_cdef);
    for (i, name) in ["hello", "helloel"].iter().cycle().take(40).enumerate() {
        let mut d = std::fs::read(root().join(format!("tests/guests/mips-user/bin/{name}.elf")))
            .expect("guest is checked in");
        for _ in 0..1 + rng.next() % 4 {
            // ELF header and program headers live in the first 0x94 bytes.
            let at = (rng.next() % 0x94) as usize;
            d[at] = rng.next() as u8;
        }
        let p = std::env::temp_dir().join(format!("hemu-mips-fuzz-{}-{i}", std::process::id()));
        std::fs::write(&p, &d).unwrap();
        let o = hemu(
            &["run", "--max-insns", "100000", p.to_str().unwrap()],
            TIMEOUT,
        );
        let _ = std::fs::remove_file(&p);
        assert!(
            !o.stderr.contains("panicked") && o.status != Some(101),
            "case {i}: {o:?}"
        );
    }
}
