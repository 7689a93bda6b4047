/*
 * fptest.c - RISC-V F and D conformance probe for hemu's Linux user mode
 * (`hemu run`), compared bit for bit with qemu-riscv64 by
 * tests/fp_conformance.rs. Static, -nostdlib, rv64gc/lp64d, no libc: the
 * program has its own _start and makes its system calls with ecall.
 *
 * Every F and D computational instruction is run on generated operand sets
 * (special values, values at rounding ties and at the subnormal, overflow
 * and integer-conversion boundaries, NaN-boxing violations, xorshift
 * random bit patterns and "structured" random values whose exponents make
 * the operands interact) under every rounding mode: the five static ones
 * (rne rtz rdn rup rmm; frm is set to another mode meanwhile, so a static
 * rm that reads frm shows) and the dynamic one (rm = 7) with frm = 0..4
 * (dyn0..dyn4). Instructions without an rm field (fsgnj*, fmin/fmax,
 * feq/flt/fle, fclass, fmv.*) run with frm = 0, 3 and 7 (frm0, frm3,
 * frm7): frm, even an invalid one, must not matter to them. Each case
 * clears fflags (csrw fflags, zero; `fptest nx`: sets NX instead),
 * executes the instruction (encoded
 * with .insn, so the rm field is exactly what the table says) and reads
 * the result (all 64 bits of an F register, so NaN boxing of results
 * shows) and fflags. Operands go in with fmv.d.x, so a single-precision
 * operand is any 64-bit pattern: NaN-boxed, or not (then it must read as
 * the canonical NaN).
 *
 * Cases per (instruction, variant), the same for every variant of an
 * instruction: one operand: every special value, then NRANDOM random
 * ones; two operands: every pair of special values, then NRANDOM random
 * pairs (half of them with exponents close together: cancellation,
 * ties); fused multiply-adds: the cube of the first CORE specials, the
 * other specials in each position, then 2 * NRANDOM random triples (half
 * with the addend close to the product). With the defaults that is
 * 2576 (single) / 2592 (double) / 2547 (integer) one-operand cases,
 * 8276 / 10964 two-operand and 10176 / 10464 fused cases.
 *
 * Usage:
 *   fptest                 one line per (instruction, variant):
 *                          "<insn> <variant> n=<cases> h=<hash>", the hash
 *                          a 32-bit FNV-1a, taken a 32-bit word at a time,
 *                          over each case's result (low word, high word)
 *                          and fflags; then the fcsr and load/store lines
 *                          and a total.
 *   fptest INSN [VARIANT]  one line per case of that instruction (and
 *                          variant): "<variant> <operands> -> <result> <flags>".
 *   fptest nx [INSN [VARIANT]]  the same with fflags = NX (inexact) instead
 *                          of 0 before each case, so that results and flags
 *                          take the paths real code takes once inexact has
 *                          been accrued.
 *   fptest sigill N        runs SIGILL case N: sets frm, checks that static
 *                          rounding modes and instructions without rm work
 *                          with it, prints the pc of the instruction that
 *                          must raise SIGILL (a reserved static rm, a
 *                          dynamic rm with frm = 5..7, or a reserved
 *                          encoding) and executes it, so the process dies;
 *                          N past the last case prints "sigill: <count>
 *                          cases".
 */

typedef unsigned long u64;
typedef unsigned int u32;

/* ---- system calls and output --------------------------------------- */

static long sys3(long nr, long a, long b, long c)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = nr;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static char obuf[8192];
static unsigned olen;

static void flush(void)
{
    unsigned off = 0;
    while (off < olen) {
        long n = sys3(64 /* write */, 1, (long)(obuf + off), olen - off);
        if (n <= 0)
            break;
        off += (unsigned)n;
    }
    olen = 0;
}

static __attribute__((noreturn)) void exit_group(int code)
{
    flush();
    sys3(94 /* exit_group */, code, 0, 0);
    for (;;) {
    }
}

