/* C runtime start for freestanding guests: stack, zeroed .bss, main(), exit. */
#include "common.h"

        .section .text.init
        .globl  _start
_start:
        lla     sp, _stack_top
        lla     t0, __bss_start
        lla     t1, __bss_end
1:      bgeu    t0, t1, 2f
        sb      zero, 0(t0)
        addi    t0, t0, 1
        j       1b
2:      jal     ra, main
        j       exit

        .globl  putc
GUEST_ROUTINES
