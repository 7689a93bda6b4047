/*
 * Self-checking test of traps and privilege levels (M, S, U; no paging):
 * mtvec direct and vectored; ecall from M/S/U (11/9/8); ebreak (3);
 * illegal instructions (2, mtval = the instruction bits): all zeros, a
 * custom opcode, an unknown CSR, an M CSR from S and U, S CSRs from U, a
 * write to a read-only CSR, mret/sret/wfi/sfence.vma where not allowed,
 * TW/TSR/TVM; misaligned loads and stores; access faults (1/5/7, mtval = 0)
 * on the unmapped address 0; mret to M/S/U with MPP/MPIE/MPRV semantics;
 * medeleg (ecall from U, illegal instruction) to an S handler with
 * scause/sepc/stval, sret with SPP/SPIE; the mstatus/sstatus views;
 * mideleg, sie and sip; mcounteren/scounteren gating cycle/time/instret;
 * counters that advance; mscratch/sscratch; satp WARL; misa; fence.i
 * after patching code that already ran.
 * The M and S handlers and their register conventions are in rvtest.h.
 * Built for RV64 and RV32 (priv64.elf, priv32.elf).
 *
 * Prints "priv64: all tests passed\n" (or priv32) and exits 0, or
 * "FAIL <n>\n" and exits with code n for the first failing test case n.
 */
#include "rvtest.h"

/* Expect exactly one M trap with \cause at label \epc and mtval = the
 * instruction's encoding (illegal instruction). */
.macro CHECK_MTRAP_INSN cause, epc
        CHECK   s7, 1
        CHECK   s4, \cause
        lla     x7, \epc
        CHECK_REG s5, x7
        LOAD_INSN x7, \epc
        CHECK_REG s6, x7
.endm

/* The same for the S handler. */
.macro CHECK_STRAP_INSN cause, epc
        CHECK   a5, \cause
        lla     x7, \epc
        CHECK_REG a6, x7
        LOAD_INSN x7, \epc
        CHECK_REG a7, x7
.endm

        RVTEST_START
        PMP_ALLOW_ALL
        lla     t0, strap
        csrw    stvec, t0

        /* ==== mtvec, ecall, ebreak, illegal instructions (all in M) ==== */
        TEST_BEGIN
        csrr    x14, mtvec
        lla     x7, mtrap
        CHECK_REG x14, x7

        /* ecall from M: cause 11, mepc = the ecall, mtval = 0 */
        TRAP_BEGIN
1:      ecall
        CHECK   s7, 1
        CHECK_MTRAP 11, 1b, 0
        /* MPP = M and MPIE = the old MIE (0) */
        li      x7, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
        and     x14, t6, x7
        CHECK   x14, MSTATUS_MPP

        /* ebreak: cause 3. mtval: QEMU 7.2 writes 0 (the spec allows 0 or
         * the pc); this test follows QEMU. */
        TRAP_BEGIN
1:      ebreak
        CHECK   s7, 1
        CHECK_MTRAP 3, 1b, 0

        /* all-zero halfword: illegal, mtval = 0 (with C, `.word 0` is two of
         * them: two traps) */
        TRAP_BEGIN
1:      .2byte  0
        CHECK   s7, 1
        CHECK_MTRAP 2, 1b, 0
        TRAP_BEGIN
        .word   0
1:      CHECK   s7, 2
        addi    x7, s5, 2
        lla     x14, 1b
        CHECK_REG x14, x7
        CHECK   s4, 2
        CHECK   s6, 0

        /* custom-0 opcode: illegal, mtval = the instruction */
        TRAP_BEGIN
1:      .word   0x1234500b
        CHECK_MTRAP_INSN 2, 1b

        /* unknown CSR (custom 0x7c0): illegal, mtval = the instruction */
        TRAP_BEGIN
        li      x14, 55
1:      csrr    x14, 0x7c0
        CHECK_MTRAP_INSN 2, 1b
        CHECK   x14, 55
        TRAP_BEGIN
1:      csrw    0x7c0, x14
        CHECK_MTRAP_INSN 2, 1b

        /* write to the read-only mhartid: illegal; reads (csrrs/csrrc with
         * x0, csrrsi with 0) are fine */
        TRAP_BEGIN
        li      x1, 5
