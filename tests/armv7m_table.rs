//! One-line table tests of the ARMv7-M Thumb instruction set: encoding →
//! disassembly → effect on registers, flags, memory and pc.
//!
//! Each row runs one instruction on a fresh `machines/lm3s6965evb.yaml`
//! machine (Cortex-M3), through the runtime's `CpuModel` trait: after the
//! reset pseudo-instruction (which loads SP and pc from a vector table
//! placed in flash), the instruction is stored at the row's pc (default
//! 0x2000_1000, in SRAM), the registers, flags and memory of the "before"
//! column are set, and `Machine::step` runs it.
//!
//! Every encoding was produced by the GNU assembler (binutils 2.40,
//! `.cpu cortex-m3`, from the instruction written in the comment-free
//! source kept in the test's history) and every effect follows the
//! ARMv7-M Architecture Reference Manual (DDI 0403E, chapter A7); the
//! reference traces (`tests/difftest.rs`) check the same semantics
//! against QEMU instruction by instruction.
//!
//! Row syntax: `(halfwords, disassembly, before, after)`.
//! - halfwords: the instruction as the manual writes it, hw1 then hw2
//!   for 32-bit encodings (`"f8d1 f000"`), in hex.
//! - disassembly: the exact text `CpuModel::disassemble` must give (GNU
//!   objdump's syntax, with r10-r12 by number, no IT conditions, branch
//!   and literal targets as absolute addresses).
//! - before / after: space-separated `name=value` items:
//!   - `r0=-5`, `sp=0x2000_3000`: a register (r0-r12, sp, lr), or a flag or
//!     state field (`n z c v q ge itstate`); values decimal or hex;
//!   - `w[0x20002000]=0x80` (also `b`, `h`): memory, little-endian;
//!   - `pc=0x20000100` (absolute) or `pc=+2` (relative) in "after"; the
//!     default is the next instruction.
//! - after may start with `!name` (an exception of specs/armv7m/isa.yaml):
//!   the instruction must trap with it (entering its handler next; for
//!   `invstate`, raised by a branch to an even address, the pc is then the
//!   target with EPSR.T clear and the fault is taken there) and change no
//!   register; `tval=` then checks the trap value.
//!
//! Every register the "after" column does not name must keep its value.

use hemu_armv7m::support::state::{arm, Entry, ENTRY_PC};
use hemu_runtime::ir::Endian;
use hemu_runtime::machine::BuildOptions;
use hemu_runtime::{Machine, Registry};
use std::path::Path;

/// `(halfwords, disassembly, before, after)`; see the module documentation.
type Row = (&'static str, &'static str, &'static str, &'static str);

