//! One-line table tests of every RV64I and RV32I instruction:
//! instruction word → disassembly → effect on registers, memory and pc.
//!
//! Each row runs one instruction on a fresh `machines/virt.yaml` machine
//! (xlen=64 or xlen=32), entirely through the runtime's `CpuModel` trait:
//! the word is stored at the row's pc (default 0x8000_0000, the start of
//! RAM), the registers and memory of the "before" column are set, and
//! `Machine::step` runs it.
//!
//! Every instruction word was derived by hand from the RISC-V encoding and
//! cross-checked with the GNU assembler and objdump (binutils 2.40,
//! `-march=rv64i` / `-march=rv32i`); every effect follows the unprivileged
//! spec (chapters RV32I and RV64I).
//!
//! Row syntax: `(word, disassembly, before, after)`.
//! - disassembly: the exact text `CpuModel::disassemble` must give; a text
//!   starting with `!` means the word must not decode here (the rest says
//!   what the word is elsewhere, for the reader).
//! - before / after: space-separated `name=value` items:
//!   - `a0=-5`, `x31=0x8000_0000`: a register (ABI or `xN` name); values
//!     are decimal or hex, may be negative, and wrap to XLEN bits;
//!   - `b[0x80001000]=0x80` (also `h`, `w`, `d`): a byte, halfword, word
//!     or doubleword of memory, little-endian;
//!   - `pc=0x80000100` (absolute) or `pc=+16` / `pc=-8` (relative to the
//!     instruction): in "before" where the instruction is placed, in
//!     "after" the next pc (default `+4`).
//! - after may start with `!name` (words up to the first `=` item): the
//!   instruction must trap with that cause and change no register and no
//!   pc; `tval=` then checks the trap value.
//!
//! Every register the "after" column does not name must keep its value.

use hemu_runtime::ir::Endian;
use hemu_runtime::machine::BuildOptions;
use hemu_runtime::{Machine, Registry, RunResult};
use std::path::Path;