1:      csrw    mhartid, x1
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      csrrwi  x0, mvendorid, 0
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
        csrr    x14, mhartid
        CHECK   x14, 0
        csrrc   x14, mhartid, x0
        CHECK   x14, 0
        csrrsi  x14, mhartid, 0
        CHECK   x14, 0
        csrr    x14, mvendorid
        csrr    x14, marchid
        csrr    x14, mimpid
        CHECK   s7, 0
        TRAP_BEGIN
1:      csrrsi  x14, mhartid, 1
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      csrrc   x14, mhartid, x1
        CHECK_MTRAP_INSN 2, 1b

        /* misa: MXL and the I, M, A, C, S, U bits */
        TEST_BEGIN
        csrr    x14, misa
        li      x7, (1 << 8) | (1 << 12) | (1 << 0) | (1 << 2) | (1 << 18) | (1 << 20)
        and     x13, x14, x7
        CHECK_REG x13, x7
        srli    x14, x14, XLEN_MSB - 1
        CHECKX  x14, 2, 1

        /* ==== misaligned loads and stores ====
         * QEMU 7.2 performs misaligned loads and stores (the spec allows an
         * EEI to support them); these tests follow QEMU: no trap, the bytes
         * are read and written. Misaligned AMOs trap: see a.S. */
        TRAP_BEGIN
        lla     x1, data
        li      x2, 0x11223344
        sw      x2, 0(x1)
        li      x2, 0x55667788
        sw      x2, 4(x1)
        lw      x14, 1(x1)
        CHECKX  x14, 0xffffffff88112233, 0x88112233
        lhu     x14, 3(x1)
        CHECK   x14, 0x8811
        li      x2, -1
        sh      x2, 3(x1)
        sw      x2, 5(x1)
        lw      x14, 0(x1)
        CHECKX  x14, 0xffffffffff223344, 0xff223344
        lw      x14, 4(x1)
        CHECK   x14, -1
        CHECK   s7, 0
#if __riscv_xlen == 64
        TRAP_BEGIN
        li      x2, 0x0102030405060708
        sd      x2, 3(x1)
        ld      x14, 3(x1)
        CHECK   x14, 0x0102030405060708
        lwu     x14, 7(x1)
        CHECK   x14, 0x01020304
        CHECK   s7, 0
#endif

        /* ==== access faults on the unmapped address 0: mtval = 0 ==== */
        TRAP_BEGIN
        li      x14, 77
1:      lw      x14, 0(x0)
        CHECK   s7, 1
        CHECK_MTRAP 5, 1b, 0
        CHECK   x14, 77
        TRAP_BEGIN
1:      sw      x14, 0(x0)
        CHECK   s7, 1
        CHECK_MTRAP 7, 1b, 0
        TRAP_BEGIN
        li      x2, 8
1:      lb      x14, -8(x2)
        CHECK   s7, 1
        CHECK_MTRAP 5, 1b, 0
        /* fetch from 0: instruction access fault, mepc = mtval = 0 */
        TRAP_BEGIN
        lla     s8, 2f
        li      x1, 0
        jalr    x1, 0(x1)
1:      jal     x0, fail
2:      CHECK   s7, 1
        CHECK   s4, 1
        CHECK   s5, 0
        CHECK   s6, 0
        lla     x7, 1b
        CHECK_REG x1, x7

        /* ==== mret ==== */
        /* to M with MPIE = 1: MIE = 1, MPIE = 1, MPP = U (least privileged) */
        TEST_BEGIN
        li      x1, MSTATUS_MPP | MSTATUS_MPIE
        csrs    mstatus, x1
        li      x1, MSTATUS_MIE
        csrc    mstatus, x1
        lla     x1, 1f
        csrw    mepc, x1
        mret
        jal     x0, fail
1:      csrr    x14, mstatus
        csrci   mstatus, MSTATUS_MIE
        li      x7, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
        and     x14, x14, x7
        CHECK   x14, MSTATUS_MPIE | MSTATUS_MIE
        /* to M with MPIE = 0: MIE = 0, MPIE = 1 */
        TEST_BEGIN
        li      x1, MSTATUS_MPP | MSTATUS_MIE
        csrs    mstatus, x1
        li      x1, MSTATUS_MPIE
        csrc    mstatus, x1
        lla     x1, 1f
        csrw    mepc, x1
        mret
        jal     x0, fail
