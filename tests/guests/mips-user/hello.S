# hello: write(1, msg, len); exit_group(0). Linux o32 system calls: number
# in v0 (4000 + n), arguments in a0..a3, `syscall`; a3 = 1 flags an error.
        .set    noreorder
        .text
        .globl  __start
__start:
        li      $a0, 1
        la      $a1, msg
        li      $a2, msg_end - msg
        li      $v0, 4004               # write
        syscall
        li      $a0, 0
        li      $v0, 4246               # exit_group
        syscall
        .data
msg:    .ascii  "Hello from hemu (mips)\n"
msg_end:
