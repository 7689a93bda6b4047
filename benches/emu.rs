//! Criterion micro-benchmarks of hemu's hot paths: decoding, translation
//! (lifting to IR, and on to host code) and the TLBs.
//!
//! Run with `cargo xtask bench --criterion [FILTER]` (or `cargo bench
//! --bench emu -- [FILTER]`). The input is real RISC-V code: the
//! checked-in `tests/guests/riscv-user/bin/fptest.elf` always, and the
//! glibc benchmark program `sha256` too when `cargo xtask guests` has built
//! it. Under `cargo test --all-targets` every benchmark runs once, as a
//! smoke test.
//!
//! These numbers are for comparing hemu with itself (before/after a
//! change); the side-by-side comparison with QEMU is `cargo xtask bench`.

use criterion::{black_box, criterion_main, BatchSize, Criterion, Throughput};
use hemu_runtime::cpu::{AccessKind, CpuModel, CpuState, Frontend};
use hemu_runtime::engine::{translate, MAX_BLOCK_INSNS};
use hemu_runtime::ir::{IrBuilder, Op};
use hemu_runtime::jit::{host_backend, loops, opt, Addressing, CompileRequest};
use hemu_runtime::loader;
use hemu_runtime::memory::{AddressSpace, Bus, Memory, RamBlock, Region, Target};
use hemu_runtime::tlb::{Tlb, TlbFill, PERM_R, PERM_W, PERM_X};
use std::path::{Path, PathBuf};

/// Block starts the translation benchmarks translate per iteration.
const BLOCKS: usize = 256;
/// Bytes of code the decode benchmarks decode per iteration.
const DECODE_BYTES: u64 = 16 * 1024;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A RISC-V guest loaded into RAM at its link addresses, ready to be
/// fetched from.
struct Guest {
    name: String,
    model: Box<dyn CpuModel>,
    cpu: CpuState,
    space: AddressSpace,
    mem: Memory,
    entry: u64,
    /// End of the loaded range holding the entry point.
    text_end: u64,
}

impl Guest {
    /// Load `path`; `None` when it does not exist (not built).
    fn load(path: &Path) -> Option<Guest> {
        let data = std::fs::read(path).ok()?;
        let ranges = loader::elf_ranges(&data).expect("a valid ELF file");
        let lo = ranges.iter().map(|r| r.0).min().expect("loadable segments") & !0xfff;
        let hi = (ranges.iter().map(|r| r.1).max().expect("loadable segments") + 0xfff) & !0xfff;
        let mut mem = Memory::default();
        mem.ram
            .push(RamBlock::new("/ram", hi - lo, false).expect("host memory"));
        let mut space = AddressSpace::new("sys");
        space
            .map(Region {
                name: "ram".into(),
                base: lo,
                size: hi - lo,
                target: Target::Ram {
                    block: 0,
                    offset: 0,
                },
            })
            .expect("one region");
        let info = {
            let mut bus = Bus {
                space: &space,
                mem: &mut mem,
            };
            loader::load_elf(&mut bus, &data).expect("the ELF file loads")
        };
        let text_end = ranges
            .iter()
            .find(|r| (r.0..r.1).contains(&info.entry))
            .expect("the entry point is loaded")
            .1;
        let model = hemu_riscv::FRONTEND
            .configure(&[])
            .expect("the default RISC-V model");
        let cpu = model.new_state(0);
        Some(Guest {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            model,
            cpu,
            space,
            mem,
            entry: info.entry,
            text_end,
        })
    }

    /// Guest bytes `[addr, addr + len)` (clipped to the code).
    fn bytes(&self, addr: u64, len: u64) -> &[u8] {
        let base = self.space.find(addr).expect("mapped").base;
        let ram = self.mem.ram[0].bytes();
        let start = (addr - base) as usize;
        let end = ((addr + len).min(self.text_end) - base) as usize;
        &ram[start..end]
    }