1:      csrr    x14, mstatus
        li      x7, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
        and     x14, x14, x7
        CHECK   x14, MSTATUS_MPIE

        /* to S: sstatus is readable there; ecall from S is cause 9 with
         * MPP = S, and MPIE = the MIE that mret set from MPIE (1) */
        TRAP_BEGIN
        li      x1, MSTATUS_MPIE
        csrs    mstatus, x1
        ENTER_MODE 1
1:      csrr    x14, sstatus
        CHECK   s7, 0
        lla     s8, 2f
3:      ecall
2:      CHECK   s7, 1
        CHECK_MTRAP 9, 3b, 0
        li      x7, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
        and     x14, t6, x7
        CHECK   x14, MSTATUS_MPP_S | MSTATUS_MPIE
        /* to U with MPIE = 0 and MPRV = 1: sstatus is illegal in U; ecall
         * from U is cause 8, MPP = U. Privileged spec 1.12 says an mret to a
         * mode below M clears MPRV (hemu); QEMU 7.2 keeps it (1.11
         * behaviour): the test accepts both. */
        TRAP_BEGIN
        li      x1, MSTATUS_MPIE
        csrc    mstatus, x1
        li      x1, MSTATUS_MPRV
        csrs    mstatus, x1
        ENTER_MODE 0
1:      csrr    x14, sstatus
        CHECK_MTRAP_INSN 2, 1b
        li      x7, MSTATUS_MPRV
        and     x14, t6, x7
        /* hemu follows 1.12 (MPRV cleared), QEMU 7.2 keeps it: either. */
        beqz    x14, 4f
        CHECK   x14, MSTATUS_MPRV
4:
        lla     s8, 2f
3:      ecall
2:      CHECK   s7, 2
        CHECK_MTRAP 8, 3b, 0
        li      x7, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
        and     x14, t6, x7
        CHECK   x14, 0
        li      x1, MSTATUS_MPRV | MSTATUS_MIE
        csrc    mstatus, x1

        /* ==== illegal in S and U (not delegated) ==== */
        /* M CSR from S */
        TRAP_BEGIN
        ENTER_MODE 1
        li      x14, 3
1:      csrr    x14, mscratch
        CHECK   x14, 3
        CHECK_MTRAP_INSN 2, 1b
        li      x7, MSTATUS_MPP
        and     x14, t6, x7
        CHECK   x14, MSTATUS_MPP_S
        /* mret in S */
        TRAP_BEGIN
1:      mret
        CHECK_MTRAP_INSN 2, 1b
        /* sscratch and sstatus are fine in S */
        TRAP_BEGIN
        li      x1, 0x1234
        csrw    sscratch, x1
        csrr    x14, sscratch
        CHECK   x14, 0x1234
        csrr    x14, sstatus
        csrr    x14, satp
        CHECK   s7, 0
        BACK_TO_M
        /* M CSR and S CSR from U; sret, mret, wfi, sfence.vma in U */
        TRAP_BEGIN
        ENTER_MODE 0
1:      csrr    x14, mstatus
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      csrw    sscratch, x0
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      sret
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      mret
        CHECK_MTRAP_INSN 2, 1b
        /* wfi in U with S implemented: QEMU 7.2 raises illegal instruction
         * at once (the spec allows waiting a bounded time first) */
        TRAP_BEGIN
1:      wfi
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      sfence.vma
        CHECK_MTRAP_INSN 2, 1b
        BACK_TO_M

        /* TSR: sret in S is illegal; TVM: satp and sfence.vma in S are
         * illegal; TW: wfi in S is illegal (QEMU: at once) */
        TRAP_BEGIN
        li      x1, (1 << 22) | (1 << 20) | (1 << 21)
        csrs    mstatus, x1
        ENTER_MODE 1
1:      sret
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      csrr    x14, satp
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      sfence.vma
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      wfi
        CHECK_MTRAP_INSN 2, 1b
        BACK_TO_M
        li      x1, (1 << 22) | (1 << 20) | (1 << 21)
        csrc    mstatus, x1
        /* ... and without them, satp, sfence.vma and sret work in S */
        TRAP_BEGIN
        ENTER_MODE 1
        csrr    x14, satp
        sfence.vma
        lla     x1, 1f
        csrw    sepc, x1
        li      x1, MSTATUS_SPP
        csrs    sstatus, x1
        sret
        jal     x0, fail
