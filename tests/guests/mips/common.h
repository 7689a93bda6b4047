/* Bare-metal MIPS guests: the memory map of machines/mips.yaml, reached
   through kseg1 (uncached, unmapped: physical address + 0xa0000000). */
#define UART_BASE   0xbf000000      /* NS16550A, byte registers */
#define TEST_BASE   0xbf100000      /* SiFive test finisher */
#define CLINT_BASE  0xbf200000      /* ACLINT: mtimecmp +0x4000, mtime +0xbff8 */
#define FINISH_PASS 0x5555
#define FINISH_FAIL 0x3333          /* | code << 16 */

/* The devices are little endian: a big-endian CPU byte-swaps the 32-bit
   values it writes to them. */
#ifdef __MIPSEB__
#define TO_LE(r)    wsbh r, r; rotr r, r, 16
#else
#define TO_LE(r)
#endif

/* CP0 registers. */
#define C0_COUNT    $9
#define C0_STATUS   $12
#define C0_CAUSE    $13
#define C0_EPC      $14
#define C0_BADVADDR $8
#define C0_EBASE    $15, 1
