/*
 * The heterogeneous demo (machines/hetero.yaml): what the three firmware
 * images agree on. Shared SRAM is one 64 KiB block every cluster maps at
 * its own address; offsets below are from its start.
 *
 * Protocol (a ring of three mailboxes):
 *   RISC-V hart 1 (S mode, Sv39) writes NITEMS work items into shared SRAM;
 *   RISC-V hart 0 releases the Cortex-M and MIPS clusters (system
 *   controller), then sends each item's index to the Cortex-M (mbox0);
 *   the Cortex-M checksums the item (checksum_item), stores the checksum
 *   little endian and passes the index on to the MIPS (mbox1);
 *   the MIPS reads the checksum and answers it as a big-endian word, then
 *   passes the index back to RISC-V (mbox2);
 *   RISC-V hart 0 checks every answer against its own checksum and powers
 *   the machine off (status 0 when all agree).
 * Every cluster prints on its own UART. Mailbox registers: hw/src/mailbox.rs.
 */
#ifndef HETERO_H
#define HETERO_H

#define NITEMS          4
#define ITEM_BYTES      64              /* u32 length, then up to 60 bytes */
#define ITEM_MAX        (ITEM_BYTES - 4)

#define SH_READY        0x0000          /* u32: READY_MAGIC when items are written */
#define SH_ITEMS        0x0100          /* NITEMS items of ITEM_BYTES */
#define SH_CHECKSUMS    0x0400          /* u32 per item, little endian (Cortex-M) */
#define SH_ANSWERS      0x0500          /* u32 per item, big endian (MIPS) */
#define READY_MAGIC     0x600dcafeu

/* Mailbox registers: channel 0 (A to B) at 0x00, channel 1 at 0x20. */
#define MB_SEND         0x00
#define MB_RECV         0x04
#define MB_STATUS       0x08
#define MB_IRQ_EN       0x0c
#define MB_CH1          0x20
#define MB_NOT_EMPTY    1u

/* System controller: reset lines (bit = cluster) and power-off. */
#define SYS_RUN         0x04
#define SYS_RELEASE     0x08
#define SYS_POWEROFF    0x10
#define SYS_LINE_MCU    (1u << 1)
#define SYS_LINE_DSP    (1u << 2)

#define REG32(a)        (*(volatile unsigned int *)(a))

/* Adler-32 (the Cortex-M's job; RISC-V recomputes it to check). */
static inline unsigned int adler32(const volatile unsigned char *p, unsigned int n)
{
    unsigned int a = 1, b = 0;
    for (unsigned int i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return b << 16 | a;
}

/* Formatting on top of the firmware's putc_(char). */
static void putc_(char c);

static inline void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static inline void put_hex(unsigned int v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        putc_("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

static inline void put_dec(unsigned int v)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_(buf[--n]);
}

#endif