1:      CHECK   s7, 0
        BACK_TO_M

        /* ==== medeleg ==== */
        /* writable bits: the standard exceptions 0-9, 12, 13, 15. QEMU 7.2
         * reads back 0xf0bfff: its CPU has the H extension (10, 20-23) and
         * lets bit 11 (ecall from M) be set, which the spec makes read-only
         * zero; those bits are not checked. */
        TEST_BEGIN
        li      x1, -1
        csrw    medeleg, x1
        csrr    x14, medeleg
        li      x7, 0xb3ff
        and     x14, x14, x7
        CHECK   x14, 0xb3ff
        csrw    medeleg, x0
        csrr    x14, medeleg
        CHECK   x14, 0

        /* ecall from U delegated to S: scause 8, sepc, stval 0, SPP = U */
        TRAP_BEGIN
        li      x1, (1 << 8) | (1 << 2)
        csrw    medeleg, x1
        ENTER_MODE 0
        lla     s8, 2f
1:      ecall
        jal     x0, fail
2:      CHECK   s7, 1
        CHECK_STRAP 8, 1b, 0
        li      x7, MSTATUS_SPP
        and     x14, t5, x7
        CHECK   x14, 0
        /* now in S (the S handler resumed in S) */
        csrr    x14, sscratch
        CHECK   x14, 0x1234
        CHECK   s4, -1
        /* illegal in S, delegated: scause 2, stval = the instruction, SPP = S */
        TRAP_BEGIN
1:      csrr    x14, mscratch
        CHECK   s7, 1
        CHECK_STRAP_INSN 2, 1b
        li      x7, MSTATUS_SPP
        and     x14, t5, x7
        CHECK   x14, MSTATUS_SPP
        CHECK   s4, -1
        /* ecall from S is not delegated: M, cause 9 */
        TRAP_BEGIN
        BACK_TO_M
        CHECK   s7, 1
        CHECK   s4, 9
        CHECK   a5, -1
        /* illegal in U, delegated */
        TRAP_BEGIN
        ENTER_MODE 0
1:      .2byte  0
        CHECK   s7, 1
        CHECK_STRAP 2, 1b, 0
        CHECK   s4, -1
        lla     s8, 2f
        ecall
2:      BACK_TO_M
        /* traps in M are never delegated */
        TRAP_BEGIN
1:      .2byte  0
        CHECK   s7, 1
        CHECK_MTRAP 2, 1b, 0
        CHECK   a5, -1

        /* ==== sret ==== */
        /* S to S with SPIE = 1: SIE = 1, SPIE = 1, SPP = U */
        TRAP_BEGIN
        ENTER_MODE 1
        li      x1, MSTATUS_SPP | MSTATUS_SPIE
        csrs    sstatus, x1
        li      x1, MSTATUS_SIE
        csrc    sstatus, x1
        lla     x1, 1f
        csrw    sepc, x1
        sret
        jal     x0, fail
1:      csrr    x14, sstatus
        csrci   sstatus, MSTATUS_SIE
        li      x7, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
        and     x14, x14, x7
        CHECK   x14, MSTATUS_SPIE | MSTATUS_SIE
        CHECK   s7, 0
        /* S to U with SPIE = 0: in U, SIE = 0 (seen as SPIE at the next
         * trap into S), SPP = U */
        TRAP_BEGIN
        li      x1, MSTATUS_SPP | MSTATUS_SPIE
        csrc    sstatus, x1
        li      x1, MSTATUS_SIE
        csrs    sstatus, x1
        lla     x1, 1f
        csrw    sepc, x1
        sret
        jal     x0, fail
1:      lla     s8, 2f
3:      ecall
        jal     x0, fail