    /// Up to `n` block starts: a linear sweep from the entry point, each
    /// block starting where the previous one ended (straight-line code of
    /// real compiled programs, as the JIT meets it).
    fn block_starts(&mut self, n: usize) -> Vec<u64> {
        let mut starts = Vec::new();
        let mut pc = self.entry;
        while starts.len() < n && pc < self.text_end {
            starts.push(pc);
            let (model, cpu) = (&*self.model, &mut self.cpu);
            let mut bus = Bus {
                space: &self.space,
                mem: &mut self.mem,
            };
            let (b, _) = translate(model, cpu, &mut bus, pc, MAX_BLOCK_INSNS);
            pc += b.size;
        }
        starts
    }
}

/// The guests benchmarked: always the checked-in one, the glibc program
/// when it is built.
fn guests() -> Vec<Guest> {
    let mut v = vec![
        Guest::load(&root().join("tests/guests/riscv-user/bin/fptest.elf"))
            .expect("the checked-in fptest.elf"),
    ];
    match Guest::load(&root().join("target/guests/bench/riscv64/sha256")) {
        Some(g) => v.push(g),
        None => eprintln!("SKIPPED: sha256 benchmarks (build it with `cargo xtask guests`)"),
    }
    v
}

fn bench_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for guest in guests() {
        let code = guest.bytes(guest.entry, DECODE_BYTES).to_vec();
        let params = hemu_riscv::Params::default();
        // Decode the whole buffer sequentially; undecodable halfwords
        // (data in the text) are skipped two bytes at a time.
        let decode_all = |code: &[u8]| {
            let (mut at, mut n) = (0usize, 0u64);
            while at < code.len() {
                match hemu_riscv::decode(&code[at..], &params) {
                    Ok((insn, len)) => {
                        black_box(insn);
                        at += len;
                        n += 1;
                    }
                    Err(_) => at += 2,
                }
            }
            n
        };
        g.throughput(Throughput::Elements(decode_all(&code)));
        g.bench_function(format!("decode/{}", guest.name), |b| {
            b.iter(|| decode_all(black_box(&code)))
        });
        // Decode and lift to IR, one instruction at a time (the lifter
        // drives the decoder itself).
        let model = &*guest.model;
        let entry = guest.entry;
        g.bench_function(format!("lift/{}", guest.name), |b| {
            b.iter(|| {
                let mut ir = IrBuilder::new();
                let mut at = 0usize;
                while at < code.len() {
                    let pc = entry + at as u64;
                    match model.lift(&code[at..], pc, &mut ir) {
                        Ok(l) => at += l.len,
                        Err(_) => at += 2,
                    }
                    if ir.len() > 4096 {
                        ir = IrBuilder::new();
                    }
                }
                black_box(ir.len())
            })
        });
    }
    g.finish();
}

fn bench_translate(c: &mut Criterion) {
    let mut g = c.benchmark_group("translate");
    let backend = host_backend();
    if backend.is_none() {
        eprintln!("SKIPPED: translate+compile (no JIT backend for this host)");
    }
    for mut guest in guests() {
        let starts = guest.block_starts(BLOCKS);
        g.throughput(Throughput::Elements(starts.len() as u64));
        let name = guest.name.clone();
        // Guest code to IR: the engine-independent part of translation.
        g.bench_function(format!("ir/{name}"), |b| {
            b.iter(|| {
                let (model, cpu) = (&*guest.model, &mut guest.cpu);
                let mut bus = Bus {
                    space: &guest.space,
                    mem: &mut guest.mem,
                };
                for &pc in &starts {
                    black_box(translate(model, cpu, &mut bus, pc, MAX_BLOCK_INSNS));
                }
            })
        });
        let Some(backend) = &backend else { continue };
        // Guest code to host code: what the JIT does on a block's first
        // execution (translate, optimise, compile), minus placing the
        // bytes in the code buffer. The code is never run, so the
        // addresses it is compiled for are only numbers.
        let slots = vec![0usize; 64];
        let slot_addrs: Vec<usize> = slots.iter().map(|s| s as *const usize as usize).collect();
        let base = 0x7000_0000usize;
        // Returns how many blocks compiled (the rest would be left to the
        // interpreter by the JIT).
        let compile_all = |guest: &mut Guest| {
            let (model, cpu) = (&*guest.model, &mut guest.cpu);
            let mut bus = Bus {
                space: &guest.space,
                mem: &mut guest.mem,
            };
            let mut ok = 0;
            for (id, &pc) in starts.iter().enumerate() {
                let (block, _) = translate(model, cpu, &mut bus, pc, MAX_BLOCK_INSNS);
                let block = opt::optimize(block);
                let block =
                    loops::keep_in_registers(&block, backend.temp_registers(Addressing::Tlb))
                        .unwrap_or(block);
                let exits = block
                    .ops
                    .iter()
                    .filter(|o| matches!(o, Op::ExitDirect { .. }))
                    .count();
                let req = CompileRequest {
                    block: &block,
                    id: id as u32,
                    base,
                    epilogue: base - 0x100,
                    slots: &slot_addrs[..exits.min(slot_addrs.len())],
                    site_base: 0,
                    addressing: Addressing::Tlb,
                    direct_access: false,
                };
                ok += usize::from(black_box(backend.compile(&req)).is_ok());
            }
            ok
        };
        // Measure compiling, not the error path.
        let ok = compile_all(&mut guest);
        assert_eq!(ok, starts.len(), "{name}: blocks the backend rejected");
        g.bench_function(format!("ir+opt+compile/{name}"), |b| {
            b.iter(|| compile_all(&mut guest))
        });
    }
    g.finish();
}