/// Where rows put their instruction.
const PC: u64 = 0x2000_1000;

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // halfwords     disassembly                        before                  after
    // ---- 16-bit: moves, add/subtract, compare (flags: N Z C V)
    ("2080", "movs r0, #128"                 , "z=1 c=1 v=1", "r0=0x80 z=0"),
    ("2000", "movs r0, #0"                   , "n=1", "r0=0 n=0 z=1"),
    ("1888", "adds r0, r1, r2"               , "r1=0xffffffff r2=1", "r0=0 z=1 c=1"),
    ("1888", "adds r0, r1, r2"               , "r1=0x7fffffff r2=1", "r0=0x80000000 n=1 v=1"),
    ("1a88", "subs r0, r1, r2"               , "r1=1 r2=2", "r0=0xffffffff n=1"),
    ("1a88", "subs r0, r1, r2"               , "r1=2 r2=1", "r0=1 c=1"),
    ("1a88", "subs r0, r1, r2"               , "r1=0x80000000 r2=1", "r0=0x7fffffff c=1 v=1"),
    ("1dc8", "adds r0, r1, #7"               , "r1=1", "r0=8"),
    ("1fc8", "subs r0, r1, #7"               , "r1=7", "r0=0 z=1 c=1"),
    ("31c8", "adds r1, #200"                 , "r1=100", "r1=300"),
    ("3901", "subs r1, #1"                   , "r1=0", "r1=0xffffffff n=1"),
    ("2805", "cmp r0, #5"                    , "r0=5", "z=1 c=1"),
    ("4291", "cmp r1, r2"                    , "r1=0 r2=1", "n=1"),
    ("42d1", "cmn r1, r2"                    , "r1=1 r2=0xffffffff", "z=1 c=1"),
    ("4148", "adcs r0, r1"                   , "r0=0xffffffff r1=0 c=1", "r0=0 z=1 c=1"),
    ("4148", "adcs r0, r1"                   , "r0=1 r1=1 c=1", "r0=3 c=0"),
    ("4188", "sbcs r0, r1"                   , "r0=5 r1=3 c=0", "r0=1 c=1"),
    ("4188", "sbcs r0, r1"                   , "r0=0 r1=0 c=0", "r0=0xffffffff n=1"),
    ("4248", "negs r0, r1"                   , "r1=1", "r0=0xffffffff n=1"),
    ("4248", "negs r0, r1"                   , "r1=0", "r0=0 z=1 c=1"),
    ("4248", "negs r0, r1"                   , "r1=0x80000000", "r0=0x80000000 n=1 v=1"),
    // ---- 16-bit logic, multiply, shifts
    ("4008", "ands r0, r1"                   , "r0=0xf0 r1=0x3c", "r0=0x30"),
    ("4048", "eors r0, r1"                   , "r0=0xff r1=0xff", "r0=0 z=1"),
    ("4308", "orrs r0, r1"                   , "r0=0x80000000 r1=1", "r0=0x80000001 n=1"),
    ("4388", "bics r0, r1"                   , "r0=0xff r1=0x0f", "r0=0xf0"),
    ("43c8", "mvns r0, r1"                   , "r1=0", "r0=0xffffffff n=1"),
    ("4208", "tst r0, r1"                    , "r0=1 r1=2", "z=1"),
    ("4348", "muls r0, r1"                   , "r0=6 r1=7", "r0=42"),
    ("4348", "muls r0, r1"                   , "r0=0x10000 r1=0x10000 c=1", "r0=0 z=1"),
    ("0108", "lsls r0, r1, #4"               , "r1=0x10000001", "r0=0x10 c=1"),
    ("0008", "movs r0, r1"                   , "r1=0x80000000 c=1", "r0=0x80000000 n=1"),
    ("0848", "lsrs r0, r1, #1"               , "r1=3", "r0=1 c=1"),
    ("0808", "lsrs r0, r1, #32"              , "r1=0x80000000", "r0=0 z=1 c=1"),
    ("1108", "asrs r0, r1, #4"               , "r1=0x80000000 c=1", "r0=0xf8000000 n=1 c=0"),
    ("1008", "asrs r0, r1, #32"              , "r1=0x80000000", "r0=0xffffffff n=1 c=1"),
    ("4088", "lsls r0, r1"                   , "r0=1 r1=33 c=1", "r0=0 z=1 c=0"),
    ("4088", "lsls r0, r1"                   , "r0=1 r1=32", "r0=0 z=1 c=1"),
    ("4088", "lsls r0, r1"                   , "r0=3 r1=0 c=1", "r0=3"),
    ("4088", "lsls r0, r1"                   , "r0=3 r1=0x101", "r0=6"),
    ("40c8", "lsrs r0, r1"                   , "r0=0x80000000 r1=32", "r0=0 z=1 c=1"),
    ("40c8", "lsrs r0, r1"                   , "r0=0x80000000 r1=31", "r0=1"),
    ("4108", "asrs r0, r1"                   , "r0=0x80000000 r1=40", "r0=0xffffffff n=1 c=1"),
    ("41c8", "rors r0, r1"                   , "r0=0x12345678 r1=8", "r0=0x78123456"),
    ("41c8", "rors r0, r1"                   , "r0=0x80 r1=8", "r0=0x80000000 n=1 c=1"),
    ("41c8", "rors r0, r1"                   , "r0=1 r1=32 c=1", "r0=1 c=0"),
    // ---- 16-bit high registers and the pc
    ("4488", "add r8, r1"                    , "r8=1 r1=2", "r8=3"),
    ("4691", "mov r9, r2"                    , "r2=5", "r9=5"),
    ("45c8", "cmp r8, r9"                    , "r8=1 r9=1", "z=1 c=1"),
    ("4678", "mov r0, pc"                    , "", "r0=0x20001004"),
    ("4478", "add r0, pc"                    , "r0=4", "r0=0x20001008"),
    ("468f", "mov pc, r1"                    , "r1=0x20000200", "pc=0x20000200"),
    ("448f", "add pc, r1"                    , "r1=0x10", "pc=0x20001014"),
    ("4708", "bx r1"                         , "r1=0x20000201", "pc=0x20000200"),
    ("4788", "blx r1"                        , "r1=0x20000301", "pc=0x20000300 lr=0x20001003"),
    ("4708", "bx r1"                         , "r1=0x20000200", "!invstate tval=0x20000200"),
    // ---- 16-bit loads and stores
    ("4802", "ldr r0, [pc, #8]\t@ 0x2000100c" , "w[0x2000100c]=0xdeadbeef", "r0=0xdeadbeef"),
    ("6048", "str r0, [r1, #4]"              , "r0=0x11223344 r1=0x20002000", "w[0x20002004]=0x11223344"),
    ("6848", "ldr r0, [r1, #4]"              , "r1=0x20002000 w[0x20002004]=0x55", "r0=0x55"),
    ("7048", "strb r0, [r1, #1]"             , "r0=0x1ff r1=0x20002000", "w[0x20002000]=0xff00"),
    ("7848", "ldrb r0, [r1, #1]"             , "r1=0x20002000 w[0x20002000]=0xabcd", "r0=0xab"),
    ("8048", "strh r0, [r1, #2]"             , "r0=0x12345 r1=0x20002000", "w[0x20002000]=0x23450000"),
    ("8848", "ldrh r0, [r1, #2]"             , "r1=0x20002000 w[0x20002000]=0x80010000", "r0=0x8001"),
    ("5e88", "ldrsh r0, [r1, r2]"            , "r1=0x20002000 r2=2 w[0x20002000]=0x80010000", "r0=0xffff8001"),
    ("5688", "ldrsb r0, [r1, r2]"            , "r1=0x20002000 r2=3 w[0x20002000]=0x80010000", "r0=0xffffff80"),
    ("5888", "ldr r0, [r1, r2]"              , "r1=0x20002000 r2=4 w[0x20002004]=7", "r0=7"),
    ("5088", "str r0, [r1, r2]"              , "r0=9 r1=0x20002000 r2=4", "w[0x20002004]=9"),
    ("5488", "strb r0, [r1, r2]"             , "r0=0x1234 r1=0x20002000 r2=3", "w[0x20002000]=0x34000000"),
    ("5288", "strh r0, [r1, r2]"             , "r0=0x1234 r1=0x20002000 r2=2", "w[0x20002000]=0x12340000"),
    ("5c88", "ldrb r0, [r1, r2]"             , "r1=0x20002000 r2=1 w[0x20002000]=0x8000", "r0=0x80"),
    ("5a88", "ldrh r0, [r1, r2]"             , "r1=0x20002000 r2=0 w[0x20002000]=0x18000", "r0=0x8000"),
    ("9002", "str r0, [sp, #8]"              , "r0=9 sp=0x20003000", "w[0x20003008]=9"),
    ("9802", "ldr r0, [sp, #8]"              , "sp=0x20003000 w[0x20003008]=9", "r0=9"),
    ("6808", "ldr r0, [r1, #0]"              , "r1=0x20002001 w[0x20002000]=0x44332211 w[0x20002004]=0x55", "r0=0x55443322"),
    ("a002", "add r0, pc, #8\t@ 0x2000100c"  , "", "r0=0x2000100c"),
    ("a804", "add r0, sp, #16"               , "sp=0x20003000", "r0=0x20003010"),
    ("b004", "add sp, #16"                   , "sp=0x20003000", "sp=0x20003010"),
    ("b084", "sub sp, #16"                   , "sp=0x20003000", "sp=0x20002ff0"),
    ("6808", "ldr r0, [r1, #0]"              , "r1=0x40000000", "!load_buserr tval=0x40000000"),
    ("6008", "str r0, [r1, #0]"              , "r1=0x00000100", "!store_buserr tval=0x100"),
    // ---- 16-bit multiple loads and stores
    ("b503", "push {r0, r1, lr}"             , "r0=1 r1=2 lr=3 sp=0x20003000", "sp=0x20002ff4 w[0x20002ff4]=1 w[0x20002ff8]=2 w[0x20002ffc]=3"),
    ("bc03", "pop {r0, r1}"                  , "sp=0x20002ff4 w[0x20002ff4]=1 w[0x20002ff8]=2", "r0=1 r1=2 sp=0x20002ffc"),
    ("bd01", "pop {r0, pc}"                  , "sp=0x20002ff8 w[0x20002ff8]=5 w[0x20002ffc]=0x20000401", "r0=5 sp=0x20003000 pc=0x20000400"),
    ("c006", "stmia r0!, {r1, r2}"           , "r0=0x20002000 r1=1 r2=2", "r0=0x20002008 w[0x20002000]=1 w[0x20002004]=2"),
    ("c806", "ldmia r0!, {r1, r2}"           , "r0=0x20002000 w[0x20002000]=3 w[0x20002004]=4", "r0=0x20002008 r1=3 r2=4"),
    ("c803", "ldmia r0, {r0, r1}"            , "r0=0x20002000 w[0x20002000]=5 w[0x20002004]=6", "r0=5 r1=6"),
    ("c802", "ldmia r0!, {r1}"               , "r0=0x20002002", "!unaligned_load tval=0x20002002"),
    // ---- 16-bit branches
    ("b110", "cbz r0, 0x20001008"            , "r0=0", "pc=0x20001008"),
    ("b110", "cbz r0, 0x20001008"            , "r0=1", "pc=+2"),
    ("b910", "cbnz r0, 0x20001008"           , "r0=1", "pc=0x20001008"),
    ("d006", "beq 0x20001010"                , "z=1", "pc=0x20001010"),
    ("d006", "beq 0x20001010"                , "z=0", "pc=+2"),
    ("d1fc", "bne 0x20000ffc"                , "", "pc=0x20000ffc"),
    ("dc02", "bgt 0x20001008"                , "", "pc=0x20001008"),
    ("dc02", "bgt 0x20001008"                , "n=1", "pc=+2"),
    ("d802", "bhi 0x20001008"                , "c=1", "pc=0x20001008"),
    ("d902", "bls 0x20001008"                , "c=1", "pc=+2"),
    ("da02", "bge 0x20001008"                , "n=1 v=1", "pc=0x20001008"),
    ("db02", "blt 0x20001008"                , "n=1", "pc=0x20001008"),
    ("d402", "bmi 0x20001008"                , "n=1", "pc=0x20001008"),
    ("d602", "bvs 0x20001008"                , "", "pc=+2"),
    ("d302", "bcc 0x20001008"                , "", "pc=0x20001008"),
    ("e030", "b 0x20001064"                  , "", "pc=0x20001064"),
    ("f7ff bbfe", "b.w 0x20000800"                , "", "pc=0x20000800"),
    // ---- 16-bit extend, reverse, misc
    ("b208", "sxth r0, r1"                   , "r1=0x18000", "r0=0xffff8000"),
    ("b248", "sxtb r0, r1"                   , "r1=0x80", "r0=0xffffff80"),
    ("b288", "uxth r0, r1"                   , "r1=0xffff8000", "r0=0x8000"),
    ("b2c8", "uxtb r0, r1"                   , "r1=0x1ff", "r0=0xff"),
    ("ba08", "rev r0, r1"                    , "r1=0x11223344", "r0=0x44332211"),
    ("ba48", "rev16 r0, r1"                  , "r1=0x11223344", "r0=0x22114433"),
    ("bac8", "revsh r0, r1"                  , "r1=0x11223380", "r0=0xffff8033"),
    ("df05", "svc #5"                        , "", "!svcall tval=5"),
    ("de00", "udf #0"                        , "", "!undefinstr"),
    ("be01", "bkpt 0x1"                      , "", "!bkpt tval=1"),
    ("bf00", "nop"                           , "", ""),
    ("bf10", "yield"                         , "", ""),
    ("bf40", "sev"                           , "", ""),
    ("bf08", "it eq"                         , "", "itstate=0x08"),
    ("bf15", "itete ne"                      , "", "itstate=0x15"),
    // ---- 32-bit modified immediates (ThumbExpandImm, its carry)
    ("f04f 3055", "mov.w r0, #1431655765"         , "", "r0=0x55555555"),
    ("f04f 20ff", "mov.w r0, #4278255360"         , "", "r0=0xff00ff00"),
    ("f04f 10ab", "mov.w r0, #11206827"           , "", "r0=0xab00ab"),
    ("f44f 707f", "mov.w r0, #1020"               , "", "r0=0x3fc"),
    ("f05f 4000", "movs.w r0, #2147483648"        , "", "r0=0x80000000 n=1 c=1"),
    ("f05f 00ab", "movs.w r0, #171"               , "c=1", "r0=0xab"),
    ("f06f 0000", "mvn.w r0, #0"                  , "", "r0=0xffffffff"),
    ("f07f 4080", "mvns.w r0, #1073741824"        , "c=1", "r0=0xbfffffff n=1 c=0"),
    ("f501 5080", "add.w r0, r1, #4096"           , "r1=1", "r0=0x1001"),
    ("f111 0001", "adds.w r0, r1, #1"             , "r1=0xffffffff", "r0=0 z=1 c=1"),
    ("f5a1 7080", "sub.w r0, r1, #256"            , "r1=0x100", "r0=0"),
    ("f5b1 7080", "subs.w r0, r1, #256"           , "r1=0xff", "r0=0xffffffff n=1"),
    ("f1c1 0000", "rsb r0, r1, #0"                , "r1=5", "r0=0xfffffffb"),
    ("f1d1 0001", "rsbs r0, r1, #1"               , "r1=1", "r0=0 z=1 c=1"),
    ("f141 0001", "adc.w r0, r1, #1"              , "r1=1 c=1", "r0=3"),
    ("f161 0001", "sbc.w r0, r1, #1"              , "r1=5", "r0=3"),
    ("f001 00ff", "and.w r0, r1, #255"            , "r1=0x1234", "r0=0x34"),
    ("f441 7080", "orr.w r0, r1, #256"            , "r1=1", "r0=0x101"),
    ("f061 00ff", "orn r0, r1, #255"              , "r1=0", "r0=0xffffff00"),
    ("f081 30f0", "eor.w r0, r1, #4042322160"     , "r1=0xffffffff", "r0=0x0f0f0f0f"),
    ("f021 0001", "bic.w r0, r1, #1"              , "r1=3", "r0=2"),
    ("f010 4f00", "tst.w r0, #2147483648"         , "r0=0x80000000", "n=1 c=1"),
    ("f090 0f01", "teq r0, #1"                    , "r0=1", "z=1"),
    ("f5b0 7f80", "cmp.w r0, #256"                , "r0=0x100", "z=1 c=1"),
    ("f110 0f01", "cmn.w r0, #1"                  , "r0=0xffffffff", "z=1 c=1"),
    // ---- 32-bit plain immediates, bit fields, saturation
    ("f601 70ff", "addw r0, r1, #4095"            , "r1=1", "r0=0x1000"),
    ("f2a1 0001", "subw r0, r1, #1"               , "r1=0", "r0=0xffffffff"),
    ("f20f 1000", "addw r0, pc, #256\t@ 0x20001104" , "", "r0=0x20001104"),
    ("f2af 0004", "subw r0, pc, #4\t@ 0x20001000" , "", "r0=0x20001000"),
    ("f64b 60ef", "movw r0, #48879"               , "r0=0x12345678", "r0=0xbeef"),
    ("f6cd 60ad", "movt r0, #57005"               , "r0=0x1234beef", "r0=0xdeadbeef"),
    ("f361 100b", "bfi r0, r1, #4, #8"            , "r0=0xffffffff r1=0x12", "r0=0xfffff12f"),
    ("f36f 100b", "bfc r0, #4, #8"                , "r0=0xffffffff", "r0=0xfffff00f"),
    ("f361 001f", "bfi r0, r1, #0, #32"           , "r0=0 r1=0x12345678", "r0=0x12345678"),
    ("f3c1 1007", "ubfx r0, r1, #4, #8"           , "r1=0x12345678", "r0=0x67"),
    ("f341 1007", "sbfx r0, r1, #4, #8"           , "r1=0x12345f78", "r0=0xfffffff7"),
    ("f341 001f", "sbfx r0, r1, #0, #32"          , "r1=0x82345f78", "r0=0x82345f78"),
    ("f301 0007", "ssat r0, #8, r1"               , "r1=200", "r0=127 q=1"),
    ("f301 0007", "ssat r0, #8, r1"               , "r1=0xffffff00", "r0=0xffffff80 q=1"),
    ("f301 0007", "ssat r0, #8, r1"               , "r1=5", "r0=5"),
    ("f381 0008", "usat r0, #8, r1"               , "r1=300", "r0=255 q=1"),
    ("f381 0008", "usat r0, #8, r1"               , "r1=0xffffffff", "r0=0 q=1"),
    ("f301 100f", "ssat r0, #16, r1, lsl #4"      , "r1=0x1000", "r0=0x7fff q=1"),
    ("f3a1 005f", "usat r0, #31, r1, asr #1"      , "r1=0xfffffffe", "r0=0 q=1"),
    // ---- 32-bit shifted-register operands
    ("eb01 1002", "add.w r0, r1, r2, lsl #4"      , "r1=1 r2=1", "r0=0x11"),
    ("eb11 0052", "adds.w r0, r1, r2, lsr #1"     , "r1=0x7fffffff r2=2", "r0=0x80000000 n=1 v=1"),
    ("eba1 0062", "sub.w r0, r1, r2, asr #1"      , "r1=0 r2=0x80000000", "r0=0x40000000"),
    ("ea01 2032", "and.w r0, r1, r2, ror #8"      , "r1=0xffffffff r2=0x12345678", "r0=0x78123456"),
    ("ea11 0042", "ands.w r0, r1, r2, lsl #1"     , "r1=0xffffffff r2=0x80000001", "r0=2 c=1"),
    ("ea41 0032", "orr.w r0, r1, r2, rrx"         , "r1=0 r2=3 c=1", "r0=0x80000001"),
    ("ea51 0032", "orrs.w r0, r1, r2, rrx"        , "r1=0 r2=3", "r0=1 c=1"),
    ("ea4f 00c1", "mov.w r0, r1, lsl #3"          , "r1=0x10000001", "r0=0x80000008"),
    ("ea5f 0011", "movs.w r0, r1, lsr #32"        , "r1=0x80000000", "r0=0 z=1 c=1"),
    ("ea4f 70e1", "mov.w r0, r1, asr #31"         , "r1=0x80000000", "r0=0xffffffff"),
    ("ea4f 1031", "mov.w r0, r1, ror #4"          , "r1=0x12345678", "r0=0x81234567"),
    ("ea5f 0031", "movs.w r0, r1, rrx"            , "r1=1", "r0=0 z=1 c=1"),
    ("ea6f 0001", "mvn.w r0, r1"                  , "r1=0", "r0=0xffffffff"),
    ("ea4f 0001", "mov.w r0, r1"                  , "r1=0x1234", "r0=0x1234"),
    ("ebb0 0f41", "cmp.w r0, r1, lsl #1"          , "r0=4 r1=2", "z=1 c=1"),
    ("ea10 0f01", "tst.w r0, r1"                  , "r0=1 r1=1", ""),
    ("ea90 0f01", "teq r0, r1"                    , "r0=1 r1=1", "z=1"),
    ("eb10 0f01", "cmn.w r0, r1"                  , "r0=1 r1=0xffffffff", "z=1 c=1"),
    ("ea21 0002", "bic.w r0, r1, r2"              , "r1=0xff r2=0xf", "r0=0xf0"),
    ("ea61 0002", "orn r0, r1, r2"                , "r1=0 r2=0xffff", "r0=0xffff0000"),
    ("ea81 0002", "eor.w r0, r1, r2"              , "r1=3 r2=5", "r0=6"),
    ("eb41 0002", "adc.w r0, r1, r2"              , "r1=1 r2=2 c=1", "r0=4"),
    ("eb61 0002", "sbc.w r0, r1, r2"              , "r1=5 r2=2", "r0=2"),
    ("ebc1 0042", "rsb r0, r1, r2, lsl #1"        , "r1=1 r2=2", "r0=3"),
    // ---- 32-bit register shifts, extends, bit operations
    ("fa01 f002", "lsl.w r0, r1, r2"              , "r1=1 r2=31", "r0=0x80000000"),
    ("fa31 f002", "lsrs.w r0, r1, r2"             , "r1=0x80000000 r2=33", "r0=0 z=1"),
    ("fa41 f002", "asr.w r0, r1, r2"              , "r1=0x80000000 r2=0xff", "r0=0xffffffff"),
    ("fa61 f002", "ror.w r0, r1, r2"              , "r1=0x12345678 r2=36", "r0=0x81234567"),
    ("fa0f f081", "sxth.w r0, r1"                 , "r1=0x8000", "r0=0xffff8000"),
    ("fa5f f091", "uxtb.w r0, r1, ror #8"         , "r1=0x1234", "r0=0x12"),
    ("fab1 f081", "clz r0, r1"                    , "r1=0x100", "r0=23"),
    ("fab1 f081", "clz r0, r1"                    , "r1=0", "r0=32"),
    ("fa91 f0a1", "rbit r0, r1"                   , "r1=1", "r0=0x80000000"),
    ("fa91 f081", "rev.w r0, r1"                  , "r1=0x11223344", "r0=0x44332211"),
    ("fa91 f091", "rev16.w r0, r1"                , "r1=0x11223344", "r0=0x22114433"),
    ("fa91 f0b1", "revsh.w r0, r1"                , "r1=0x11223380", "r0=0xffff8033"),
    // ---- multiply, divide
    ("fb01 f002", "mul.w r0, r1, r2"              , "r1=0x10000 r2=0x10000", "r0=0"),
    ("fb01 3002", "mla r0, r1, r2, r3"            , "r1=3 r2=4 r3=5", "r0=17"),
    ("fb01 3012", "mls r0, r1, r2, r3"            , "r1=3 r2=4 r3=5", "r0=0xfffffff9"),
    ("fba2 0103", "umull r0, r1, r2, r3"          , "r2=0xffffffff r3=0xffffffff", "r0=1 r1=0xfffffffe"),
    ("fb82 0103", "smull r0, r1, r2, r3"          , "r2=0xffffffff r3=2", "r0=0xfffffffe r1=0xffffffff"),
    ("fbe2 0103", "umlal r0, r1, r2, r3"          , "r0=0xffffffff r2=1 r3=1", "r0=0 r1=1"),
    ("fbc2 0103", "smlal r0, r1, r2, r3"          , "r2=0xffffffff r3=1", "r0=0xffffffff r1=0xffffffff"),
    ("fbb1 f0f2", "udiv r0, r1, r2"               , "r1=7 r2=2", "r0=3"),
    ("fbb1 f0f2", "udiv r0, r1, r2"               , "r0=5 r1=7 r2=0", "r0=0"),
    ("fb91 f0f2", "sdiv r0, r1, r2"               , "r1=0xfffffff9 r2=2", "r0=0xfffffffd"),
    ("fb91 f0f2", "sdiv r0, r1, r2"               , "r1=0x80000000 r2=0xffffffff", "r0=0x80000000"),
    // ---- 32-bit loads and stores
    ("f8d1 0100", "ldr.w r0, [r1, #256]"          , "r1=0x20001f00 w[0x20002000]=7", "r0=7"),
    ("f851 0c04", "ldr.w r0, [r1, #-4]"            , "r1=0x20002004 w[0x20002000]=7", "r0=7"),
    ("f851 0b04", "ldr.w r0, [r1], #4"             , "r1=0x20002000 w[0x20002000]=7", "r0=7 r1=0x20002004"),
    ("f851 0f04", "ldr.w r0, [r1, #4]!"            , "r1=0x20001ffc w[0x20002000]=7", "r0=7 r1=0x20002000"),
    ("f851 0022", "ldr.w r0, [r1, r2, lsl #2]"    , "r1=0x20001ff0 r2=4 w[0x20002000]=7", "r0=7"),
    ("f891 0101", "ldrb.w r0, [r1, #257]"         , "r1=0x20001f00 w[0x20002000]=0x8000", "r0=0x80"),
    ("f991 0001", "ldrsb.w r0, [r1, #1]"          , "r1=0x20002000 w[0x20002000]=0x8000", "r0=0xffffff80"),
    ("f8b1 0002", "ldrh.w r0, [r1, #2]"           , "r1=0x20002000 w[0x20002000]=0x80000000", "r0=0x8000"),
    ("f9b1 0000", "ldrsh.w r0, [r1]"              , "r1=0x20002000 w[0x20002000]=0x8000", "r0=0xffff8000"),
    ("f931 0d02", "ldrsh.w r0, [r1, #-2]!"           , "r1=0x20002002 w[0x20002000]=0x8000", "r0=0xffff8000 r1=0x20002000"),
    ("f851 0e04", "ldrt r0, [r1, #4]"             , "r1=0x20002000 w[0x20002004]=3", "r0=3"),
    ("f8df 000c", "ldr.w r0, [pc, #12]\t@ 0x20001010" , "w[0x20001010]=0x55", "r0=0x55"),
    ("f85f 0008", "ldr.w r0, [pc, #-8]\t@ 0x20000ffc" , "w[0x20000ffc]=0x56", "r0=0x56"),
    ("f99f 0008", "ldrsb.w r0, [pc, #8]\t@ 0x2000100c" , "w[0x2000100c]=0xff", "r0=0xffffffff"),
    ("f8c1 0100", "str.w r0, [r1, #256]"          , "r0=5 r1=0x20001f00", "w[0x20002000]=5"),
    ("f801 0c01", "strb.w r0, [r1, #-1]"            , "r0=0x1ab r1=0x20002001", "w[0x20002000]=0xab"),
    ("f821 0b02", "strh.w r0, [r1], #2"             , "r0=0x1234 r1=0x20002000", "w[0x20002000]=0x1234 r1=0x20002002"),
    ("f841 0d04", "str.w r0, [r1, #-4]!"           , "r0=9 r1=0x20002004", "w[0x20002000]=9 r1=0x20002000"),
    ("f841 0012", "str.w r0, [r1, r2, lsl #1]"    , "r0=9 r1=0x20001ff8 r2=4", "w[0x20002000]=9"),
    ("e9d2 0102", "ldrd r0, r1, [r2, #8]"             , "r2=0x20001ff8 w[0x20002000]=1 w[0x20002004]=2", "r0=1 r1=2"),
    ("e8e2 0102", "strd r0, r1, [r2], #8"             , "r0=1 r1=2 r2=0x20002000", "r2=0x20002008 w[0x20002000]=1 w[0x20002004]=2"),
    ("e9d2 0100", "ldrd r0, r1, [r2]"                 , "r2=0x20002002", "!unaligned_load tval=0x20002002"),
    ("f8d1 f000", "ldr.w pc, [r1]"                , "r1=0x20002000 w[0x20002000]=0x20000501", "pc=0x20000500"),
    ("f8d1 f000", "ldr.w pc, [r1]"                , "r1=0x20002000 w[0x20002000]=0x20000500", "!invstate tval=0x20000500"),
    ("e8bd 8010", "ldmia.w sp!, {r4, pc}"         , "sp=0x20002000 w[0x20002000]=4 w[0x20002004]=0x20000601", "r4=4 sp=0x20002008 pc=0x20000600"),
    ("e92d 4030", "stmdb sp!, {r4, r5, lr}"       , "r4=4 r5=5 lr=0xe sp=0x20003000", "sp=0x20002ff4 w[0x20002ff4]=4 w[0x20002ff8]=5 w[0x20002ffc]=0xe"),
    ("e8bd 0030", "ldmia.w sp!, {r4, r5}"         , "sp=0x20002ff8 w[0x20002ff8]=4 w[0x20002ffc]=5", "r4=4 r5=5 sp=0x20003000"),
    ("e930 0006", "ldmdb r0!, {r1, r2}"           , "r0=0x20002008 w[0x20002000]=1 w[0x20002004]=2", "r0=0x20002000 r1=1 r2=2"),
    ("e900 0006", "stmdb r0, {r1, r2}"            , "r0=0x20002008 r1=1 r2=2", "w[0x20002000]=1 w[0x20002004]=2"),
    ("e8a0 0102", "stmia.w r0!, {r1, r8}"         , "r0=0x20002000 r1=1 r8=8", "r0=0x20002008 w[0x20002000]=1 w[0x20002004]=8"),
    ("e851 0f00", "ldrex r0, [r1]"                , "r1=0x20002000 w[0x20002000]=5", "r0=5"),
    ("e841 2000", "strex r0, r2, [r1]"            , "r1=0x20002000 r2=9", "r0=1"),
    ("e8df f000", "tbb [pc, r0]"                  , "r0=1 w[0x20001004]=0x300", "pc=0x2000100a"),
    ("e8d1 f010", "tbh [r1, r0, lsl #1]"          , "r1=0x20002000 r0=1 w[0x20002000]=0x100000", "pc=0x20001024"),
    ("f890 f000", "pld [r0]"                      , "r0=0x40000000", ""),
    // ---- 32-bit branches and control
    ("f000 bffe", "b.w 0x20002000"                , "", "pc=0x20002000"),
    ("f000 f87e", "bl 0x20001100"                 , "", "pc=0x20001100 lr=0x20001005"),
    ("f6ff fffe", "bl 0x1ff01000"                 , "", "pc=0x1ff01000 lr=0x20001005"),
    ("f000 81fe", "beq.w 0x20001400"              , "z=1", "pc=0x20001400"),
    ("f47f adfe", "bne.w 0x20000c00"              , "", "pc=0x20000c00"),
    ("f47f adfe", "bne.w 0x20000c00"              , "z=1", "pc=+4"),
    ("f3ef 8000", "mrs r0, apsr"                  , "n=1 c=1 q=1", "r0=0xa8000000"),
    ("f380 8800", "msr apsr_nzcvq, r0"            , "r0=0xf8000000", "n=1 z=1 c=1 v=1 q=1"),
    ("f3ef 8005", "mrs r0, ipsr"                  , "r0=5", "r0=0"),
    ("f3ef 8014", "mrs r0, control"               , "r0=5", "r0=0"),
    ("f3ef 8008", "mrs r0, msp"                   , "sp=0x20003000", "r0=0x20003000"),
    ("f3ef 8010", "mrs r0, primask"               , "r0=5", "r0=0"),
    ("f3af 8000", "nop.w"                         , "", ""),
    ("f3bf 8f5f", "dmb sy"                        , "", ""),
    ("f3bf 8f4f", "dsb sy"                        , "", ""),
    ("f3bf 8f6f", "isb sy"                        , "", ""),
    ("f3bf 8f2f", "clrex"                         , "", ""),
    ("f7f1 a234", "udf.w #4660"                   , "", "!undefinstr"),
];