2:      CHECK_STRAP 8, 3b, 0
        li      x7, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
        and     x14, t5, x7
        CHECK   x14, 0
        BACK_TO_M
        csrw    medeleg, x0

        /* ==== mstatus / sstatus views ==== */
        /* sstatus shows SIE, SPIE, SPP, SUM, MXR (and UXL = 2 on RV64) */
        TEST_BEGIN
        li      x1, MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP_S | MSTATUS_SUM | MSTATUS_MXR
        csrw    mstatus, x1
        csrr    x14, sstatus
        CHECKX  x14, 0x2000c0122, 0xc0122
        /* writing sstatus leaves the M bits alone */
        TEST_BEGIN
        li      x1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV
        csrw    sstatus, x1
        csrr    x14, mstatus
        li      x7, 0xff9ff
        and     x14, x14, x7
        CHECK   x14, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP_S
        csrr    x14, sstatus
        CHECKX  x14, 0x200000000, 0
        /* ... and sets the S bits */
        TEST_BEGIN
        li      x1, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
        csrw    sstatus, x1
        csrr    x14, mstatus
        li      x7, 0xff9ff
        and     x14, x14, x7
        CHECK   x14, 0xc01aa | MSTATUS_MPP_S
        li      x1, MSTATUS_MIE
        csrc    mstatus, x1
        csrw    mstatus, x0
        csrr    x14, mstatus
        CHECKX  x14, 0xa00000000, 0
#if __riscv_xlen == 32
        TEST_BEGIN
        csrr    x14, mstatush
        CHECK   x14, 0
#endif

        /* ==== mideleg, sie, sip ====
         * QEMU 7.2's CPU also has the H extension (VS and SGEI bits 0x1444,
         * read-only delegated) and Sscofpmf (LCOFI, bit 13, delegable):
         * only the standard S and M bits (mask 0xaaa) are checked. */
        TEST_BEGIN
        li      x1, -1
        csrw    mideleg, x1
        csrr    x14, mideleg
        li      x7, 0xaaa
        and     x14, x14, x7
        CHECK   x14, 0x222
        /* sie writes only the delegated bits of mie, and reads them */
        TEST_BEGIN
        csrw    mie, x0
        li      x1, -1
        csrw    sie, x1
        csrr    x14, mie
        li      x7, 0xaaa
        and     x14, x14, x7
        CHECK   x14, 0x222
        csrr    x14, sie
        li      x7, 0xaaa
        and     x14, x14, x7
        CHECK   x14, 0x222
        /* without delegation sie reads 0 and writes nothing */
        TEST_BEGIN
        csrw    mie, x0
        csrw    mideleg, x0
        csrr    x14, mideleg
        li      x7, 0xaaa
        and     x14, x14, x7
        CHECK   x14, 0
        li      x1, -1
        csrw    sie, x1
        csrr    x14, sie
        li      x7, 0xaaa
        and     x14, x14, x7
        CHECK   x14, 0
        csrr    x14, mie
        CHECK   x14, 0
        /* M writes SSIP; sip shows it when delegated */
        TEST_BEGIN
        li      x1, 2
        csrw    mideleg, x1
        csrs    mip, x1
        csrr    x14, sip
        andi    x14, x14, 0x222
        CHECK   x14, 2
        csrc    sip, x1
        csrr    x14, mip
        andi    x14, x14, 0x222
        CHECK   x14, 0
        csrw    mideleg, x0

        /* ==== counters ==== */
        /* they advance (loop until they change, bounded) */
        TEST_BEGIN
        rdcycle x1
        li      x2, 100000
1:      rdcycle x14
        bne     x14, x1, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      TEST_BEGIN
        rdtime  x1
        li      x2, 1000000
1:      rdtime  x14
        bne     x14, x1, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      TEST_BEGIN
        rdinstret x1
        nop
        rdinstret x14
        beq     x14, x1, fail
        TEST_BEGIN
        csrr    x1, mcycle
        csrr    x2, minstret
        csrr    x1, mcycle
        beq     x1, x0, fail
        beq     x2, x0, fail

        /* mcounteren = 0: cycle, time, instret are illegal in S */
        TRAP_BEGIN
        csrw    mcounteren, x0
        csrw    scounteren, x0
        ENTER_MODE 1
1:      rdcycle x14
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      rdtime  x14
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      rdinstret x14
        CHECK_MTRAP_INSN 2, 1b
        BACK_TO_M
        /* mcounteren = 7: allowed in S ... */
        TRAP_BEGIN
        li      x1, 7
        csrw    mcounteren, x1
        csrr    x14, mcounteren
        CHECK   x14, 7
        ENTER_MODE 1
        rdcycle x14
        rdtime  x14
        rdinstret x14
        CHECK   s7, 0
        BACK_TO_M
        /* ... but not in U while scounteren = 0 */
        TRAP_BEGIN
        ENTER_MODE 0
