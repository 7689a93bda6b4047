//! Deterministic fuzzing of what users and guests control: ELF images,
//! machine files and instruction words. Each must give an error or the
//! architectural outcome, never a panic. (A seeded xorshift keeps every run
//! identical, so a failure reproduces.)

use hemu_runtime::cpu::DecodeError;
use hemu_runtime::ir::IrBuilder;
use hemu_runtime::machine::file::Source;
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::{loader, Machine};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn registry() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn virt(xlen: &str) -> Machine {
    let opts = BuildOptions {
        params: vec![
            ("xlen".into(), xlen.into()),
            ("ram_size".into(), "1M".into()),
        ],
        ..Default::default()
    };
    Machine::from_file(&root().join("machines/virt.yaml"), &registry(), opts).unwrap()
}

#[test]
fn mutated_elf_images_never_panic() {
    let orig = std::fs::read(root().join("tests/guests/riscv/bin/rv64i.elf")).unwrap();
    let mut m = virt("64");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        let mut data = orig.clone();
        for _ in 0..1 + rng.below(8) {
            // Bias mutations towards the headers, where the parser lives.
            let at = if rng.below(2) == 0 {
                rng.below(256)
            } else {
                rng.below(data.len())
            };
            if at < data.len() {
                data[at] = rng.next() as u8;
            }
        }
        if rng.below(10) == 0 {
            data.truncate(rng.below(data.len()));
        }
        let r = catch_unwind(AssertUnwindSafe(|| {
            loader::load_elf(&mut m.bus(0), &data).map(|_| ())
        }));
        match r {
            Ok(Ok(())) => ok += 1,
            Ok(Err(_)) => err += 1,
            Err(_) => panic!("ELF loader panicked on a mutated image"),
        }
    }
    assert!(
        ok > 0 && err > 0,
        "mutations should both pass and fail: {ok} ok, {err} errors"
    );
}

#[test]
fn mutated_machine_files_never_panic() {
    let orig = std::fs::read_to_string(root().join("machines/virt.yaml")).unwrap();
    let lines: Vec<&str> = orig.lines().collect();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let pieces = [
        "",
        "[",
        "]",
        "{",
        "}",
        ":",
        "-",
        "${smp}",
        "${nope}",
        "0x",
        "99999999999999999999",
        "ram",
        "uart0",
        "-1",
        "\"",
        "  ",
    ];
    for _ in 0..2000 {
        let mut ls: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(ls.len());
            match rng.below(4) {
                0 => {
                    ls.remove(i);
                }
                1 => {
                    let l = ls[i].clone();
                    ls.insert(i, l);
                }
                _ => {
                    let l = &mut ls[i];
                    let at = rng.below(l.len() + 1);
                    let at = (0..=at).rev().find(|a| l.is_char_boundary(*a)).unwrap_or(0);
                    l.insert_str(at, pieces[rng.below(pieces.len())]);
                }
            }
            if ls.is_empty() {
                break;
            }
        }
        let src = Source {
            file: "fuzz.yaml".into(),
            text: ls.join("\n"),
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            Machine::build(&src, &registry(), BuildOptions::default()).map(|_| ())
        }));
        assert!(r.is_ok(), "machine builder panicked on:\n{}", src.text);
        if let Ok(Err(e)) = r {
            assert!(e.to_string().starts_with("fuzz.yaml:"), "{e}");
        }
    }
}

#[test]
fn every_instruction_word_decodes_or_is_invalid() {
    // Random words plus every opcode/funct combination region, both XLENs.
    for xlen in ["32", "64"] {
        let m = virt(xlen);
        let model = &m.clusters[0].model;
        let mut rng = Rng(0xdead_beef_cafe_f00d);
        let (mut valid, mut invalid) = (0, 0);
        for i in 0..200_000u64 {
            let w = if i < 65536 {
                (i << 16 | i) as u32 ^ 0x0000_0003
            } else {
                rng.next() as u32
            };
            let bytes = w.to_le_bytes();
            let mut b = IrBuilder::new();
            let r = catch_unwind(AssertUnwindSafe(|| {
                (
                    model.lift(&bytes, 0x8000_0000, &mut b),
                    model.disassemble(&bytes, 0x8000_0000),
                )
            }));
            let Ok((l, d)) = r else {
                panic!("xlen {xlen}: decoding {w:#010x} panicked")
            };
            assert_eq!(
                l.is_ok(),
                d.is_ok(),
                "{w:#010x}: lift and disassembly disagree"
            );
            let len = match l {
                Ok(l) => {
                    valid += 1;
                    l.len
                }
                Err(DecodeError::Invalid) => {
                    invalid += 1;
                    continue;
                }
                Err(e) => panic!("{w:#010x}: {e:?} with 4 bytes"),
            };
            // Any shorter prefix asks for more bytes, never misdecodes.
            for short in 0..len {
                match model.lift(&bytes[..short], 0, &mut IrBuilder::new()) {
                    Err(DecodeError::NeedBytes(n)) => {
                        assert!(n > short && n <= len, "{w:#010x}: asked {n} with {short}")
                    }
                    other => panic!("{w:#010x}: {short} bytes gave {other:?}"),
                }
            }
        }
        assert!(
            valid > 1000 && invalid > 1000,
            "xlen {xlen}: {valid} valid, {invalid} invalid"
        );
    }
}

#[test]
fn random_guest_code_gets_architectural_outcomes() {
    // Random instruction streams run to a trap, the finisher, or the
    // instruction limit — never a host crash.
    let mut rng = Rng(0x0bad_c0de_1234_5678);
    for round in 0..300 {
        let xlen = if round % 2 == 0 { "64" } else { "32" };
        let mut m = virt(xlen);
        let code: Vec<u8> = (0..256)
            .flat_map(|_| {
                // Mostly valid-looking words: random bits with a real opcode.
                let ops = [
                    0x13u32, 0x33, 0x03, 0x23, 0x63, 0x6f, 0x67, 0x37, 0x17, 0x1b, 0x3b, 0x73, 0x0f,
                ];
                let w = (rng.next() as u32 & !0x7f) | ops[rng.below(ops.len())];
                w.to_le_bytes()
            })
            .collect();
        m.load_raw(0x8000_0000, &code, true).unwrap();
        m.reset();
        let r = catch_unwind(AssertUnwindSafe(|| m.run(Some(5_000))));
        assert!(r.is_ok(), "round {round}: the run panicked");
    }
}