static void putc_(char c)
{
    if (olen == sizeof obuf)
        flush();
    obuf[olen++] = c;
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void puthex(u64 v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        putc_("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

static void putdec(u64 v)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_(t[--n]);
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* ---- FP CSRs -------------------------------------------------------- */

static void set_frm(u64 v)
{
    __asm__ volatile("csrw frm, %0" : : "r"(v));
}

/* ---- instruction stubs ---------------------------------------------- */

/* What each case sets fflags to before its instruction: 0, or NX
 * (`fptest nx`: inexact already accrued, as in real code, where hemu's
 * JIT may compute on the host FPU). */
static u64 fflags0;

/* Result (a0) and fflags (a1). */
struct rf {
    u64 v;
    u64 f;
};
typedef struct rf (*stub_fn)(u64, u64, u64);

#define STUB __attribute__((noipa)) static struct rf

/* OP-FP, two F sources, F result: funct7 f7, funct3 = rm. */
#define K_R2(id, f7, x, rm)                                                   \
    STUB id##_##rm(u64 a, u64 b, u64 c)                                       \
    {                                                                         \
        struct rf r;                                                          \
        (void)c;                                                              \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t"             \
                         "csrw fflags, %[f0]\n\t"                             \
                         ".insn r 0x53, " #rm ", " #f7 ", ft2, ft0, ft1\n\t"  \
                         "frflags %1\n\tfmv.x.d %0, ft2"                      \
                         : "=&r"(r.v), "=&r"(r.f)                             \
                         : "r"(a), "r"(b), [f0] "r"(fflags0)                  \
                         : "ft0", "ft1", "ft2");                              \
        return r;                                                             \
    }

/* OP-FP, one F source, F result; rs2 field x. */
#define K_R1(id, f7, x, rm)                                                   \
    STUB id##_##rm(u64 a, u64 b, u64 c)                                       \
    {                                                                         \
        struct rf r;                                                          \
        (void)b, (void)c;                                                     \
        __asm__ volatile("fmv.d.x ft0, %2\n\t"                                \
                         "csrw fflags, %[f0]\n\t"                             \
                         ".insn r 0x53, " #rm ", " #f7 ", ft2, ft0, x" #x     \
                         "\n\t"                                               \
                         "frflags %1\n\tfmv.x.d %0, ft2"                      \
                         : "=&r"(r.v), "=&r"(r.f)                             \
                         : "r"(a), [f0] "r"(fflags0)                          \
                         : "ft0", "ft2");                                     \
        return r;                                                             \
    }

/* OP-FP, one F source, X result; rs2 field x. */
#define K_FX(id, f7, x, rm)                                                   \
    STUB id##_##rm(u64 a, u64 b, u64 c)                                       \
    {                                                                         \
        struct rf r;                                                          \
        (void)b, (void)c;                                                     \
        __asm__ volatile("fmv.d.x ft0, %2\n\t"                                \
                         "csrw fflags, %[f0]\n\t"                             \
                         ".insn r 0x53, " #rm ", " #f7 ", %0, ft0, x" #x      \
                         "\n\t"                                               \
                         "frflags %1"                                         \
                         : "=&r"(r.v), "=&r"(r.f)                             \
                         : "r"(a), [f0] "r"(fflags0)                          \
                         : "ft0");                                            \
        return r;                                                             \
    }

/* OP-FP, one X source, F result; rs2 field x. */
#define K_XF(id, f7, x, rm)                                                   \
    STUB id##_##rm(u64 a, u64 b, u64 c)                                       \
    {                                                                         \
        struct rf r;                                                          \
        (void)b, (void)c;                                                     \
        __asm__ volatile("csrw fflags, %[f0]\n\t"                             \
                         ".insn r 0x53, " #rm ", " #f7 ", ft2, %2, x" #x      \
                         "\n\t"                                               \
                         "frflags %1\n\tfmv.x.d %0, ft2"                      \
                         : "=&r"(r.v), "=&r"(r.f)                             \
                         : "r"(a), [f0] "r"(fflags0)                          \
                         : "ft2");                                            \
        return r;                                                             \
    }

/* OP-FP, two F sources, X result (compares). */
#define K_CX(id, f7, x, rm)                                                   \
    STUB id##_##rm(u64 a, u64 b, u64 c)                                       \
    {                                                                         \
        struct rf r;                                                          \
        (void)c;                                                              \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t"             \
                         "csrw fflags, %[f0]\n\t"                             \
                         ".insn r 0x53, " #rm ", " #f7 ", %0, ft0, ft1\n\t"   \
                         "frflags %1"                                         \
                         : "=&r"(r.v), "=&r"(r.f)                             \
                         : "r"(a), "r"(b), [f0] "r"(fflags0)                  \
                         : "ft0", "ft1");                                     \
        return r;                                                             \
    }

/* Fused multiply-add family: major opcode op, fmt (funct2) x. */
#define K_R4(id, op, x, rm)                                                   \
    STUB id##_##rm(u64 a, u64 b, u64 c)                                       \
    {                                                                         \
        struct rf r;                                                          \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t"             \
                         "fmv.d.x ft3, %4\n\t"                                \
                         "csrw fflags, %[f0]\n\t"                             \
                         ".insn r4 " #op ", " #rm ", " #x                     \
                         ", ft2, ft0, ft1, ft3\n\t"                           \
                         "frflags %1\n\tfmv.x.d %0, ft2"                      \
                         : "=&r"(r.v), "=&r"(r.f)                             \
                         : "r"(a), "r"(b), "r"(c), [f0] "r"(fflags0)          \
                         : "ft0", "ft1", "ft2", "ft3");                       \
        return r;                                                             \
    }

/* Operand types (what the generator makes). */
enum { T_S, T_D, T_X };

struct insn {
    const char *name;
    unsigned char arity;
    unsigned char has_rm;
    unsigned char src;
    stub_fn fn[6]; /* rm = 0, 1, 2, 3, 4, 7; without rm: fn[0] */
};

/*
 * The instructions with an rm field: X(id, name, kind, arity, src, f7/op, x).
 */
#define RM_INSNS(X)                                                 \
    X(fadd_s, "fadd.s", K_R2, 2, T_S, 0x00, 0)                      \
    X(fsub_s, "fsub.s", K_R2, 2, T_S, 0x04, 0)                      \
    X(fmul_s, "fmul.s", K_R2, 2, T_S, 0x08, 0)                      \
    X(fdiv_s, "fdiv.s", K_R2, 2, T_S, 0x0c, 0)                      \
    X(fsqrt_s, "fsqrt.s", K_R1, 1, T_S, 0x2c, 0)                    \
    X(fmadd_s, "fmadd.s", K_R4, 3, T_S, 0x43, 0)                    \
    X(fmsub_s, "fmsub.s", K_R4, 3, T_S, 0x47, 0)                    \
    X(fnmsub_s, "fnmsub.s", K_R4, 3, T_S, 0x4b, 0)                  \
    X(fnmadd_s, "fnmadd.s", K_R4, 3, T_S, 0x4f, 0)                  \
    X(fcvt_w_s, "fcvt.w.s", K_FX, 1, T_S, 0x60, 0)                  \
    X(fcvt_wu_s, "fcvt.wu.s", K_FX, 1, T_S, 0x60, 1)                \
    X(fcvt_l_s, "fcvt.l.s", K_FX, 1, T_S, 0x60, 2)                  \
    X(fcvt_lu_s, "fcvt.lu.s", K_FX, 1, T_S, 0x60, 3)                \
    X(fcvt_s_w, "fcvt.s.w", K_XF, 1, T_X, 0x68, 0)                  \
    X(fcvt_s_wu, "fcvt.s.wu", K_XF, 1, T_X, 0x68, 1)                \
    X(fcvt_s_l, "fcvt.s.l", K_XF, 1, T_X, 0x68, 2)                  \
    X(fcvt_s_lu, "fcvt.s.lu", K_XF, 1, T_X, 0x68, 3)                \
    X(fadd_d, "fadd.d", K_R2, 2, T_D, 0x01, 0)                      \
    X(fsub_d, "fsub.d", K_R2, 2, T_D, 0x05, 0)                      \
    X(fmul_d, "fmul.d", K_R2, 2, T_D, 0x09, 0)                      \
    X(fdiv_d, "fdiv.d", K_R2, 2, T_D, 0x0d, 0)                      \
    X(fsqrt_d, "fsqrt.d", K_R1, 1, T_D, 0x2d, 0)                    \
    X(fmadd_d, "fmadd.d", K_R4, 3, T_D, 0x43, 1)                    \
    X(fmsub_d, "fmsub.d", K_R4, 3, T_D, 0x47, 1)                    \
    X(fnmsub_d, "fnmsub.d", K_R4, 3, T_D, 0x4b, 1)                  \
    X(fnmadd_d, "fnmadd.d", K_R4, 3, T_D, 0x4f, 1)                  \
    X(fcvt_w_d, "fcvt.w.d", K_FX, 1, T_D, 0x61, 0)                  \
    X(fcvt_wu_d, "fcvt.wu.d", K_FX, 1, T_D, 0x61, 1)                \
    X(fcvt_l_d, "fcvt.l.d", K_FX, 1, T_D, 0x61, 2)                  \
    X(fcvt_lu_d, "fcvt.lu.d", K_FX, 1, T_D, 0x61, 3)                \
    X(fcvt_d_w, "fcvt.d.w", K_XF, 1, T_X, 0x69, 0)                  \
    X(fcvt_d_wu, "fcvt.d.wu", K_XF, 1, T_X, 0x69, 1)                \
    X(fcvt_d_l, "fcvt.d.l", K_XF, 1, T_X, 0x69, 2)                  \
    X(fcvt_d_lu, "fcvt.d.lu", K_XF, 1, T_X, 0x69, 3)                \
    X(fcvt_s_d, "fcvt.s.d", K_R1, 1, T_D, 0x20, 1)                  \
    X(fcvt_d_s, "fcvt.d.s", K_R1, 1, T_S, 0x21, 0)

/*
 * The instructions without one (funct3 fixed): X(id, name, kind, arity,
 * src, f7, x, funct3).
 */
#define NORM_INSNS(X)                                               \
    X(fsgnj_s, "fsgnj.s", K_R2, 2, T_S, 0x10, 0, 0)                 \
    X(fsgnjn_s, "fsgnjn.s", K_R2, 2, T_S, 0x10, 0, 1)               \
    X(fsgnjx_s, "fsgnjx.s", K_R2, 2, T_S, 0x10, 0, 2)               \
    X(fmin_s, "fmin.s", K_R2, 2, T_S, 0x14, 0, 0)                   \
    X(fmax_s, "fmax.s", K_R2, 2, T_S, 0x14, 0, 1)                   \
    X(feq_s, "feq.s", K_CX, 2, T_S, 0x50, 0, 2)                     \
    X(flt_s, "flt.s", K_CX, 2, T_S, 0x50, 0, 1)                     \
    X(fle_s, "fle.s", K_CX, 2, T_S, 0x50, 0, 0)                     \
    X(fclass_s, "fclass.s", K_FX, 1, T_S, 0x70, 0, 1)               \
    X(fmv_x_w, "fmv.x.w", K_FX, 1, T_S, 0x70, 0, 0)                 \
    X(fmv_w_x, "fmv.w.x", K_XF, 1, T_X, 0x78, 0, 0)                 \
    X(fsgnj_d, "fsgnj.d", K_R2, 2, T_D, 0x11, 0, 0)                 \
    X(fsgnjn_d, "fsgnjn.d", K_R2, 2, T_D, 0x11, 0, 1)               \
    X(fsgnjx_d, "fsgnjx.d", K_R2, 2, T_D, 0x11, 0, 2)               \
    X(fmin_d, "fmin.d", K_R2, 2, T_D, 0x15, 0, 0)                   \
    X(fmax_d, "fmax.d", K_R2, 2, T_D, 0x15, 0, 1)                   \
    X(feq_d, "feq.d", K_CX, 2, T_D, 0x51, 0, 2)                     \
    X(flt_d, "flt.d", K_CX, 2, T_D, 0x51, 0, 1)                     \
    X(fle_d, "fle.d", K_CX, 2, T_D, 0x51, 0, 0)                     \
    X(fclass_d, "fclass.d", K_FX, 1, T_D, 0x71, 0, 1)               \
    X(fmv_x_d, "fmv.x.d", K_FX, 1, T_D, 0x71, 0, 0)                 \
    X(fmv_d_x, "fmv.d.x", K_XF, 1, T_X, 0x79, 0, 0)

#define DEF_RM(id, name, kind, ar, src, f7, x)                      \
    kind(id, f7, x, 0) kind(id, f7, x, 1) kind(id, f7, x, 2)        \
        kind(id, f7, x, 3) kind(id, f7, x, 4) kind(id, f7, x, 7)
#define DEF_NORM(id, name, kind, ar, src, f7, x, f3) kind(id, f7, x, f3)
RM_INSNS(DEF_RM)
NORM_INSNS(DEF_NORM)

#define ENT_RM(id, name, kind, ar, src, f7, x)                      \
    {name, ar, 1, src, {id##_0, id##_1, id##_2, id##_3, id##_4, id##_7}},
#define ENT_NORM(id, name, kind, ar, src, f7, x, f3)                \
    {name, ar, 0, src, {id##_##f3, 0, 0, 0, 0, 0}},
static const struct insn insns[] = {RM_INSNS(ENT_RM) NORM_INSNS(ENT_NORM)};
#define NINSNS (sizeof insns / sizeof insns[0])

/* ---- variants ---------------------------------------------------------- */

struct variant {
    const char *name;
    unsigned char stub; /* index into insn.fn */
    unsigned char frm;  /* frm while it runs */
};

/* Static modes run with frm = another valid mode. */
static const struct variant rm_variants[] = {
    {"rne", 0, 2}, {"rtz", 1, 3}, {"rdn", 2, 4}, {"rup", 3, 0},  {"rmm", 4, 1},
    {"dyn0", 5, 0}, {"dyn1", 5, 1}, {"dyn2", 5, 2}, {"dyn3", 5, 3}, {"dyn4", 5, 4},
};
static const struct variant norm_variants[] = {
    {"frm0", 0, 0}, {"frm3", 0, 3}, {"frm7", 0, 7},
};

/* ---- operands --------------------------------------------------------- */

#define BOX(v) (0xffffffff00000000ul | (u32)(v))

/* Single precision, NaN-boxed; the first 16 are the fused-multiply-add core. */
static const u32 specials_s[] = {
    0x00000000, 0x80000000, /* +-0 */
    0x00000001, 0x80000001, /* +-min subnormal */
    0x007fffff, 0x807fffff, /* +-max subnormal */
    0x00800000, 0x80800000, /* +-min normal */
    0x7f7fffff, 0xff7fffff, /* +-max normal */
    0x3f800000, 0xbf800000, /* +-1 */
    0x7f800000, 0xff800000, /* +-inf */
    0x7fc00000,             /* canonical qNaN */
    0x7f800001,             /* sNaN */
    /* more NaNs */
    0xffc00000, 0x7fc12345, 0xff812345, 0x7fbfffff,
    /* rounding ties and near-ones */
    0x3f800001, 0x3f7fffff, 0x33800000, 0x33c00000, 0x34000000, 0x3f000001,
    0x3fffffff, 0xbf7fffff, 0x4b000000, 0x4b7fffff, 0x4b800000, 0x4b000001,
    /* products and sums at the subnormal boundary */
    0x20000000, 0x1fffffff, 0x1f800000, 0x00800001, 0x00400000, 0x00000002,
    0x00000003, 0x80400000, 0x5f800000 /* 2^64 */, 0x7f000000, 0x7effffff,
    0x7f7ffffe, 0x3e800000,
    /* small values and their roundings to integers */
    0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, 0x40200000, 0xc0200000,
    0x40000000, 0x40400000, 0x3eaaaaab, 0xbf666666, 0x3effffff, 0xbeffffff,
    0x40490fdb,
    /* integer conversion boundaries */
    0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0xceffffff, 0x4f7fffff,
    0x4f800000, 0x5effffff, 0x5f000000, 0xdf000000, 0xdf000001, 0xdeffffff,
    0x5f7fffff,
};
/* 64-bit register values that are not properly NaN-boxed singles. */
static const u64 unboxed_s[] = {
    0x000000003f800000, 0xfffffffe3f800000, 0x0000000000000000,
    0x7ff0000000000001, 0x7fffffff7fc00000,
};
#define NSPEC_S (sizeof specials_s / sizeof specials_s[0])
#define NUNBOX_S (sizeof unboxed_s / sizeof unboxed_s[0])

static const u64 specials_d[] = {
    0x0000000000000000, 0x8000000000000000, /* +-0 */
    0x0000000000000001, 0x8000000000000001, /* +-min subnormal */
    0x000fffffffffffff, 0x800fffffffffffff, /* +-max subnormal */
    0x0010000000000000, 0x8010000000000000, /* +-min normal */
    0x7fefffffffffffff, 0xffefffffffffffff, /* +-max normal */
    0x3ff0000000000000, 0xbff0000000000000, /* +-1 */
    0x7ff0000000000000, 0xfff0000000000000, /* +-inf */
    0x7ff8000000000000,                     /* canonical qNaN */
    0x7ff0000000000001,                     /* sNaN */
    /* more NaNs */
    0xfff8000000000000, 0x7ff8000000012345, 0xfff0000000012345,
    0x7ff7ffffffffffff,
    /* rounding ties and near-ones */
    0x3ff0000000000001, 0x3fefffffffffffff, 0x3ca0000000000000,
    0x3ca8000000000000, 0x3cb0000000000000, 0x3fe0000000000001,
    0x3fffffffffffffff, 0xbfefffffffffffff, 0x4330000000000000,
    0x433fffffffffffff, 0x4340000000000000, 0x4330000000000001,
    /* products and sums at the subnormal boundary */
    0x2000000000000000, 0x1fffffffffffffff, 0x1ff0000000000000,
    0x0010000000000001, 0x0008000000000000, 0x0000000000000002,
    0x0000000000000003, 0x8008000000000000, 0x7fe0000000000000,
    0x7fdfffffffffffff, 0x7feffffffffffffe, 0x3fd0000000000000,
    /* small values and their roundings to integers */
    0x3fe0000000000000, 0xbfe0000000000000, 0x3ff8000000000000,
    0xbff8000000000000, 0x4004000000000000, 0xc004000000000000,
    0x4000000000000000, 0x4008000000000000, 0x3fd5555555555555,
    0xbfeccccccccccccd, 0x3fdfffffffffffff, 0xbfdfffffffffffff,
    0x400921fb54442d18,
    /* integer conversion boundaries: 2^31 - 1, 2^31 - 0.5, 2^31, ... */
    0x41dfffffffc00000, 0x41dfffffffe00000, 0x41dffffffff00000,
    0x41e0000000000000, 0xc1e0000000000000, 0xc1e0000000100000,
    0xc1e0000000200000, 0xc1dfffffffe00000, 0x41efffffffc00000,
    0x41efffffffe00000, 0x41f0000000000000, 0x43dfffffffffffff,
    0x43e0000000000000, 0xc3e0000000000000, 0xc3e0000000000001,
    0xc3dfffffffffffff, 0x43efffffffffffff, 0x43f0000000000000,
    /* single-precision boundaries (fcvt.s.d) */
    0x47efffffe0000000, 0x47effffff0000000, 0x47effffff0000001,
    0x47efffffefffffff, 0x36a0000000000000, 0x3690000000000000,
    0x3690000000000001, 0x368fffffffffffff, 0x3810000000000000,
    0x380fffffffffffff, 0x380ffffff0000000, 0x380fffffe0000000,
    0x3ff0000010000000, 0x3ff0000030000000, 0x3ff0000010000001,
    0xc7f0000000000000, 0x36affffff0000000,
};
#define NSPEC_D (sizeof specials_d / sizeof specials_d[0])

static const u64 specials_x[] = {
    0, 1, 2, 3, (u64)-1, (u64)-2, (u64)-3,
    0x7fffffff, 0x80000000, 0x80000001, 0xffffffff80000000, 0xffffffff7fffffff,
    0xffffffff, 0x100000000, 0xfffffffe,
    0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000001,
    0xffffffffffffffff,
    /* ties and boundaries of single (24-bit) and double (53-bit) significands */
    0x1000001, 0x1000003, 0x1000002, 0xfffffffffefffffful, 0xffffff, 0x1ffffff,
    0x7fffff80, 0x7fffffc0, 0x7fffffc1, 0xffffffc0, 0xffffff80, 0xffffff7f,
    0x20000000000001, 0x20000000000003, 0x1fffffffffffff, 0xffdfffffffffffff,
    0x7ffffffffffffc00, 0x7ffffffffffffe00, 0x7ffffffffffffdff,
    0xfffffffffffff800, 0xfffffffffffffc00, 0x8000008000000000,
    0x8000000000000400, 0xffffff8000000000,
    /* 32-bit instructions read only the low half */
    0xdeadbeef00000001, 0x123456789abcdef0, 0x00000001ffffffff,
    0xffffffff00000000,
};
#define NSPEC_X (sizeof specials_x / sizeof specials_x[0])

/* xorshift64, reseeded for each (instruction, variant). */
static u64 rng;

static u64 rnd(void)
{
    u64 x = rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng = x;
}

static u64 special(int t, u64 i)
{
    switch (t) {
    case T_S:
        return i < NSPEC_S ? BOX(specials_s[i]) : unboxed_s[i - NSPEC_S];
    case T_D:
        return specials_d[i];
    default:
        return specials_x[i];
    }
}

static u64 nspecial(int t)
{
    return t == T_S ? NSPEC_S + NUNBOX_S : t == T_D ? NSPEC_D : NSPEC_X;
}

/* Exponent field of a single (low half) or double. */
static int expo(int t, u64 v)
{
    return t == T_S ? (int)((v >> 23) & 0xff) : (int)((v >> 52) & 0x7ff);
}

/*
 * A random float whose exponent and significand are chosen to hit
 * interesting cases: near 1, subnormal, near the normal and overflow
 * boundaries, near `ref` (an exponent, or -1), in the integer-conversion
 * range, near the single-precision limits (for doubles); significands with
 * trailing zeros, exact halves (ties) and all ones.
 */
static u64 structured(int t, int ref)
{
    int m = t == T_S ? 23 : 52, bias = t == T_S ? 127 : 1023, top = t == T_S ? 254 : 2046;
    u64 r = rnd();
    u64 k = (r >> 3) & 0xffff;
    int e;
    switch (r & 7) {
    case 0:
        e = bias - 4 + (int)(k % 9);
        break;
    case 1:
        e = 0;
        break;
    case 2:
        e = 1 + (int)(k % 3);
        break;
    case 3:
        e = top - (int)(k % 3);
        break;
    case 4:
        e = 1 + (int)(k % (u64)top);
        break;
    case 5:
        e = ref >= 0 ? ref - (m + 3) + (int)(k % (u64)(2 * m + 7)) : bias;
        break;
    case 6:
        e = bias - 2 + (int)(k % 70);
        break;
    default:
        if (t == T_D)
            e = (k & 1) ? bias - 152 + (int)(k % 30) : bias + 124 + (int)(k % 6);
        else
            e = bias + 20 + (int)(k % 8);
        break;
    }
    if (e < 0)
        e = 0;
    if (e > top)
        e = top;
    u64 mask = (1ul << m) - 1;
    u64 mant = rnd() & mask;
    r = rnd();
    switch (r % 6) {
    case 2:
        mant &= ~((1ul << (m / 2)) - 1);
        break;
    case 3:
        mant &= ~((1ul << (m - 3)) - 1);
        break;
    case 4: {
        int b = 1 + (int)((r >> 8) % (u64)m);
        mant = (mant & ~((1ul << b) - 1)) | (1ul << (b - 1));
        break;
    }
    case 5:
        mant = (r >> 8) & 1 ? mask : 0;
        break;
    default:
        break;
    }
    u64 sign = (r >> 9) & 1;
    if (t == T_S)
        return BOX((u32)(sign << 31 | (u64)e << 23 | mant));
    return sign << 63 | (u64)e << 52 | mant;
}

/* A random operand of type t, `ref` as for structured(). */
static u64 gen(int t, int ref)
{
    u64 r = rnd();
    if (t == T_X) {
        u64 v = rnd();
        switch (r & 3) {
        case 0:
            return special(t, (r >> 2) % nspecial(t));
        case 1:
            return v;
        case 2:
            v >>= (r >> 2) % 64;
            return (r >> 8) & 1 ? -v : v;
        default: {
            /* few significant bits: ties when converted */
            int bits = 20 + (int)((r >> 2) % 36);
            v = (v & ((1ul << bits) - 1)) | 1;
            v <<= (r >> 8) % (u64)(64 - bits);
            return (r >> 14) & 1 ? -v : v;
        }
        }
    }
    switch (r & 7) {
    case 0:
        return special(t, (r >> 3) % nspecial(t));
    case 1:
        return t == T_S && ((r >> 3) & 15) == 0 ? rnd() : t == T_S ? BOX(rnd()) : rnd();
    case 2:
        return t == T_S ? BOX(rnd()) : rnd();
    default:
        return structured(t, ref);
    }
}

#define CORE 16 /* fused-multiply-add special cube: the first CORE specials */
/* Random cases per instruction (twice as many for the fused ones); a
 * deeper one-off sweep can build with -DNRANDOM=... and -DSEED=... */
#ifndef NRANDOM
#define NRANDOM 2500
#endif
#ifndef SEED
#define SEED 0x9e3779b97f4a7c15ul
#endif

static u64 total_cases;

/* ---- running ------------------------------------------------------------- */

static void put_flags(u64 f)
{
    static const char *const names[5] = {"NX", "UF", "OF", "DZ", "NV"};
    int any = 0;
    for (int i = 4; i >= 0; i--) {
        if (f & (1ul << i)) {
            if (any)
                putc_('|');
            puts_(names[i]);
            any = 1;
        }
    }
    if (!any)
        putc_('-');
    if (f & ~0x1ful) {
        putc_('+');
        puthex(f, 2);
    }
}

static u32 fnv_str(const char *s)
{
    u32 h = 0x811c9dc5u;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 0x01000193u;
    }
    return h;
}

/* The cases of one instruction: operands ops[0..arity-1][0..ncases-1]. */
#define MAXCASES (2 * NRANDOM + 7000)
static u64 ops[3][MAXCASES];
static u64 ncases;

static void add_case(u64 a, u64 b, u64 c)
{
    if (ncases < MAXCASES) {
        ops[0][ncases] = a;
        ops[1][ncases] = b;
        ops[2][ncases] = c;
    }
    ncases++;
}

/* Every case of `in`, in a fixed order (the same for all its variants). */
static void make_cases(const struct insn *in)
{
    int t = in->src;
    u64 ns = nspecial(t);
    ncases = 0;
    rng = SEED ^ fnv_str(in->name);
    switch (in->arity) {
    case 1:
        for (u64 i = 0; i < ns; i++)
            add_case(special(t, i), 0, 0);
        for (int i = 0; i < NRANDOM; i++)
            add_case(gen(t, -1), 0, 0);
        break;
    case 2:
        for (u64 i = 0; i < ns; i++)
            for (u64 j = 0; j < ns; j++)
                add_case(special(t, i), special(t, j), 0);
        for (int i = 0; i < NRANDOM; i++) {
            u64 a = gen(t, -1);
            u64 b = gen(t, (rnd() & 1) ? expo(t, a) : -1);
            add_case(a, b, 0);
        }
        break;
    default: {
        for (u64 i = 0; i < CORE; i++)
            for (u64 j = 0; j < CORE; j++)
                for (u64 k = 0; k < CORE; k++)
                    add_case(special(t, i), special(t, j), special(t, k));
        /* the other specials, NaN-boxing violations too, in each position */
        for (u64 i = CORE; i < ns; i++)
            for (u64 j = 0; j < CORE; j += 3) {
                u64 s = special(t, i), o = special(t, j), p = special(t, 10);
                add_case(s, o, p);
                add_case(o, s, p);
                add_case(p, o, s);
            }
        int bias = t == T_S ? 127 : 1023;
        for (int i = 0; i < 2 * NRANDOM; i++) {
            u64 a = gen(t, -1);
            u64 b = gen(t, -1);
            /* half of the addends near the product: cancellation */
            u64 c = gen(t, (rnd() & 1) ? expo(t, a) + expo(t, b) - bias : -1);
            add_case(a, b, c);
        }
        break;
    }
    }
    if (ncases > MAXCASES) {
        puts_("fptest: too many cases for ");
        puts_(in->name);
        putc_('\n');
        exit_group(3);
    }
}

/* FNV-1a, a 32-bit word at a time. */
#define FNV(h, w) (((h) ^ (u32)(w)) * 0x01000193u)

/* Runs the cases with `fn`; returns the hash, or prints every case. */
static u32 run_cases(const struct insn *in, stub_fn fn, const char *vname, int verbose)
{
    u32 h = 0x811c9dc5u;
    const u64 *a = ops[0], *b = ops[1], *c = ops[2];
    for (u64 i = 0; i < ncases; i++) {
        struct rf x = fn(a[i], b[i], c[i]);
        h = FNV(FNV(FNV(h, x.v), x.v >> 32), x.f);
        if (verbose) {
            puts_(vname);
            for (int k = 0; k < in->arity; k++) {
                putc_(' ');
                puthex(ops[k][i], 16);
            }
            puts_(" -> ");
            puthex(x.v, 16);
            putc_(' ');
            put_flags(x.f);
            putc_('\n');
        }
    }
    return h;
}

static void run_insn(const struct insn *in, const char *only, int verbose)
{
    const struct variant *vs = in->has_rm ? rm_variants : norm_variants;
    int nv = in->has_rm ? 10 : 3;
    make_cases(in);
    for (int v = 0; v < nv; v++) {
        if (only && !streq(only, vs[v].name))
            continue;
        set_frm(vs[v].frm);
        u32 h = run_cases(in, in->fn[vs[v].stub], vs[v].name, verbose);
        total_cases += ncases;
        if (!verbose) {
            puts_(in->name);
            putc_(' ');
            puts_(vs[v].name);
            puts_(" n=");
            putdec(ncases);
            puts_(" h=");
            puthex(h, 8);
            putc_('\n');
        }
    }
    set_frm(0);
}

/* ---- fcsr, loads and stores -------------------------------------------- */

static void put_kv(const char *k, u64 v)
{
    putc_(' ');
    puts_(k);
    putc_('=');
    puthex(v, 2);
}

static void csr_tests(void)
{
    u64 a, b, c;
    puts_("csr");
    __asm__ volatile("csrw fcsr, %3\n\tcsrr %0, fcsr\n\tcsrr %1, fflags\n\tcsrr %2, frm"
                     : "=&r"(a), "=&r"(b), "=&r"(c)
                     : "r"(0xffful));
    put_kv("fcsr", a), put_kv("fflags", b), put_kv("frm", c);
    __asm__ volatile("csrw fcsr, zero\n\tfsflags %0, %3\n\tfrflags %1\n\tfrcsr %2"
                     : "=&r"(a), "=&r"(b), "=&r"(c)
                     : "r"(0x3ful));
    put_kv("old", a), put_kv("fflags", b), put_kv("fcsr", c);
    __asm__ volatile("fsrm %0, %3\n\tfrrm %1\n\tfrcsr %2"
                     : "=&r"(a), "=&r"(b), "=&r"(c)
                     : "r"(0xdul));
    put_kv("old", a), put_kv("frm", b), put_kv("fcsr", c);
    __asm__ volatile("csrsi fflags, 0x4\n\tcsrci frm, 1\n\tcsrrci %0, fcsr, 0x3\n\tcsrr %1, fcsr\n\t"
                     "csrrs %2, frm, zero"
                     : "=&r"(a), "=&r"(b), "=&r"(c));
    put_kv("old", a), put_kv("fcsr", b), put_kv("frm", c);
    /* flags accrue: inexact, then divide by zero, then nothing */
    __asm__ volatile("csrw fcsr, zero\n\t"
                     "fmv.d.x ft0, %3\n\tfmv.d.x ft1, %4\n\t"
                     "fdiv.d ft2, ft0, ft1, rne\n\tfrflags %0\n\t"
                     "fmv.d.x ft1, zero\n\tfdiv.d ft2, ft0, ft1, rne\n\tfrflags %1\n\t"
                     "fadd.d ft2, ft0, ft0, rne\n\tfrflags %2"
                     : "=&r"(a), "=&r"(b), "=&r"(c)
                     : "r"(0x3ff0000000000000ul), "r"(0x4008000000000000ul)
                     : "ft0", "ft1", "ft2");
    put_kv("acc1", a), put_kv("acc2", b), put_kv("acc3", c);
    putc_('\n');
    set_frm(0);
}

static void ldst_tests(void)
{
    static volatile u64 mem[2] = {0x1122334455667788ul, 0x99aabbccddeeff00ul};
    u64 a, b, c, d;
    mem[0] = 0x1122334455667788ul;
    mem[1] = 0x99aabbccddeeff00ul;
    puts_("ldst");
    /* flw NaN-boxes; fld does not; fsw stores the low 32 bits as they are */
    __asm__ volatile("flw ft0, 4(%4)\n\tfmv.x.d %0, ft0\n\t"
                     "fld ft1, 8(%4)\n\tfmv.x.d %1, ft1\n\t"
                     "fmv.d.x ft2, %5\n\tfsw ft2, 0(%4)\n\tld %2, 0(%4)\n\t"
                     "fsd ft2, 8(%4)\n\tld %3, 8(%4)"
                     : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d)
                     : "r"(mem), "r"(0x0123456789abcdeful)
                     : "ft0", "ft1", "ft2", "memory");
    putc_(' '), puthex(a, 16), putc_(' '), puthex(b, 16);
    putc_(' '), puthex(c, 16), putc_(' '), puthex(d, 16);
    /* moves keep every bit; fmv.x.w sign-extends the low half */
    __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.x.w %0, ft0\n\t"
                     "fmv.w.x ft1, %2\n\tfmv.x.d %1, ft1"
                     : "=&r"(a), "=&r"(b)
                     : "r"(0x00000000ff800001ul)
                     : "ft0", "ft1");
    putc_(' '), puthex(a, 16), putc_(' '), puthex(b, 16);
    /* compressed forms: c.fld/c.fsd and c.fldsp/c.fsdsp */
    {
        register volatile u64 *p __asm__("a5") = mem;
        __asm__ volatile("c.fld fa0, 8(a5)\n\tc.fsd fa0, 0(a5)\n\tld %0, 0(a5)\n\t"
                         "addi sp, sp, -16\n\tsd %3, 0(sp)\n\tc.fsdsp fa0, 8(sp)\n\t"
                         "c.fldsp fa1, 0(sp)\n\tld %2, 8(sp)\n\taddi sp, sp, 16\n\t"
                         "fmv.x.d %1, fa1"
                         : "=&r"(a), "=&r"(b), "=&r"(c)
                         : "r"(0xfedcba9876543210ul), "r"(p)
                         : "fa0", "fa1", "memory");
    }
    putc_(' '), puthex(a, 16), putc_(' '), puthex(b, 16), putc_(' '), puthex(c, 16);
    putc_('\n');
}

/* ---- SIGILL cases --------------------------------------------------------- */

/* An instruction alone in a function: its address is the trapping pc. */
#define SIGSTUB(sym, text)                                                    \
    __asm__(".pushsection .text\n\t.balign 4\n\t.globl " #sym "\n\t"          \
            ".type " #sym ", @function\n" #sym ":\n\t" text "\n\tret\n\t"     \
            ".size " #sym ", . - " #sym "\n\t.popsection");                   \
    extern char sym[];

SIGSTUB(sig_fadd_s_5, ".insn r 0x53, 5, 0x00, ft2, ft0, ft1")
SIGSTUB(sig_fadd_s_6, ".insn r 0x53, 6, 0x00, ft2, ft0, ft1")
SIGSTUB(sig_fmul_d_5, ".insn r 0x53, 5, 0x09, ft2, ft0, ft1")
SIGSTUB(sig_fsqrt_d_6, ".insn r 0x53, 6, 0x2d, ft2, ft0, x0")
SIGSTUB(sig_fmadd_s_5, ".insn r4 0x43, 5, 0, ft2, ft0, ft1, ft3")
SIGSTUB(sig_fnmsub_d_6, ".insn r4 0x4b, 6, 1, ft2, ft0, ft1, ft3")
SIGSTUB(sig_fcvt_w_s_5, ".insn r 0x53, 5, 0x60, a0, ft0, x0")
SIGSTUB(sig_fcvt_lu_d_6, ".insn r 0x53, 6, 0x61, a0, ft0, x3")
SIGSTUB(sig_fcvt_s_w_5, ".insn r 0x53, 5, 0x68, ft2, a0, x0")
SIGSTUB(sig_fcvt_d_w_5, ".insn r 0x53, 5, 0x69, ft2, a0, x0")
SIGSTUB(sig_fcvt_d_s_6, ".insn r 0x53, 6, 0x21, ft2, ft0, x0")
SIGSTUB(sig_fcvt_s_d_5, ".insn r 0x53, 5, 0x20, ft2, ft0, x1")
SIGSTUB(sig_fadd_s_7, ".insn r 0x53, 7, 0x00, ft2, ft0, ft1")
SIGSTUB(sig_fdiv_d_7, ".insn r 0x53, 7, 0x0d, ft2, ft0, ft1")
SIGSTUB(sig_fmadd_d_7, ".insn r4 0x43, 7, 1, ft2, ft0, ft1, ft3")
SIGSTUB(sig_fnmadd_s_7, ".insn r4 0x4f, 7, 0, ft2, ft0, ft1, ft3")
SIGSTUB(sig_fsqrt_s_7, ".insn r 0x53, 7, 0x2c, ft2, ft0, x0")
SIGSTUB(sig_fcvt_d_s_7, ".insn r 0x53, 7, 0x21, ft2, ft0, x0")
SIGSTUB(sig_fcvt_d_wu_7, ".insn r 0x53, 7, 0x69, ft2, a0, x1")
SIGSTUB(sig_fcvt_w_d_7, ".insn r 0x53, 7, 0x61, a0, ft0, x0")
SIGSTUB(sig_fcvt_s_lu_7, ".insn r 0x53, 7, 0x68, ft2, a0, x3")
SIGSTUB(sig_fcvt_s_d_7, ".insn r 0x53, 7, 0x20, ft2, ft0, x1")
/* reserved encodings (no rounding mode involved) */
SIGSTUB(sig_fsqrt_s_rs2, ".insn r 0x53, 0, 0x2c, ft2, ft0, x1")
SIGSTUB(sig_fmin_s_f3, ".insn r 0x53, 2, 0x14, ft2, ft0, ft1")
SIGSTUB(sig_fsgnj_d_f3, ".insn r 0x53, 3, 0x11, ft2, ft0, ft1")
SIGSTUB(sig_feq_s_f3, ".insn r 0x53, 3, 0x50, a0, ft0, ft1")
SIGSTUB(sig_fcvt_w_s_rs2, ".insn r 0x53, 0, 0x60, a0, ft0, x4")
SIGSTUB(sig_fmv_x_w_f3, ".insn r 0x53, 2, 0x70, a0, ft0, x0")
SIGSTUB(sig_fclass_d_rs2, ".insn r 0x53, 1, 0x71, a0, ft0, x1")
SIGSTUB(sig_fmv_w_x_rs2, ".insn r 0x53, 0, 0x78, ft2, a0, x1")
SIGSTUB(sig_fmadd_q, ".insn r4 0x43, 0, 3, ft2, ft0, ft1, ft3")
SIGSTUB(sig_fcvt_s_s, ".insn r 0x53, 0, 0x20, ft2, ft0, x0")
SIGSTUB(sig_fcvt_d_d, ".insn r 0x53, 0, 0x21, ft2, ft0, x1")
SIGSTUB(sig_fadd_h, ".insn r 0x53, 0, 0x02, ft2, ft0, ft1")

struct sigcase {
    const char *what;
    char *pc;
    unsigned char frm;
};

static const struct sigcase sigcases[] = {
    {"fadd.s rm=5", sig_fadd_s_5, 0},
    {"fadd.s rm=6", sig_fadd_s_6, 0},
    {"fmul.d rm=5", sig_fmul_d_5, 1},
    {"fsqrt.d rm=6", sig_fsqrt_d_6, 2},
    {"fmadd.s rm=5", sig_fmadd_s_5, 3},
    {"fnmsub.d rm=6", sig_fnmsub_d_6, 4},
    {"fcvt.w.s rm=5", sig_fcvt_w_s_5, 0},
    {"fcvt.lu.d rm=6", sig_fcvt_lu_d_6, 0},
    {"fcvt.s.w rm=5", sig_fcvt_s_w_5, 0},
    {"fcvt.d.w rm=5", sig_fcvt_d_w_5, 0},
    {"fcvt.d.s rm=6", sig_fcvt_d_s_6, 0},
    {"fcvt.s.d rm=5", sig_fcvt_s_d_5, 0},
    {"fadd.s rm=6 frm=6", sig_fadd_s_6, 6},
    {"fadd.s dyn frm=5", sig_fadd_s_7, 5},
    {"fadd.s dyn frm=6", sig_fadd_s_7, 6},
    {"fadd.s dyn frm=7", sig_fadd_s_7, 7},
    {"fdiv.d dyn frm=6", sig_fdiv_d_7, 6},
    {"fmadd.d dyn frm=7", sig_fmadd_d_7, 7},
    {"fnmadd.s dyn frm=5", sig_fnmadd_s_7, 5},
    {"fsqrt.s dyn frm=7", sig_fsqrt_s_7, 7},
    {"fcvt.d.s dyn frm=5", sig_fcvt_d_s_7, 5},
    {"fcvt.d.wu dyn frm=7", sig_fcvt_d_wu_7, 7},
    {"fcvt.w.d dyn frm=6", sig_fcvt_w_d_7, 6},
    {"fcvt.s.lu dyn frm=5", sig_fcvt_s_lu_7, 5},
    {"fcvt.s.d dyn frm=7", sig_fcvt_s_d_7, 7},
    {"fsqrt.s rs2=1", sig_fsqrt_s_rs2, 0},
    {"fmin.s funct3=2", sig_fmin_s_f3, 0},
    {"fsgnj.d funct3=3", sig_fsgnj_d_f3, 0},
    {"feq.s funct3=3", sig_feq_s_f3, 0},
    {"fcvt.w.s rs2=4", sig_fcvt_w_s_rs2, 0},
    {"fmv.x.w funct3=2", sig_fmv_x_w_f3, 0},
    {"fclass.d rs2=1", sig_fclass_d_rs2, 0},
    {"fmv.w.x rs2=1", sig_fmv_w_x_rs2, 0},
    {"fmadd.q (fmt=3)", sig_fmadd_q, 0},
    {"fcvt.s.s (fcvt.s.d rs2=0)", sig_fcvt_s_s, 0},
    {"fcvt.d.d (fcvt.d.s rs2=1)", sig_fcvt_d_d, 0},
    {"fadd.h (fmt=2)", sig_fadd_h, 0},
};
#define NSIG (sizeof sigcases / sizeof sigcases[0])

static u64 parse_dec(const char *s)
{
    u64 v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (u64)(*s++ - '0');
    return *s ? (u64)-1 : v;
}

static void sigill(const char *arg)
{
    u64 n = parse_dec(arg);
    if (n >= NSIG) {
        puts_("sigill: ");
        putdec(NSIG);
        puts_(" cases\n");
        exit_group(0);
    }
    const struct sigcase *sc = &sigcases[n];
    puts_("sigill ");
    putdec(n);
    puts_(": ");
    puts_(sc->what);
    putc_('\n');
    set_frm(sc->frm);
    /* Instructions without rm, and static rm, work whatever frm holds. */
    u32 h = 0x811c9dc5u;
    for (u64 i = 0; i < NINSNS; i++) {
        const struct insn *in = &insns[i];
        struct rf x = in->fn[0](BOX(0x3fc00000), BOX(0xc0200000), BOX(0x00000001));
        h = (h ^ (u32)x.v ^ (u32)(x.v >> 32) ^ (u32)x.f) * 0x01000193u;
    }
    puts_("frm=");
    putdec(sc->frm);
    puts_(" static and rm-less ok h=");
    puthex(h, 8);
    putc_('\n');
    puts_("pc=0x");
    int d = 1;
    while (d < 16 && ((u64)sc->pc >> (4 * d)))
        d++;
    puthex((u64)sc->pc, d);
    putc_('\n');
    flush();
    ((void (*)(void))sc->pc)();
    puts_("no SIGILL\n");
    exit_group(1);
}

/* ---- entry ---------------------------------------------------------------- */

__asm__(".pushsection .text._start, \"ax\"\n\t.globl _start\n\t"
        ".type _start, @function\n_start:\n\t"
        ".option push\n\t.option norelax\n\tlla gp, __global_pointer$\n\t"
        ".option pop\n\t"
        "mv a0, sp\n\tandi sp, sp, -16\n\tcall cmain\n\t"
        "li a7, 94\n\tecall\n\t.popsection");

int cmain(u64 *sp);

int cmain(u64 *sp)
{
    long argc = (long)sp[0];
    char **argv = (char **)(sp + 1);
    set_frm(0);
    if (argc >= 2 && streq(argv[1], "nx")) {
        fflags0 = 1;
        argc--, argv++;
    }
    if (argc >= 3 && streq(argv[1], "sigill"))
        sigill(argv[2]);
    if (argc >= 2) {
        int found = 0;
        for (u64 i = 0; i < NINSNS; i++)
            if (streq(argv[1], insns[i].name)) {
                run_insn(&insns[i], argc >= 3 ? argv[2] : 0, 1);
                found = 1;
            }
        if (!found) {
            puts_("fptest: unknown instruction ");
            puts_(argv[1]);
            putc_('\n');
            exit_group(2);
        }
        exit_group(0);
    }
    for (u64 i = 0; i < NINSNS; i++)
        run_insn(&insns[i], 0, 0);
    csr_tests();
    ldst_tests();
    puts_("total ");
    putdec(total_cases);
    puts_(" cases\n");
    exit_group(0);
}