1:      rdtime  x14
        CHECK_MTRAP_INSN 2, 1b
        TRAP_BEGIN
1:      rdcycle x14
        CHECK_MTRAP_INSN 2, 1b
        BACK_TO_M
        /* scounteren = 7: allowed in U */
        TRAP_BEGIN
        li      x1, 7
        csrw    scounteren, x1
        ENTER_MODE 0
        rdcycle x14
        rdtime  x14
        rdinstret x14
        CHECK   s7, 0
        BACK_TO_M
        /* mcounteren.TM = 0 forbids time in U even with scounteren = 7 */
        TRAP_BEGIN
        li      x1, 5
        csrw    mcounteren, x1
        ENTER_MODE 0
        rdcycle x14
1:      rdtime  x14
        CHECK_MTRAP_INSN 2, 1b
        BACK_TO_M
        csrw    mcounteren, x0
        csrw    scounteren, x0

        /* ==== mscratch / sscratch ==== */
        TEST_BEGIN
        li      x1, 0x5a5a1234
        csrw    mscratch, x1
        li      x1, -0x1234
        csrw    sscratch, x1
        csrr    x14, mscratch
        CHECK   x14, 0x5a5a1234
        csrrw   x14, sscratch, x0
        CHECK   x14, -0x1234
        csrr    x14, sscratch
        CHECK   x14, 0
        csrrs   x14, mscratch, x0
        CHECK   x14, 0x5a5a1234

        /* ==== satp WARL: a write with an unsupported mode has no effect ==== */
        TEST_BEGIN
        csrw    satp, x0
#if __riscv_xlen == 64
        li      x1, (8 << 60) | 0x12345
        csrw    satp, x1
        csrr    x14, satp
        CHECK   x14, (8 << 60) | 0x12345
        li      x1, (1 << 60) | 0x54321
        csrw    satp, x1
        csrr    x14, satp
        CHECK   x14, (8 << 60) | 0x12345
        li      x1, (15 << 60) | 0x54321
        csrw    satp, x1
        csrr    x14, satp
        CHECK   x14, (8 << 60) | 0x12345
#else
        li      x1, 0x80012345
        csrw    satp, x1
        csrr    x14, satp
        CHECK   x14, 0x80012345
        li      x1, 0x00054321
        csrw    satp, x1
        csrr    x14, satp
        CHECK   x14, 0x00054321
#endif
        csrw    satp, x0
        csrr    x14, satp
        CHECK   x14, 0

        /* ==== Zifencei: patch an instruction that already ran, fence.i,
         * run it again: the new one executes ==== */
        TEST_BEGIN
        li      x13, 0
1:
        .option push
        .option norvc
smc_insn:
        addi    x14, x0, 1
        .option pop
        bnez    x13, 2f
        CHECK   x14, 1
        li      x2, 0x00200713      /* addi x14, x0, 2 */
        lla     x1, smc_insn
        sh      x2, 0(x1)
        srli    x2, x2, 16
        sh      x2, 2(x1)
        fence.i
        li      x13, 1
        jal     x0, 1b
2:      CHECK   x14, 2

        /* ==== mtvec vectored: exceptions go to the base ==== */
        TRAP_BEGIN
        lla     x1, vtable
        ori     x1, x1, 1
        csrw    mtvec, x1
        csrr    x14, mtvec
        CHECK_REG x14, x1
        li      t4, 0
1:      ecall
        CHECK   s7, 1
        CHECK   t4, 100
        CHECK_MTRAP 11, 1b, 0
        lla     x1, mtrap
        csrw    mtvec, x1

        RVTEST_END priv

/* The vector table: entry 0 (exceptions) marks t4 = 100, the others 200 + n. */
        .balign 64
        .option push
        .option norvc
vtable:
        jal     x0, vexc
        .irp    n, 1,2,3,4,5,6,7,8,9,10,11
        jal     x0, virq\n
        .endr
vexc:   li      t4, 100
        jal     x0, mtrap
        .irp    n, 1,2,3,4,5,6,7,8,9,10,11
virq\n: li      t4, 200 + \n
        jal     x0, mtrap
        .endr
        .option pop

        STRAP_HANDLER

        .data
        .balign 16
data:   .dword  0, 0