fn bench_tlb(c: &mut Criterion) {
    let mut g = c.benchmark_group("tlb");
    // 64 pages spread over the direct-mapped sets, all cached: the hit
    // path, as a loop over a working set touches it.
    const PAGES: u64 = 64;
    let addrs: Vec<u64> = (0..1024u64)
        .map(|i| 0x4000_0000 + (i * 7919 % PAGES) * 0x1000 + (i * 8) % 0x1000)
        .collect();
    let mut tlb = Tlb::new(12);
    for p in 0..PAGES {
        tlb.fill(
            0x4000_0000 + p * 0x1000,
            TlbFill {
                paddr: 0x8000_0000 + p * 0x1000,
                perms: PERM_R | PERM_W | PERM_X,
            },
        );
    }
    g.throughput(Throughput::Elements(addrs.len() as u64));
    g.bench_function("lookup_hit", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for &a in &addrs {
                acc = acc.wrapping_add(tlb.lookup(black_box(a), AccessKind::Load).unwrap_or(0));
            }
            acc
        })
    });
    // Every lookup misses and is filled (1024 distinct pages cycle through
    // the 256 direct-mapped sets): the refill path after a flush or on a
    // large working set; the page walk itself is the frontend's and not
    // measured here.
    let miss_addrs: Vec<u64> = (0..1024u64).map(|i| 0x4000_0000 + i * 0x1000 + 8).collect();
    g.bench_function("miss_fill", |b| {
        b.iter_batched_ref(
            || Tlb::new(12),
            |t| {
                for &a in &miss_addrs {
                    if t.lookup(black_box(a), AccessKind::Store).is_none() {
                        t.fill(
                            a,
                            TlbFill {
                                paddr: a ^ 0xc000_0000,
                                perms: PERM_R | PERM_W,
                            },
                        );
                    }
                }
            },
            BatchSize::SmallInput,
        )
    });
    // The host TLB, as the JIT's inline loads probe it (the Rust version
    // of the same tag compare).
    let mut host_pages = vec![0u8; (PAGES * 0x1000) as usize];
    let host = host_pages.as_mut_ptr();
    for p in 0..PAGES {
        let page = host.wrapping_add((p * 0x1000) as usize);
        tlb.host.fill(0x4000_0000 + p * 0x1000, page, false);
        tlb.host.fill(0x4000_0000 + p * 0x1000, page, true);
    }
    g.bench_function("host_lookup_hit", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for &a in &addrs {
                acc = acc.wrapping_add(tlb.host.lookup(black_box(a), 8, false).unwrap_or(0));
            }
            acc
        })
    });
    g.finish();
}

/// In a private module: the macro's `pub fn` needs no documentation there.
mod group {
    use super::{bench_decode, bench_tlb, bench_translate};
    criterion::criterion_group!(benches, bench_decode, bench_translate, bench_tlb);
}
criterion_main!(group::benches);