/// `(word, disassembly, before, after)`; see the module documentation.
type Row = (u32, &'static str, &'static str, &'static str);

/// Where rows put their instruction unless they say `pc=`.
const PC: u64 = 0x8000_0000;

#[rustfmt::skip]
const RV64: &[Row] = &[
    // word      disassembly               before                                       after
    // ---- lui, auipc: 20-bit immediates, sign-extended to 64 bits
    (0x12345537, "lui a0, 305418240",       "",                                          "a0=0x12345000"),
    (0x80000537, "lui a0, -2147483648",     "",                                          "a0=0xffffffff80000000"),
    (0xfffff537, "lui a0, -4096",           "a0=7",                                      "a0=0xfffffffffffff000"),
    (0x7fffffb7, "lui t6, 2147479552",      "",                                          "t6=0x7ffff000"),
    (0x00001037, "lui zero, 4096",          "",                                          "zero=0"),
    (0x00000517, "auipc a0, 0",             "",                                          "a0=0x80000000"),
    (0x00001517, "auipc a0, 4096",          "",                                          "a0=0x80001000"),
    (0xfffff517, "auipc a0, -4096",         "",                                          "a0=0x7ffff000"),
    (0x80000517, "auipc a0, -2147483648",   "",                                          "a0=0"),
    (0x7ffff517, "auipc a0, 2147479552",    "pc=0x80001000",                             "a0=0x100000000"),
    (0x00001017, "auipc zero, 4096",        "",                                          "zero=0"),
    // ---- jal, jalr: link = pc + 4; jalr clears bit 0 of the target. Without the C
    // extension a jump to an address that is not 4-aligned raises instruction-address-
    // misaligned on the jump itself (tval = target) and writes no register.
    (0x010000ef, "jal ra, 16",              "",                                          "ra=0x80000004 pc=+16"),
    (0xff9ff06f, "jal zero, -8",            "",                                          "pc=-8"),
    (0x7fdff56f, "jal a0, 1048572",         "",                                          "a0=0x80000004 pc=+1048572"),
    (0x8000046f, "jal s0, -1048576",        "",                                          "s0=0x80000004 pc=-1048576"),
    (0x002000ef, "jal ra, 2",               "",                                          "ra=0x80000004 pc=0x80000002"), // C: IALIGN = 16
    (0x008500e7, "jalr ra, 8(a0)",          "a0=0x80000100",                             "ra=0x80000004 pc=0x80000108"),
    (0xfff500e7, "jalr ra, -1(a0)",         "a0=0x80000102",                             "ra=0x80000004 pc=0x80000100"),
    (0x00050567, "jalr a0, 0(a0)",          "a0=0x80000200",                             "a0=0x80000004 pc=0x80000200"),
    (0x00008067, "jalr zero, 0(ra)",        "ra=0x80000040",                             "pc=0x80000040"),
    (0x800580e7, "jalr ra, -2048(a1)",      "a1=0x80000800",                             "ra=0x80000004 pc=0x80000000"),
    (0x004500e7, "jalr ra, 4(a0)",          "a0=-4",                                     "ra=0x80000004 pc=0"),
    (0x002500e7, "jalr ra, 2(a0)",          "a0=0x80000000",                             "ra=0x80000004 pc=0x80000002"),
    // ---- branches: taken → pc + offset, not taken → pc + 4; only a taken branch to a
    // misaligned target raises instruction-address-misaligned
    (0x00b50863, "beq a0, a1, 16",          "a0=5 a1=5",                                 "pc=+16"),
    (0x00b50863, "beq a0, a1, 16",          "a0=5 a1=6",                                 ""),
    (0x00b50863, "beq a0, a1, 16",          "a0=-1 a1=0xffffffff",                       ""),
    (0x80000063, "beq zero, zero, -4096",   "",                                          "pc=-4096"),
    (0x00000063, "beq zero, zero, 0",       "",                                          "pc=+0"),
    (0x7eb51ee3, "bne a0, a1, 4092",        "a0=1 a1=2",                                 "pc=+4092"),
    (0x7eb51ee3, "bne a0, a1, 4092",        "a0=-1 a1=-1",                               ""),
    (0x00b54463, "blt a0, a1, 8",           "a0=-1 a1=1",                                "pc=+8"),
    (0x00b54463, "blt a0, a1, 8",           "a0=1 a1=-1",                                ""),
    (0x00b54463, "blt a0, a1, 8",           "a0=0x8000000000000000 a1=0x7fffffffffffffff", "pc=+8"),
    (0x00b54463, "blt a0, a1, 8",           "a0=3 a1=3",                                 ""),
    (0x00b54463, "blt a0, a1, 8",           "a0=0x80000000 a1=1",                        ""),
    (0xfeb55ce3, "bge a0, a1, -8",          "a0=1 a1=-1",                                "pc=-8"),
    (0xfeb55ce3, "bge a0, a1, -8",          "a0=-1 a1=1",                                ""),
    (0xfeb55ce3, "bge a0, a1, -8",          "a0=-5 a1=-5",                               "pc=-8"),
    (0x00b56663, "bltu a0, a1, 12",         "a0=1 a1=-1",                                "pc=+12"),
    (0x00b56663, "bltu a0, a1, 12",         "a0=-1 a1=1",                                ""),
    (0x00b56663, "bltu a0, a1, 12",         "a0=0x7fffffffffffffff a1=0x8000000000000000", "pc=+12"),
    (0x00b57663, "bgeu a0, a1, 12",         "a0=-1 a1=1",                                "pc=+12"),
    (0x00b57663, "bgeu a0, a1, 12",         "a0=0 a1=1",                                 ""),
    (0x00b57663, "bgeu a0, a1, 12",         "a0=7 a1=7",                                 "pc=+12"),
    (0x00b50163, "beq a0, a1, 2",           "",                                          "pc=0x80000002"),
    (0x00b51163, "bne a0, a1, 2",           "",                                          ""),
    // ---- loads: lb/lh/lw sign-extend, lbu/lhu/lwu zero-extend
    (0x00058503, "lb a0, 0(a1)",            "a1=0x80001000 b[0x80001000]=0x80",          "a0=-128"),
    (0x00158503, "lb a0, 1(a1)",            "a1=0x80001000 h[0x80001000]=0x7f80",        "a0=127"),
    (0xfff58503, "lb a0, -1(a1)",           "a1=0x80001001 b[0x80001000]=0xff",          "a0=-1"),
    (0x00259503, "lh a0, 2(a1)",            "a1=0x80001000 w[0x80001000]=0x8001ffff",    "a0=0xffffffffffff8001"),
    (0x00059503, "lh a0, 0(a1)",            "a1=0x80001000 w[0x80001000]=0xffff7fff",    "a0=0x7fff"),
    (0x0045a503, "lw a0, 4(a1)",            "a1=0x80001000 d[0x80001000]=0x80000000ffffffff", "a0=0xffffffff80000000"),
    (0x0005a503, "lw a0, 0(a1)",            "a1=0x80001000 d[0x80001000]=0xffffffff7fffffff", "a0=0x7fffffff"),
    (0x0085b503, "ld a0, 8(a1)",            "a1=0x80001000 d[0x80001008]=0x8000000000000001", "a0=0x8000000000000001"),
    (0x8005b503, "ld a0, -2048(a1)",        "a1=0x80001800 d[0x80001000]=0x0123456789abcdef", "a0=0x0123456789abcdef"),
    (0x7f85b583, "ld a1, 2040(a1)",         "a1=0x80001000 d[0x800017f8]=-1",            "a1=-1"),
    (0x0005c503, "lbu a0, 0(a1)",           "a1=0x80001000 b[0x80001000]=0x80",          "a0=0x80"),
    (0x7ff5c503, "lbu a0, 2047(a1)",        "a1=0x80001000 b[0x800017ff]=0xff",          "a0=0xff"),
    (0x0025d503, "lhu a0, 2(a1)",           "a1=0x80001000 w[0x80001000]=0x8001ffff",    "a0=0x8001"),
    (0x0045e503, "lwu a0, 4(a1)",           "a1=0x80001000 d[0x80001000]=0x80000000ffffffff", "a0=0x80000000"),
    (0x0005e503, "lwu a0, 0(a1)",           "a1=0x80001000 d[0x80001000]=0x00000001ffffffff", "a0=0xffffffff"),
    (0x0005a003, "lw zero, 0(a1)",          "a1=0x80001000 w[0x80001000]=0x12345678",    "zero=0"),
    (0x00159503, "lh a0, 1(a1)",            "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x00159003, "lh zero, 1(a1)",          "a1=0x80001000",                             ""), // performed, as QEMU does (misaligned: allow)
    (0x0035d503, "lhu a0, 3(a1)",           "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x0025a503, "lw a0, 2(a1)",            "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x0015e503, "lwu a0, 1(a1)",           "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x0045b503, "ld a0, 4(a1)",            "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x00002503, "lw a0, 0(zero)",          "",                                          "!load access fault tval=0x0"),
    (0x00002003, "lw zero, 0(zero)",        "",                                          "!load access fault tval=0x0"),
    (0xfff58503, "lb a0, -1(a1)",           "a1=0x80000000",                             "!load access fault tval=0x7fffffff"),
    (0x0005b503, "ld a0, 0(a1)",            "a1=0x88000000",                             "!load access fault tval=0x88000000"),
    // ---- stores: only the stored bytes change
    (0x00a58023, "sb a0, 0(a1)",            "a0=0x1122334455667788 a1=0x80001000 d[0x80001000]=-1", "d[0x80001000]=0xffffffffffffff88"),
    (0x7e058fa3, "sb zero, 2047(a1)",       "a1=0x80001000 b[0x800017ff]=0x55",          "b[0x800017ff]=0"),
    (0x00a59123, "sh a0, 2(a1)",            "a0=0x1122334455667788 a1=0x80001000 d[0x80001000]=-1", "d[0x80001000]=0xffffffff7788ffff"),
    (0x00a5a223, "sw a0, 4(a1)",            "a0=0x1122334455667788 a1=0x80001000",       "d[0x80001000]=0x5566778800000000"),
    (0xfea5ae23, "sw a0, -4(a1)",           "a0=0x1122334455667788 a1=0x80001004 d[0x80001000]=-1", "d[0x80001000]=0xffffffff55667788"),
    (0x00a5b423, "sd a0, 8(a1)",            "a0=0x1122334455667788 a1=0x80001000",       "d[0x80001008]=0x1122334455667788 d[0x80001000]=0 d[0x80001010]=0"),
    (0x80a5b023, "sd a0, -2048(a1)",        "a0=-1 a1=0x80001800",                       "d[0x80001000]=-1"),
    (0x00b5b023, "sd a1, 0(a1)",            "a1=0x80001000",                             "d[0x80001000]=0x80001000"),
    (0x00a590a3, "sh a0, 1(a1)",            "a0=-1 a1=0x80001000",                       "d[0x80001000]=0xffff00"), // performed, as QEMU does (misaligned: allow)
    (0x00a5a123, "sw a0, 2(a1)",            "a0=-1 a1=0x80001000",                       "d[0x80001000]=0xffffffff0000"), // performed, as QEMU does (misaligned: allow)
    (0x00a5b223, "sd a0, 4(a1)",            "a0=-1 a1=0x80001000",                       "d[0x80001000]=0xffffffff00000000 d[0x80001008]=0xffffffff"), // performed, as QEMU does (misaligned: allow)
    (0x00a02023, "sw a0, 0(zero)",          "a0=1",                                      "!store access fault tval=0x0"),
    // ---- register-immediate
    (0x00a58593, "addi a1, a1, 10",         "a1=5",                                      "a1=15"),
    (0xffb58513, "addi a0, a1, -5",         "a1=0",                                      "a0=-5"),
    (0x7ff58513, "addi a0, a1, 2047",       "a1=1",                                      "a0=2048"),
    (0x80058513, "addi a0, a1, -2048",      "a1=0",                                      "a0=-2048"),
    (0x00158513, "addi a0, a1, 1",          "a1=0x7fffffffffffffff",                     "a0=0x8000000000000000"),
    (0x00158513, "addi a0, a1, 1",          "a1=0x7fffffff",                             "a0=0x80000000"),
    (0xfff58513, "addi a0, a1, -1",         "a1=0",                                      "a0=-1"),
    (0x00000013, "addi zero, zero, 0",      "",                                          ""),
    (0x00158013, "addi zero, a1, 1",        "a1=5",                                      "zero=0"),
    (0xffff8f93, "addi t6, t6, -1",         "t6=0",                                      "t6=-1"),
    (0xfff5a513, "slti a0, a1, -1",         "a1=-2",                                     "a0=1"),
    (0xfff5a513, "slti a0, a1, -1",         "a1=-1",                                     "a0=0"),
    (0x0005a513, "slti a0, a1, 0",          "a1=0x8000000000000000",                     "a0=1"),
    (0x7ff5a513, "slti a0, a1, 2047",       "a1=0x7fffffffffffffff",                     "a0=0"),
    (0xfff5b513, "sltiu a0, a1, -1",        "a1=5",                                      "a0=1"),
    (0xfff5b513, "sltiu a0, a1, -1",        "a1=-1",                                     "a0=0"),
    (0x0015b513, "sltiu a0, a1, 1",         "a1=0",                                      "a0=1"),
    (0x0015b513, "sltiu a0, a1, 1",         "a1=0x8000000000000000",                     "a0=0"),
    (0xfff5c513, "xori a0, a1, -1",         "a1=0x0f",                                   "a0=0xfffffffffffffff0"),
    (0x7ff5c513, "xori a0, a1, 2047",       "a1=0x8000000000000fff",                     "a0=0x8000000000000800"),
    (0x8005e513, "ori a0, a1, -2048",       "a1=1",                                      "a0=0xfffffffffffff801"),
    (0x5555e513, "ori a0, a1, 1365",        "a1=0xaa",                                   "a0=0x5ff"),
    (0xff05f513, "andi a0, a1, -16",        "a1=-1",                                     "a0=0xfffffffffffffff0"),
    (0x0ff5f513, "andi a0, a1, 255",        "a1=0x123456789abcdef0",                     "a0=0xf0"),
    (0x03f59513, "slli a0, a1, 63",         "a1=3",                                      "a0=0x8000000000000000"),
    (0x02059513, "slli a0, a1, 32",         "a1=0xffffffff",                             "a0=0xffffffff00000000"),
    (0x00059513, "slli a0, a1, 0",          "a1=-1",                                     "a0=-1"),
    (0x03f5d513, "srli a0, a1, 63",         "a1=-1",                                     "a0=1"),
    (0x0205d513, "srli a0, a1, 32",         "a1=0x8000000000000000",                     "a0=0x80000000"),
    (0x0045d513, "srli a0, a1, 4",          "a1=-1",                                     "a0=0x0fffffffffffffff"),
    (0x43f5d513, "srai a0, a1, 63",         "a1=0x8000000000000000",                     "a0=-1"),
    (0x4045d513, "srai a0, a1, 4",          "a1=0x8000000000000000",                     "a0=0xf800000000000000"),
    (0x4205d513, "srai a0, a1, 32",         "a1=0x7fffffffffffffff",                     "a0=0x7fffffff"),
    (0x4015d513, "srai a0, a1, 1",          "a1=0xffffffff",                             "a0=0x7fffffff"),
    // ---- register-register
    (0x00c58533, "add a0, a1, a2",          "a1=1 a2=2",                                 "a0=3"),
    (0x00c58533, "add a0, a1, a2",          "a1=0x7fffffffffffffff a2=1",                "a0=0x8000000000000000"),
    (0x00c58533, "add a0, a1, a2",          "a1=-1 a2=-1",                               "a0=-2"),
    (0x00c58533, "add a0, a1, a2",          "a1=0xffffffff a2=1",                        "a0=0x100000000"),
    (0x00c58033, "add zero, a1, a2",        "a1=1 a2=2",                                 "zero=0"),
    (0x01ff0fb3, "add t6, t5, t6",          "t5=1 t6=2",                                 "t6=3"),
    (0x40c58533, "sub a0, a1, a2",          "a1=0 a2=1",                                 "a0=-1"),
    (0x40c58533, "sub a0, a1, a2",          "a1=0x8000000000000000 a2=1",                "a0=0x7fffffffffffffff"),
    (0x40a50533, "sub a0, a0, a0",          "a0=12345",                                  "a0=0"),
    (0x00c59533, "sll a0, a1, a2",          "a1=3 a2=63",                                "a0=0x8000000000000000"),
    (0x00c59533, "sll a0, a1, a2",          "a1=1 a2=64",                                "a0=1"),
    (0x00c59533, "sll a0, a1, a2",          "a1=3 a2=0x101",                             "a0=6"),
    (0x00c59533, "sll a0, a1, a2",          "a1=1 a2=-1",                                "a0=0x8000000000000000"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=-1 a2=1",                                "a0=1"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=1 a2=-1",                                "a0=0"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=0x8000000000000000 a2=0x7fffffffffffffff", "a0=1"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=5 a2=5",                                 "a0=0"),
    (0x00c5b533, "sltu a0, a1, a2",         "a1=1 a2=-1",                                "a0=1"),
    (0x00c5b533, "sltu a0, a1, a2",         "a1=-1 a2=1",                                "a0=0"),
    (0x00c03533, "sltu a0, zero, a2",       "a2=0x8000000000000000",                     "a0=1"),
    (0x00c03533, "sltu a0, zero, a2",       "a2=0",                                      "a0=0"),
    (0x00c5c533, "xor a0, a1, a2",          "a1=0xff00ff00ff00ff00 a2=0x0ff00ff00ff00ff0", "a0=0xf0f0f0f0f0f0f0f0"),
    (0x00c5d533, "srl a0, a1, a2",          "a1=-1 a2=63",                               "a0=1"),
    (0x00c5d533, "srl a0, a1, a2",          "a1=0x8000000000000000 a2=64",               "a0=0x8000000000000000"),
    (0x00c5d533, "srl a0, a1, a2",          "a1=0x8000000000000000 a2=36",               "a0=0x8000000"),
    (0x40c5d533, "sra a0, a1, a2",          "a1=0x8000000000000000 a2=63",               "a0=-1"),
    (0x40c5d533, "sra a0, a1, a2",          "a1=0x8000000000000000 a2=127",              "a0=-1"),
    (0x40c5d533, "sra a0, a1, a2",          "a1=0x4000000000000000 a2=62",               "a0=1"),
    (0x00c5e533, "or a0, a1, a2",           "a1=0xff00ff00ff00ff00 a2=0x0ff00ff00ff00ff0", "a0=0xfff0fff0fff0fff0"),
    (0x00c5f533, "and a0, a1, a2",          "a1=0xff00ff00ff00ff00 a2=0x0ff00ff00ff00ff0", "a0=0x0f000f000f000f00"),
    // ---- fence (pred, succ as IORW bit masks; 0x8330000f is fence.tso, whose fm=1000 a
    // base implementation may ignore, running it as the fence rw, rw it contains), ecall, ebreak
    (0x0ff0000f, "fence 15, 15",            "",                                          ""),
    (0x0310000f, "fence 3, 1",              "",                                          ""),
    (0x8330000f, "fence 3, 3",              "",                                          ""),
    (0x00000073, "ecall",                   "",                                          "!environment call"),
    (0x00100073, "ebreak",                  "",                                          "!breakpoint"),
    // ---- RV64-only word operations: 32-bit result, sign-extended
    (0x0015851b, "addiw a0, a1, 1",         "a1=0x7fffffff",                             "a0=0xffffffff80000000"),
    (0x0005851b, "addiw a0, a1, 0",         "a1=0xffffffff",                             "a0=-1"),
    (0x0005851b, "addiw a0, a1, 0",         "a1=0x123456789",                            "a0=0x23456789"),
    (0xfff5851b, "addiw a0, a1, -1",        "a1=0",                                      "a0=-1"),
    (0x8005851b, "addiw a0, a1, -2048",     "a1=0xffffffff80000000",                     "a0=0x7ffff800"),
    (0x0015801b, "addiw zero, a1, 1",       "a1=1",                                      "zero=0"),
    (0x01f5951b, "slliw a0, a1, 31",        "a1=1",                                      "a0=0xffffffff80000000"),
    (0x0015951b, "slliw a0, a1, 1",         "a1=0x1c0000001",                            "a0=0xffffffff80000002"),
    (0x0005951b, "slliw a0, a1, 0",         "a1=0x80000000",                             "a0=0xffffffff80000000"),
    (0x0015d51b, "srliw a0, a1, 1",         "a1=0xffffffff80000000",                     "a0=0x40000000"),
    (0x0005d51b, "srliw a0, a1, 0",         "a1=0x80000000",                             "a0=0xffffffff80000000"),
    (0x01f5d51b, "srliw a0, a1, 31",        "a1=-1",                                     "a0=1"),
    (0x4015d51b, "sraiw a0, a1, 1",         "a1=0x80000000",                             "a0=0xffffffffc0000000"),
    (0x41f5d51b, "sraiw a0, a1, 31",        "a1=0x7fffffff",                             "a0=0"),
    (0x41f5d51b, "sraiw a0, a1, 31",        "a1=0x80000000",                             "a0=-1"),
    (0x4045d51b, "sraiw a0, a1, 4",         "a1=0x7fffffff00000000",                     "a0=0"),
    (0x00c5853b, "addw a0, a1, a2",         "a1=0x7fffffff a2=1",                        "a0=0xffffffff80000000"),
    (0x00c5853b, "addw a0, a1, a2",         "a1=-1 a2=1",                                "a0=0"),
    (0x00c5853b, "addw a0, a1, a2",         "a1=0x100000001 a2=0x200000002",             "a0=3"),
    (0x40c5853b, "subw a0, a1, a2",         "a1=0 a2=1",                                 "a0=-1"),
    (0x40c5853b, "subw a0, a1, a2",         "a1=0xffffffff80000000 a2=1",                "a0=0x7fffffff"),
    (0x00c5953b, "sllw a0, a1, a2",         "a1=1 a2=31",                                "a0=0xffffffff80000000"),
    (0x00c5953b, "sllw a0, a1, a2",         "a1=1 a2=33",                                "a0=2"),
    (0x00c5953b, "sllw a0, a1, a2",         "a1=0xffffffff00000001 a2=32",               "a0=1"),
    (0x00c5d53b, "srlw a0, a1, a2",         "a1=0xffffffff80000000 a2=31",               "a0=1"),
    (0x00c5d53b, "srlw a0, a1, a2",         "a1=0xffffffff80000000 a2=32",               "a0=0xffffffff80000000"),
    (0x00c5d53b, "srlw a0, a1, a2",         "a1=-1 a2=4",                                "a0=0x0fffffff"),
    (0x40c5d53b, "sraw a0, a1, a2",         "a1=0x80000000 a2=63",                       "a0=-1"),
    (0x40c5d53b, "sraw a0, a1, a2",         "a1=0x80000000 a2=4",                        "a0=0xfffffffff8000000"),
    (0x40c5d53b, "sraw a0, a1, a2",         "a1=0xffffffff7fffffff a2=4",                "a0=0x07ffffff"),
    // ---- words that must not decode
    (0x00000000, "!all-zero word",          "",                                          "!illegal instruction tval=0x0"),
    (0xffffffff, "!all-ones word",          "",                                          "!illegal instruction"),
    (0x0000000b, "!custom-0 opcode",        "",                                          "!illegal instruction"),
    (0x0000006b, "!reserved opcode 0x6b",   "",                                          "!illegal instruction"),
    (0x0205151b, "!slliw a0, a0, 32",       "",                                          "!illegal instruction"),
    (0x0205551b, "!srliw a0, a0, 32",       "",                                          "!illegal instruction"),
    (0x4205551b, "!sraiw a0, a0, 32",       "",                                          "!illegal instruction"),
    (0x00051067, "!jalr, funct3=1",         "",                                          "!illegal instruction"),
    (0x00002063, "!branch, funct3=2",       "",                                          "!illegal instruction"),
    (0x00007003, "!load, funct3=7",         "",                                          "!illegal instruction"),
    (0x00004023, "!store, funct3=4",        "",                                          "!illegal instruction"),
    (0x0000201b, "!op-imm-32, funct3=2",    "",                                          "!illegal instruction"),
    (0x40001033, "!sll with funct7=0x20",   "",                                          "!illegal instruction"),
    (0x80001013, "!slli with funct6=0x20",  "",                                          "!illegal instruction"),
    (0x00000573, "!ecall with rd=a0",       "",                                          "!illegal instruction"),
];

#[rustfmt::skip]
const RV32: &[Row] = &[
    // word      disassembly               before                                       after
    // ---- lui, auipc: 32-bit results, wrapping
    (0x12345537, "lui a0, 305418240",       "",                                          "a0=0x12345000"),
    (0x80000537, "lui a0, -2147483648",     "",                                          "a0=0x80000000"),
    (0xfffff537, "lui a0, -4096",           "a0=7",                                      "a0=0xfffff000"),
    (0x00001037, "lui zero, 4096",          "",                                          "zero=0"),
    (0x00000517, "auipc a0, 0",             "",                                          "a0=0x80000000"),
    (0x00001517, "auipc a0, 4096",          "",                                          "a0=0x80001000"),
    (0xfffff517, "auipc a0, -4096",         "",                                          "a0=0x7ffff000"),
    (0x80000517, "auipc a0, -2147483648",   "",                                          "a0=0"),
    (0x7ffff517, "auipc a0, 2147479552",    "pc=0x80001000",                             "a0=0"),
    // ---- jal, jalr (misaligned targets trap, as under RV64)
    (0x010000ef, "jal ra, 16",              "",                                          "ra=0x80000004 pc=+16"),
    (0xff9ff06f, "jal zero, -8",            "",                                          "pc=-8"),
    (0x7fdff56f, "jal a0, 1048572",         "",                                          "a0=0x80000004 pc=+1048572"),
    (0x8000046f, "jal s0, -1048576",        "",                                          "s0=0x80000004 pc=-1048576"),
    (0x002000ef, "jal ra, 2",               "",                                          "ra=0x80000004 pc=0x80000002"), // C: IALIGN = 16
    (0x008500e7, "jalr ra, 8(a0)",          "a0=0x80000100",                             "ra=0x80000004 pc=0x80000108"),
    (0xfff500e7, "jalr ra, -1(a0)",         "a0=0x80000102",                             "ra=0x80000004 pc=0x80000100"),
    (0x00050567, "jalr a0, 0(a0)",          "a0=0x80000200",                             "a0=0x80000004 pc=0x80000200"),
    (0x00008067, "jalr zero, 0(ra)",        "ra=0x80000040",                             "pc=0x80000040"),
    (0x800580e7, "jalr ra, -2048(a1)",      "a1=0x80000800",                             "ra=0x80000004 pc=0x80000000"),
    (0x004500e7, "jalr ra, 4(a0)",          "a0=-4",                                     "ra=0x80000004 pc=0"),
    (0x002500e7, "jalr ra, 2(a0)",          "a0=0x80000000",                             "ra=0x80000004 pc=0x80000002"),
    // ---- branches
    (0x00b50863, "beq a0, a1, 16",          "a0=5 a1=5",                                 "pc=+16"),
    (0x00b50863, "beq a0, a1, 16",          "a0=5 a1=6",                                 ""),
    (0x80000063, "beq zero, zero, -4096",   "",                                          "pc=-4096"),
    (0x00000063, "beq zero, zero, 0",       "",                                          "pc=+0"),
    (0x7eb51ee3, "bne a0, a1, 4092",        "a0=1 a1=2",                                 "pc=+4092"),
    (0x7eb51ee3, "bne a0, a1, 4092",        "a0=-1 a1=-1",                               ""),
    (0x00b54463, "blt a0, a1, 8",           "a0=-1 a1=1",                                "pc=+8"),
    (0x00b54463, "blt a0, a1, 8",           "a0=1 a1=-1",                                ""),
    (0x00b54463, "blt a0, a1, 8",           "a0=0x80000000 a1=0x7fffffff",               "pc=+8"),
    (0x00b54463, "blt a0, a1, 8",           "a0=3 a1=3",                                 ""),
    (0xfeb55ce3, "bge a0, a1, -8",          "a0=1 a1=-1",                                "pc=-8"),
    (0xfeb55ce3, "bge a0, a1, -8",          "a0=-1 a1=1",                                ""),
    (0xfeb55ce3, "bge a0, a1, -8",          "a0=0x80000000 a1=0x80000000",               "pc=-8"),
    (0x00b56663, "bltu a0, a1, 12",         "a0=1 a1=-1",                                "pc=+12"),
    (0x00b56663, "bltu a0, a1, 12",         "a0=-1 a1=1",                                ""),
    (0x00b56663, "bltu a0, a1, 12",         "a0=0x7fffffff a1=0x80000000",               "pc=+12"),
    (0x00b57663, "bgeu a0, a1, 12",         "a0=-1 a1=1",                                "pc=+12"),
    (0x00b57663, "bgeu a0, a1, 12",         "a0=0 a1=1",                                 ""),
    (0x00b57663, "bgeu a0, a1, 12",         "a0=7 a1=7",                                 "pc=+12"),
    (0x00b50163, "beq a0, a1, 2",           "",                                          "pc=0x80000002"),
    (0x00b51163, "bne a0, a1, 2",           "",                                          ""),
    // ---- loads
    (0x00058503, "lb a0, 0(a1)",            "a1=0x80001000 b[0x80001000]=0x80",          "a0=0xffffff80"),
    (0x00158503, "lb a0, 1(a1)",            "a1=0x80001000 h[0x80001000]=0x7f80",        "a0=127"),
    (0x00259503, "lh a0, 2(a1)",            "a1=0x80001000 w[0x80001000]=0x8001ffff",    "a0=0xffff8001"),
    (0xffe59503, "lh a0, -2(a1)",           "a1=0x80001002 w[0x80001000]=0xffff7fff",    "a0=0x7fff"),
    (0x0045a503, "lw a0, 4(a1)",            "a1=0x80001000 d[0x80001000]=0x80000000ffffffff", "a0=0x80000000"),
    (0x8005a583, "lw a1, -2048(a1)",        "a1=0x80001800 w[0x80001000]=0x12345678",    "a1=0x12345678"),
    (0x0005c503, "lbu a0, 0(a1)",           "a1=0x80001000 b[0x80001000]=0x80",          "a0=0x80"),
    (0x7ff5c503, "lbu a0, 2047(a1)",        "a1=0x80001000 b[0x800017ff]=0xff",          "a0=0xff"),
    (0x0025d503, "lhu a0, 2(a1)",           "a1=0x80001000 w[0x80001000]=0x8001ffff",    "a0=0x8001"),
    (0x0005a003, "lw zero, 0(a1)",          "a1=0x80001000 w[0x80001000]=0x12345678",    "zero=0"),
    (0x00159503, "lh a0, 1(a1)",            "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x00159003, "lh zero, 1(a1)",          "a1=0x80001000",                             ""), // performed, as QEMU does (misaligned: allow)
    (0x0035d503, "lhu a0, 3(a1)",           "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x0025a503, "lw a0, 2(a1)",            "a1=0x80001000",                             "a0=0"), // performed, as QEMU does (misaligned: allow)
    (0x00002503, "lw a0, 0(zero)",          "",                                          "!load access fault tval=0x0"),
    (0x00002003, "lw zero, 0(zero)",        "",                                          "!load access fault tval=0x0"),
    (0x0015a503, "lw a0, 1(a1)",            "a1=0xffffffff",                             "!load access fault tval=0x0"),
    (0xfff58503, "lb a0, -1(a1)",           "a1=0",                                      "!load access fault tval=0xffffffff"),
    // ---- stores
    (0x00a58023, "sb a0, 0(a1)",            "a0=0x55667788 a1=0x80001000 w[0x80001000]=-1", "w[0x80001000]=0xffffff88"),
    (0x7e058fa3, "sb zero, 2047(a1)",       "a1=0x80001000 b[0x800017ff]=0x55",          "b[0x800017ff]=0"),
    (0x00a59123, "sh a0, 2(a1)",            "a0=0x55667788 a1=0x80001000 w[0x80001000]=-1", "w[0x80001000]=0x7788ffff"),
    (0x00a5a223, "sw a0, 4(a1)",            "a0=0x55667788 a1=0x80001000",               "d[0x80001000]=0x5566778800000000"),
    (0xfea5ae23, "sw a0, -4(a1)",           "a0=0x55667788 a1=0x80001004 d[0x80001000]=-1", "d[0x80001000]=0xffffffff55667788"),
    (0x80a5a023, "sw a0, -2048(a1)",        "a0=-1 a1=0x80001800",                       "d[0x80001000]=0xffffffff"),
    (0x00a590a3, "sh a0, 1(a1)",            "a0=-1 a1=0x80001000",                       "w[0x80001000]=0xffff00"), // performed, as QEMU does (misaligned: allow)
    (0x00a5a123, "sw a0, 2(a1)",            "a0=-1 a1=0x80001000",                       "d[0x80001000]=0xffffffff0000"), // performed, as QEMU does (misaligned: allow)
    (0x00a02023, "sw a0, 0(zero)",          "a0=1",                                      "!store access fault tval=0x0"),
    (0xfea5ae23, "sw a0, -4(a1)",           "a0=1 a1=0",                                 "!store access fault tval=0xfffffffc"),
    // ---- register-immediate
    (0x00a58593, "addi a1, a1, 10",         "a1=5",                                      "a1=15"),
    (0xffb58513, "addi a0, a1, -5",         "a1=0",                                      "a0=0xfffffffb"),
    (0x7ff58513, "addi a0, a1, 2047",       "a1=1",                                      "a0=2048"),
    (0x80058513, "addi a0, a1, -2048",      "a1=0",                                      "a0=0xfffff800"),
    (0x00158513, "addi a0, a1, 1",          "a1=0x7fffffff",                             "a0=0x80000000"),
    (0x00158513, "addi a0, a1, 1",          "a1=0xffffffff",                             "a0=0"),
    (0x00000013, "addi zero, zero, 0",      "",                                          ""),
    (0x00158013, "addi zero, a1, 1",        "a1=5",                                      "zero=0"),
    (0xfff5a513, "slti a0, a1, -1",         "a1=-2",                                     "a0=1"),
    (0xfff5a513, "slti a0, a1, -1",         "a1=-1",                                     "a0=0"),
    (0x0005a513, "slti a0, a1, 0",          "a1=0x80000000",                             "a0=1"),
    (0x7ff5a513, "slti a0, a1, 2047",       "a1=0x7fffffff",                             "a0=0"),
    (0xfff5b513, "sltiu a0, a1, -1",        "a1=5",                                      "a0=1"),
    (0xfff5b513, "sltiu a0, a1, -1",        "a1=-1",                                     "a0=0"),
    (0x0015b513, "sltiu a0, a1, 1",         "a1=0",                                      "a0=1"),
    (0x0015b513, "sltiu a0, a1, 1",         "a1=0x80000000",                             "a0=0"),
    (0xfff5c513, "xori a0, a1, -1",         "a1=0x0f",                                   "a0=0xfffffff0"),
    (0x7ff5c513, "xori a0, a1, 2047",       "a1=0x80000fff",                             "a0=0x80000800"),
    (0x8005e513, "ori a0, a1, -2048",       "a1=1",                                      "a0=0xfffff801"),
    (0x5555e513, "ori a0, a1, 1365",        "a1=0xaa",                                   "a0=0x5ff"),
    (0xff05f513, "andi a0, a1, -16",        "a1=-1",                                     "a0=0xfffffff0"),
    (0x0ff5f513, "andi a0, a1, 255",        "a1=0x9abcdef0",                             "a0=0xf0"),
    (0x01f59513, "slli a0, a1, 31",         "a1=3",                                      "a0=0x80000000"),
    (0x00059513, "slli a0, a1, 0",          "a1=-1",                                     "a0=0xffffffff"),
    (0x01f5d513, "srli a0, a1, 31",         "a1=-1",                                     "a0=1"),
    (0x0045d513, "srli a0, a1, 4",          "a1=0x80000000",                             "a0=0x08000000"),
    (0x41f5d513, "srai a0, a1, 31",         "a1=0x80000000",                             "a0=0xffffffff"),
    (0x4045d513, "srai a0, a1, 4",          "a1=0x80000000",                             "a0=0xf8000000"),
    (0x4015d513, "srai a0, a1, 1",          "a1=0x7fffffff",                             "a0=0x3fffffff"),
    // ---- register-register
    (0x00c58533, "add a0, a1, a2",          "a1=1 a2=2",                                 "a0=3"),
    (0x00c58533, "add a0, a1, a2",          "a1=0x7fffffff a2=1",                        "a0=0x80000000"),
    (0x00c58533, "add a0, a1, a2",          "a1=-1 a2=-1",                               "a0=0xfffffffe"),
    (0x00c58533, "add a0, a1, a2",          "a1=0xffffffff a2=1",                        "a0=0"),
    (0x00c58033, "add zero, a1, a2",        "a1=1 a2=2",                                 "zero=0"),
    (0x01ff0fb3, "add t6, t5, t6",          "t5=1 t6=2",                                 "t6=3"),
    (0x40c58533, "sub a0, a1, a2",          "a1=0 a2=1",                                 "a0=0xffffffff"),
    (0x40c58533, "sub a0, a1, a2",          "a1=0x80000000 a2=1",                        "a0=0x7fffffff"),
    (0x00c59533, "sll a0, a1, a2",          "a1=3 a2=31",                                "a0=0x80000000"),
    (0x00c59533, "sll a0, a1, a2",          "a1=1 a2=32",                                "a0=1"),
    (0x00c59533, "sll a0, a1, a2",          "a1=1 a2=33",                                "a0=2"),
    (0x00c59533, "sll a0, a1, a2",          "a1=1 a2=-1",                                "a0=0x80000000"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=-1 a2=1",                                "a0=1"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=1 a2=-1",                                "a0=0"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=0x80000000 a2=0x7fffffff",               "a0=1"),
    (0x00c5a533, "slt a0, a1, a2",          "a1=5 a2=5",                                 "a0=0"),
    (0x00c5b533, "sltu a0, a1, a2",         "a1=1 a2=-1",                                "a0=1"),
    (0x00c5b533, "sltu a0, a1, a2",         "a1=-1 a2=1",                                "a0=0"),
    (0x00c03533, "sltu a0, zero, a2",       "a2=0x80000000",                             "a0=1"),
    (0x00c5c533, "xor a0, a1, a2",          "a1=0xff00ff00 a2=0x0ff00ff0",               "a0=0xf0f0f0f0"),
    (0x00c5d533, "srl a0, a1, a2",          "a1=-1 a2=31",                               "a0=1"),
    (0x00c5d533, "srl a0, a1, a2",          "a1=0x80000000 a2=32",                       "a0=0x80000000"),
    (0x00c5d533, "srl a0, a1, a2",          "a1=0x80000000 a2=4",                        "a0=0x08000000"),
    (0x40c5d533, "sra a0, a1, a2",          "a1=0x80000000 a2=31",                       "a0=0xffffffff"),
    (0x40c5d533, "sra a0, a1, a2",          "a1=0x80000000 a2=63",                       "a0=0xffffffff"),
    (0x40c5d533, "sra a0, a1, a2",          "a1=0x40000000 a2=30",                       "a0=1"),
    (0x00c5e533, "or a0, a1, a2",           "a1=0xff00ff00 a2=0x0ff00ff0",               "a0=0xfff0fff0"),
    (0x00c5f533, "and a0, a1, a2",          "a1=0xff00ff00 a2=0x0ff00ff0",               "a0=0x0f000f00"),
    // ---- fence (0x8330000f: fence.tso, run as the fence rw, rw it contains), ecall, ebreak
    (0x0ff0000f, "fence 15, 15",            "",                                          ""),
    (0x0310000f, "fence 3, 1",              "",                                          ""),
    (0x8330000f, "fence 3, 3",              "",                                          ""),
    (0x00000073, "ecall",                   "",                                          "!environment call"),
    (0x00100073, "ebreak",                  "",                                          "!breakpoint"),
    // ---- RV64-only instructions and RV64-only shift amounts
    (0x0005b503, "!ld a0, 0(a1)",           "a1=0x80001000",                             "!illegal instruction"),
    (0x0005e503, "!lwu a0, 0(a1)",          "a1=0x80001000",                             "!illegal instruction"),
    (0x00a5b023, "!sd a0, 0(a1)",           "a1=0x80001000",                             "!illegal instruction"),
    (0x0015851b, "!addiw a0, a1, 1",        "",                                          "!illegal instruction"),
    (0x0015951b, "!slliw a0, a1, 1",        "",                                          "!illegal instruction"),
    (0x0015d51b, "!srliw a0, a1, 1",        "",                                          "!illegal instruction"),
    (0x4015d51b, "!sraiw a0, a1, 1",        "",                                          "!illegal instruction"),
    (0x00c5853b, "!addw a0, a1, a2",        "",                                          "!illegal instruction"),
    (0x40c5853b, "!subw a0, a1, a2",        "",                                          "!illegal instruction"),
    (0x00c5953b, "!sllw a0, a1, a2",        "",                                          "!illegal instruction"),
    (0x00c5d53b, "!srlw a0, a1, a2",        "",                                          "!illegal instruction"),
    (0x40c5d53b, "!sraw a0, a1, a2",        "",                                          "!illegal instruction"),
    (0x02051513, "!slli a0, a0, 32",        "",                                          "!illegal instruction"),
    (0x03f51513, "!slli a0, a0, 63",        "",                                          "!illegal instruction"),
    (0x02055513, "!srli a0, a0, 32",        "",                                          "!illegal instruction"),
    (0x42055513, "!srai a0, a0, 32",        "",                                          "!illegal instruction"),
    // ---- other words that must not decode
    (0x00000000, "!all-zero word",          "",                                          "!illegal instruction tval=0x0"),
    (0xffffffff, "!all-ones word",          "",                                          "!illegal instruction"),
    (0x0000000b, "!custom-0 opcode",        "",                                          "!illegal instruction"),
    (0x00051067, "!jalr, funct3=1",         "",                                          "!illegal instruction"),
    (0x00002063, "!branch, funct3=2",       "",                                          "!illegal instruction"),
    (0x0000006b, "!reserved opcode 0x6b",   "",                                          "!illegal instruction"),
];

/// RV32I's instructions.
const RV32I: &[&str] = &[
    "lui", "auipc", "jal", "jalr", "beq", "bne", "blt", "bge", "bltu", "bgeu", "lb", "lh", "lw",
    "lbu", "lhu", "sb", "sh", "sw", "addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli",
    "srai", "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and", "fence", "ecall",
    "ebreak",
];

/// What RV64I adds to RV32I.
const RV64_ONLY: &[&str] = &[
    "ld", "lwu", "sd", "addiw", "slliw", "srliw", "sraiw", "addw", "subw", "sllw", "srlw", "sraw",
];

/// ABI register names, x0..x31.
const REGS: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// One parsed "before" or "after" column.
#[derive(Default)]
struct State {
    /// Register index and value.
    regs: Vec<(usize, u64)>,
    /// Address, size in bytes, value.
    mem: Vec<(u64, u8, u64)>,
    /// `pc=`: (is relative, value).
    pc: Option<(bool, u64)>,
    /// `!name`: the expected trap's name.
    trap: Option<String>,
    /// `tval=`.
    tval: Option<u64>,
}

/// A number: decimal or `0x` hex, `_` allowed, optionally signed; a
/// negative number wraps to 64 bits.
fn number(s: &str) -> Result<u64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body.replace('_', "");
    let v = match body.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => body.parse::<u64>(),
    }
    .map_err(|e| format!("bad number '{s}': {e}"))?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

fn parse(text: &str) -> Result<State, String> {
    let mut st = State::default();
    let mut words = text.split_whitespace().peekable();
    if let Some(first) = words.peek().and_then(|w| w.strip_prefix('!')) {
        let mut name = vec![first.to_string()];
        words.next();
        while let Some(w) = words.next_if(|w| !w.contains('=')) {
            name.push(w.to_string());
        }
        st.trap = Some(name.join(" "));
    }
    for item in words {
        let (key, val) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not name=value"))?;
        if key == "pc" {
            let rel = val.starts_with(['+', '-']);
            st.pc = Some((rel, number(val)?));
        } else if key == "tval" {
            st.tval = Some(number(val)?);
        } else if let Some(addr) = key.strip_suffix(']') {
            let (size, addr) = addr
                .split_once('[')
                .ok_or_else(|| format!("bad memory item '{item}'"))?;
            let size = match size {
                "b" => 1,
                "h" => 2,
                "w" => 4,
                "d" => 8,
                _ => return Err(format!("bad memory size in '{item}'")),
            };
            st.mem.push((number(addr)?, size, number(val)?));
        } else {
            let r = REGS
                .iter()
                .position(|n| *n == key)
                .or_else(|| key.strip_prefix('x').and_then(|n| n.parse().ok()))
                .filter(|r| *r < 32)
                .ok_or_else(|| format!("unknown register '{key}'"))?;
            st.regs.push((r, number(val)?));
        }
    }
    Ok(st)
}

fn machine(xlen: u32) -> Machine {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("machines/virt.yaml");
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let opts = BuildOptions {
        params: vec![("xlen".into(), xlen.to_string())],
        ..Default::default()
    };
    Machine::from_file(&path, &reg, opts).expect("virt machine builds")
}

/// Run one row on a fresh machine; the error says what differed.
fn check(xlen: u32, &(word, asm, before, after): &Row) -> Result<(), String> {
    let mask = if xlen == 64 { u64::MAX } else { 0xffff_ffff };
    let before = parse(before)?;
    let after = parse(after)?;
    let mut m = machine(xlen);
    let bytes = word.to_le_bytes();
    let pc = match before.pc {
        Some((false, a)) => a,
        Some((true, _)) => return Err("before: pc must be absolute".into()),
        None => PC,
    };

    // Bytes → disassembly.
    let model = &m.clusters[0].model;
    assert_eq!(model.word_bits(), xlen, "machine built with xlen={xlen}");
    match (asm.strip_prefix('!'), model.disassemble(&bytes, pc)) {
        (None, Ok((text, 4))) if text == asm => {}
        (None, got) => {
            return Err(format!(
                "disassembly: expected Ok((\"{asm}\", 4)), got {got:?}"
            ))
        }
        (Some(_), Err(hemu_runtime::cpu::DecodeError::Invalid)) => {}
        (Some(_), got) => return Err(format!("disassembly: expected Err(Invalid), got {got:?}")),
    }

    // Machine state before.
    m.bus(0)
        .load_bytes(pc, &bytes)
        .map_err(|a| format!("cannot place the instruction at {a:#x}"))?;
    for &(addr, size, v) in &before.mem {
        m.bus(0)
            .load_bytes(addr, &v.to_le_bytes()[..size as usize])
            .map_err(|a| format!("before: no RAM at {a:#x}"))?;
    }
    let cpu = &mut m.clusters[0].cpus[0];
    cpu.regs.iter_mut().for_each(|r| *r = 0);
    for &(r, v) in &before.regs {
        cpu.regs[r] = v & mask;
    }
    cpu.pc = pc;
    let regs_before = cpu.regs.clone();

    // Effect.
    let result = m.step(0, 0);
    let cpu = &m.clusters[0].cpus[0];
    let mut errs = Vec::new();
    let mut expect_regs = regs_before.clone();
    let expect_pc = match &after.trap {
        Some(name) => {
            let report = match &result {
                Some(RunResult::Crashed { report, .. }) => report.clone(),
                other => format!("<no trap: {other:?}>"),
            };
            let tval_ok = after
                .tval
                .is_none_or(|t| report.ends_with(&format!(" tval={t:#x}")));
            if !report.starts_with(&format!("{name} (cause "))
                || !report.contains(&format!(" at pc={pc:#x} "))
                || !tval_ok
            {
                let tval = after.tval.map(|t| format!(" tval={t:#x}"));
                errs.push(format!(
                    "trap: expected \"{name} ... at pc={pc:#x}{}\", got \"{report}\"",
                    tval.unwrap_or_default()
                ));
            }
            pc
        }
        None => {
            if result.is_some() {
                errs.push(format!("expected no trap, got {result:?}"));
            }
            match after.pc {
                Some((true, d)) => pc.wrapping_add(d) & mask,
                Some((false, a)) => a,
                None => pc.wrapping_add(4) & mask,
            }
        }
    };
    for &(r, v) in &after.regs {
        expect_regs[r] = v & mask;
    }
    for (r, (&got, &want)) in cpu.regs.iter().zip(&expect_regs).enumerate() {
        if got != want {
            errs.push(format!("{}: expected {want:#x}, got {got:#x}", REGS[r]));
        }
    }
    if cpu.pc != expect_pc {
        errs.push(format!("pc: expected {expect_pc:#x}, got {:#x}", cpu.pc));
    }
    for &(addr, size, v) in &after.mem {
        let want = if size == 8 {
            v
        } else {
            v & ((1 << (size * 8)) - 1)
        };
        match m.bus(0).read(addr, size, Endian::Little) {
            Ok(got) if got == want => {}
            got => errs.push(format!(
                "memory {addr:#x} ({size} bytes): expected {want:#x}, got {got:x?}"
            )),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

fn run_table(xlen: u32, rows: &[Row]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            check(xlen, row).err().map(|e| {
                format!(
                    "  rv{xlen} {:#010x} \"{}\" [{}] → [{}]: {e}",
                    row.0, row.1, row.2, row.3
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn rv64i_table() {
    run_table(64, RV64);
}

#[test]
fn rv32i_table() {
    run_table(32, RV32);
}

/// Every instruction has a row that decodes it, and under RV32 every
/// RV64-only instruction has a row that must not decode.
#[test]
fn tables_cover_every_instruction() {
    let mnemonics = |rows: &[Row], illegal: bool| -> Vec<String> {
        rows.iter()
            .filter(|r| r.1.starts_with('!') == illegal)
            .filter_map(|r| r.1.trim_start_matches('!').split(' ').next())
            .map(str::to_string)
            .collect()
    };
    let rv64 = mnemonics(RV64, false);
    let rv32 = mnemonics(RV32, false);
    let rv32_illegal = mnemonics(RV32, true);
    for m in RV32I.iter().chain(RV64_ONLY) {
        assert!(rv64.iter().any(|x| x == m), "RV64 table has no row for {m}");
    }
    for m in RV32I {
        assert!(rv32.iter().any(|x| x == m), "RV32 table has no row for {m}");
    }
    for m in RV64_ONLY {
        assert!(
            rv32_illegal.iter().any(|x| x == m),
            "RV32 table has no illegal row for {m}"
        );
        assert!(!rv32.iter().any(|x| x == m), "RV32 table decodes {m}");
    }
}