#[derive(Default, Debug)]
struct State {
    regs: Vec<(usize, u64)>,
    mem: Vec<(u64, u8, u64)>,
    pc: Option<(bool, u64)>,
    trap: Option<String>,
    tval: Option<u64>,
}

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

/// Register slots by name, from the model's register files.
fn reg_index(m: &Machine, name: &str) -> Option<usize> {
    let files = m.clusters[0].model.reg_files();
    files
        .iter()
        .find_map(|f| f.names.iter().position(|n| *n == name).map(|i| f.base + i))
}

fn parse(m: &Machine, text: &str) -> Result<State, String> {
    let mut st = State::default();
    let mut words = text.split_whitespace().peekable();
    if let Some(first) = words.peek().and_then(|w| w.strip_prefix('!')) {
        st.trap = Some(first.to_string());
        words.next();
    }
    for item in words {
        let (key, val) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not name=value"))?;
        if key == "pc" {
            st.pc = Some((val.starts_with(['+', '-']), number(val)?));
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
                _ => return Err(format!("bad memory size in '{item}'")),
            };
            st.mem.push((number(addr)?, size, number(val)?));
        } else {
            let r = reg_index(m, key).ok_or_else(|| format!("unknown register '{key}'"))?;
            st.regs.push((r, number(val)? & 0xffff_ffff));
        }
    }
    Ok(st)
}

