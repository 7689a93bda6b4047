//! The claim of issue #6: adding an architecture is writing a spec file.
//!
//! `tests/specs/tiny/` defines a deliberately small ISA in YAML only;
//! `cargo xtask gen` turns it into `generated/tiny` (checked in, kept fresh
//! by `codegen/tests/fresh.rs`). These tests prove that crate holds no
//! hand-written Rust, and that hemu runs a program on it — decode, lift,
//! both engines, loads/stores, branches, calls, MMIO — on the board
//! `tests/guests/tiny/board.yaml`.
//!
//! The test program is assembled here by a small two-pass assembler
//! (test code: it knows the encodings of `tests/specs/tiny/base.yaml`).

use hemu_runtime::cpu::CpuModel;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One line of tiny assembly.
#[derive(Clone, Copy)]
enum A {
    Label(&'static str),
    R(u16, u16, u16, u16),           // funct, rd, rs, rt
    Li(u16, i32),                    // rd, imm9 (signed)
    Lsi(u16, u16),                   // rd, imm9 (unsigned)
    M(u16, u16, u16, i32),           // opcode, rd, rs, off6
    Br(u16, u16, u16, &'static str), // opcode, rs, rt, label
    Jal(u16, &'static str),          // rd, label
    Jr(u16),
    /// Place the next item at this byte address (pads with zeros).
    Org(u32),
    Ascii(&'static str),
}

const ADD: u16 = 0;
const SUB: u16 = 1;
const LW: u16 = 5;
const SW: u16 = 6;
const LBU: u16 = 7;
const SB: u16 = 8;
const ADDI: u16 = 4;
const BEQ: u16 = 9;
const BNE: u16 = 10;

fn assemble(prog: &[A]) -> Vec<u8> {
    // Pass 1: label addresses.
    let mut labels = HashMap::new();
    let mut pc = 0u32;
    for a in prog {
        match *a {
            A::Label(l) => {
                labels.insert(l, pc);
            }
            A::Org(at) => pc = at,
            A::Ascii(s) => pc += s.len() as u32 + 1,
            _ => pc += 2,
        }
    }
    // Pass 2: encodings.
    let mut out: Vec<u8> = Vec::new();
    let field = |v: i32, bits: u32| -> u16 {
        let lo = -(1i32 << (bits - 1));
        let hi = (1i32 << (bits - 1)) - 1;
        assert!(
            (lo..=hi).contains(&v),
            "{v} does not fit {bits} signed bits"
        );
        (v as u16) & ((1 << bits) - 1)
    };
    for a in prog {
        let pc = out.len() as i32;
        let target = |l: &str| labels[l] as i32 - pc;
        let w: u16 = match *a {
            A::Label(_) => continue,
            A::Org(at) => {
                assert!(at as usize >= out.len(), "org goes backwards");
                out.resize(at as usize, 0);
                continue;
            }
            A::Ascii(s) => {
                out.extend_from_slice(s.as_bytes());
                out.push(0);
                continue;
            }
            A::R(f, rd, rs, rt) => 1 << 12 | rd << 9 | rs << 6 | rt << 3 | f,
            A::Li(rd, imm) => 2 << 12 | rd << 9 | field(imm, 9),
            A::Lsi(rd, imm) => {
                assert!(imm < 512);
                3 << 12 | rd << 9 | imm
            }
            A::M(op, rd, rs, off) => op << 12 | rd << 9 | rs << 6 | field(off, 6),
            A::Br(op, rs, rt, l) => op << 12 | rs << 9 | rt << 6 | field(target(l) / 2, 6),
            A::Jal(rd, l) => 11 << 12 | rd << 9 | field(target(l) / 2, 9),
            A::Jr(rs) => 12 << 12 | rs << 9,
        };
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// `li` + `lsi`s loading a 32-bit constant.
fn load_const(rd: u16, v: u32) -> Vec<A> {
    let mut v9 = Vec::new();
    let mut x = v;
    while x >= 256 {
        v9.push((x & 511) as u16);
        x >>= 9;
    }
    let mut out = vec![A::Li(rd, x as i32)];
    out.extend(v9.iter().rev().map(|&c| A::Lsi(rd, c)));
    out
}

/// Prints a greeting, sums 1..=100 with a loop, checks it (also through a
/// store and a load), prints a second line through the same subroutine
/// (jal/jr) and powers off through the test finisher: status 0 when the
/// sum is right, 3 otherwise.
fn program() -> Vec<u8> {
    let (uart, fin, ptr, ch, sum, n, lr) = (1, 2, 3, 4, 5, 6, 7);
    let mut p = Vec::new();
    p.extend(load_const(uart, 0x1000_0000));
    p.extend(load_const(fin, 0x10_0000));
    p.extend(load_const(ptr, 0x200));
    p.push(A::Jal(lr, "print"));
    p.extend([A::Li(sum, 0), A::Li(n, 100)]);
    p.extend([
        A::Label("loop"),
        A::R(ADD, sum, sum, n),
        A::M(ADDI, n, n, -1),
        A::Br(BNE, n, 0, "loop"),
    ]);
    p.extend(load_const(ch, 5050));
    p.push(A::Br(BNE, sum, ch, "fail"));
    p.extend(load_const(ptr, 0x280));
    p.extend([
        A::M(SW, sum, ptr, 4),
        A::M(LW, n, ptr, 4),
        A::R(SUB, n, n, ch),
        A::Br(BNE, n, 0, "fail"),
    ]);
    p.extend(load_const(ptr, 0x240));
    p.push(A::Jal(lr, "print"));
    p.extend(load_const(ch, 0x5555));
    p.extend([
        A::M(SW, ch, fin, 0),
        A::Label("hang"),
        A::Br(BEQ, 0, 0, "hang"),
    ]);
    p.push(A::Label("fail"));
    p.extend(load_const(ch, 3 << 16 | 0x3333));
    p.extend([A::M(SW, ch, fin, 0), A::Br(BEQ, 0, 0, "hang")]);
    // print(ptr): bytes up to a NUL to the UART's data register.
    p.extend([
        A::Label("print"),
        A::M(LBU, ch, ptr, 0),
        A::Br(BEQ, ch, 0, "ret"),
        A::M(SB, ch, uart, 0),
        A::M(ADDI, ptr, ptr, 1),
        A::Br(BEQ, 0, 0, "print"),
        A::Label("ret"),
        A::Jr(lr),
    ]);
    p.extend([
        A::Org(0x200),
        A::Ascii("tiny: hello from a spec-only ISA\n"),
        A::Org(0x240),
        A::Ascii("tiny: sum 1..100 = 5050, ok\n"),
    ]);
    assemble(&p)
}

struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn hemu(args: &[&str]) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hemu starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hemu {args:?} did not finish in 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.unwrap().read_to_string(&mut stderr).unwrap();
    Outcome {
        status: status.code(),
        stdout,
        stderr,
    }
}

fn write_image(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn the_tiny_frontend_has_no_hand_written_rust() {
    let spec = std::fs::read_dir(root().join("tests/specs/tiny")).unwrap();
    for e in spec.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            name.ends_with(".yaml"),
            "tests/specs/tiny/{name} is not a spec file"
        );
    }
    let mut stack = vec![root().join("generated/tiny")];
    let mut rust_files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(
                text.starts_with("// Generated by `cargo xtask gen` from tests/specs/tiny")
                    || text.starts_with("# Generated by `cargo xtask gen` from tests/specs/tiny"),
                "{} is not generated from the spec",
                p.display()
            );
            rust_files += p.extension().is_some_and(|x| x == "rs") as u32;
        }
    }
    assert!(
        rust_files >= 5,
        "generated/tiny holds {rust_files} Rust files"
    );
}

#[test]
fn the_tiny_frontend_decodes_and_disassembles_what_the_spec_says() {
    let fe = hemu_frontends::FRONTENDS
        .iter()
        .find(|f| f.name() == "tiny")
        .expect("tiny is in the registry");
    let m: Box<dyn CpuModel> = fe.configure(&[]).unwrap();
    assert_eq!(m.target(), "tiny");
    assert_eq!(m.word_bits(), 32);
    let dis = |w: u16, pc: u64| m.disassemble(&w.to_le_bytes(), pc);
    assert_eq!(dis(0x1a98, 0).unwrap(), ("add r5, r2, r3".to_string(), 2));
    assert_eq!(dis(0x24ff, 0).unwrap().0, "li r2, 255");
    assert_eq!(dis(0x4b7f, 0).unwrap().0, "addi r5, r5, -1");
    assert_eq!(dis(0x7ac0, 0).unwrap().0, "lbu r5, 0(r3)");
    assert_eq!(dis(0xce00, 0).unwrap().0, "jr r7");
    // Reserved encodings (opcode 0, jr with low bits set) do not decode.
    assert!(dis(0x0000, 0).is_err());
    assert!(dis(0xce01, 0).is_err());
}

#[test]
fn a_program_runs_on_the_tiny_isa_on_both_engines() {
    let img = write_image("tiny-hello.bin", &program());
    let img = img.to_str().unwrap();
    let full = "tiny: hello from a spec-only ISA\ntiny: sum 1..100 = 5050, ok\n";
    for accel in ["jit", "interp"] {
        let o = hemu(&[
            "-M",
            "tests/guests/tiny/board.yaml",
            "-kernel",
            img,
            "-nographic",
            "--accel",
            accel,
        ]);
        assert_eq!(o.stdout, full, "{accel}: stderr {}", o.stderr);
        assert_eq!(o.status, Some(0), "{accel}: stderr {}", o.stderr);
    }
    // Stopped after the same instruction budgets, both engines have
    // printed exactly as much: they retire the same instructions.
    for budget in ["7", "60", "150", "400", "560"] {
        let run = |accel| {
            hemu(&[
                "-M",
                "tests/guests/tiny/board.yaml",
                "-kernel",
                img,
                "-nographic",
                "--accel",
                accel,
                "--max-insns",
                budget,
            ])
            .stdout
        };
        let (jit, interp) = (run("jit"), run("interp"));
        assert_eq!(jit, interp, "after {budget} instructions");
        assert!(
            full.starts_with(&jit) && jit.len() < full.len(),
            "{budget}: {jit:?}"
        );
    }
}

#[test]
fn a_wrong_sum_takes_the_failure_path() {
    // Change `addi n, n, -1` into `addi n, n, -2`: the loop then sums the
    // even numbers only; the program must notice and exit with 3.
    let mut img = program();
    let at = img
        .chunks(2)
        .position(|c| u16::from_le_bytes([c[0], c[1]]) == 0x4dbf)
        .expect("addi r6, r6, -1 in the program");
    img[at * 2..at * 2 + 2].copy_from_slice(&0x4dbeu16.to_le_bytes());
    let img = write_image("tiny-fail.bin", &img);
    let o = hemu(&[
        "-M",
        "tests/guests/tiny/board.yaml",
        "-kernel",
        img.to_str().unwrap(),
        "-nographic",
    ]);
    assert_eq!(o.stdout, "tiny: hello from a spec-only ISA\n");
    assert_eq!(o.status, Some(3), "stderr {}", o.stderr);
}

#[test]
fn an_undefined_instruction_stops_the_machine_with_a_report() {
    let img = write_image("tiny-illegal.bin", &[0x00, 0x00]);
    let o = hemu(&[
        "-M",
        "tests/guests/tiny/board.yaml",
        "-kernel",
        img.to_str().unwrap(),
        "-nographic",
    ]);
    assert_ne!(o.status, Some(0));
    assert!(
        o.stderr.contains("illegal instruction"),
        "stderr: {}",
        o.stderr
    );
}
