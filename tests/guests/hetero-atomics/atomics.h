/*
 * The atomics stress firmware for machines/hetero.yaml (see riscv.c for
 * the whole story): what the three images agree on. Offsets are from the
 * start of the shared SRAM, which every cluster maps at its own address.
 * Words the MIPS writes are big endian, the others little endian: the
 * flags below are only ever tested for nonzero.
 */
#ifndef ATOMICS_H
#define ATOMICS_H

/* Increments per vCPU and counter. */
#define N_INCR          50000u

#define AT_GO           0x00    /* u32: nonzero once every worker is ready */
#define AT_LE           0x08    /* counter LE, u32 little endian (own 8-byte word) */
#define AT_BE           0x10    /* counter BE, u32 big endian (own 8-byte word) */
#define AT_READY        0x20    /* u32 per worker: waiting for go */
#define AT_DONE         0x30    /* u32 per worker: finished its increments */
#define AT_RETRIES      0x40    /* u32 per worker: its failed store-conditionals */

/* Workers (hart 0 is the coordinator). */
#define W_HART1         0
#define W_MCU           1
#define W_DSP           2
#define NWORKERS        3

/* Polls of a flag before giving up (a hang must end, also in the
 * deterministic scheduler, where the others run between our quanta). */
#define SPIN_MAX        100000000u

/* Expected totals: LE from hart 0 (amoadd.w), hart 1 (lr.w/sc.w) and the
 * Cortex-M (ldrex/strex); BE from the MIPS (ll/sc) and hart 0 (lr.w/sc.w
 * on the byte-swapped word). */
#define LE_EXPECTED     (3u * N_INCR)
#define BE_EXPECTED     (2u * N_INCR)

#endif