fn machine() -> Machine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let mut m = Machine::from_file(
        &root.join("machines/lm3s6965evb.yaml"),
        &reg,
        BuildOptions::default(),
    )
    .expect("lm3s6965evb builds");
    // A vector table: initial SP, reset handler (Thumb).
    let vectors: Vec<u8> = [0x2000_8000u32, 0x2000_0001]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    m.load_raw(0, &vectors, false).expect("flash at 0");
    // The reset pseudo-instruction.
    assert_eq!(m.clusters[0].cpus[0].pc, ENTRY_PC);
    assert!(m.step(0, 0).is_none());
    assert_eq!(m.clusters[0].cpus[0].pc, 0x2000_0000);
    m
}

fn bytes_of(halfwords: &str) -> Result<Vec<u8>, String> {
    halfwords
        .split_whitespace()
        .map(|h| u16::from_str_radix(h, 16).map_err(|e| format!("bad halfword '{h}': {e}")))
        .map(|h| h.map(|h| h.to_le_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.concat())
}

/// Run one row on a fresh machine; the error says what differed.
fn check(&(halfwords, asm, before, after): &Row) -> Result<(), String> {
    let mut m = machine();
    let before = parse(&m, before)?;
    let after = parse(&m, after)?;
    let bytes = bytes_of(halfwords)?;
    let pc = PC;

    // Bytes → disassembly.
    match m.clusters[0].model.disassemble(&bytes, pc) {
        Ok((text, len)) if text == asm && len == bytes.len() => {}
        got => {
            return Err(format!(
                "disassembly: expected Ok((\"{asm}\", {})), got {got:?}",
                bytes.len()
            ))
        }
    }

    // Machine state before: everything zero but what the row sets.
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
        cpu.regs[r] = v;
    }
    cpu.pc = pc;
    let regs_before = cpu.regs.clone();

    // Effect.
    let result = m.step(0, 0);
    let names: Vec<String> = {
        let files = m.clusters[0].model.reg_files();
        let mut n = vec![String::new(); regs_before.len()];
        for f in &files {
            for (i, name) in f.names.iter().enumerate() {
                n[f.base + i] = name.to_string();
            }
        }
        n
    };
    let cl = &mut m.clusters[0];
    let (model, cpu) = (&cl.model, &mut cl.cpus[0]);
    let mut errs = Vec::new();
    if result.is_some() {
        errs.push(format!("the machine stopped: {result:?}"));
    }
    let mut expect_regs = regs_before.clone();
    let expect_pc = match &after.trap {
        Some(name) => {
            match arm(cpu).pending {
                Some(p) => match p.entry {
                    Entry::Fault { code, tval } => {
                        let got = model.trap_name(code).replace(' ', "_");
                        if got != *name {
                            errs.push(format!("trap: expected {name}, got {got}"));
                        }
                        if after.tval.is_some_and(|t| t != tval) {
                            errs.push(format!("tval: expected {:#x?}, got {tval:#x}", after.tval));
                        }
                    }
                    other => errs.push(format!("expected trap {name}, pending {other:?}")),
                },
                None => errs.push(format!("expected trap {name}, none taken")),
            }
            // A branch to an even address completes (EPSR.T clear); the
            // instruction there takes INVSTATE.
            match (name.as_str(), after.tval) {
                ("invstate", Some(t)) => t,
                _ => ENTRY_PC,
            }
        }
        None => match after.pc {
            Some((true, d)) => pc.wrapping_add(d),
            Some((false, a)) => a,
            None => pc + bytes.len() as u64,
        },
    };
    for &(r, v) in &after.regs {
        expect_regs[r] = v;
    }
    for (r, (&got, &want)) in cpu.regs.iter().zip(&expect_regs).enumerate() {
        if got != want {
            errs.push(format!("{}: expected {want:#x}, got {got:#x}", names[r]));
        }
    }
    if cpu.pc != expect_pc {
        errs.push(format!("pc: expected {expect_pc:#x}, got {:#x}", cpu.pc));
    }
    for &(addr, size, v) in &after.mem {
        let want = v & ((1u64 << (size * 8)) - 1);
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

#[test]
fn thumb_table() {
    let failures: Vec<String> = ROWS
        .iter()
        .filter_map(|row| {
            check(row)
                .err()
                .map(|e| format!("  {} \"{}\" [{}] → [{}]: {e}", row.0, row.1, row.2, row.3))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}
