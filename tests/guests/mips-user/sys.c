/* sys: Linux system calls through glibc, as a static o32 program — the
   MIPS flag values (O_CREAT, MAP_ANONYMOUS, ...), 64-bit arguments and
   arguments on the stack (mmap2's fd and offset), errno from the a3 flag,
   16-byte signal sets. Prints one line per check and "sys OK"; argv[1]
   is a scratch file path. Exit status: 0, or the failed check's line.
   Built (static glibc, not checked in) into target/guests/mips-user/. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                   \
    do {                                                           \
        if (!(c)) {                                                \
            printf("FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno); \
            return __LINE__ & 0xff;                                \
        }                                                          \
    } while (0)

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    /* `sys abort`: die of SIGABRT (glibc: rt_sigprocmask, tgkill). */
    if (strcmp(argv[1], "abort") == 0)
        abort();
    /* `sys divzero`: gcc's `teq divisor, zero, 7` raises SIGFPE (Linux's
       BRK_DIVZERO); `sys trap`: `break` raises SIGTRAP. */
    volatile int zero = argc - 2;
    if (strcmp(argv[1], "divzero") == 0)
        return 10 / zero;
    if (strcmp(argv[1], "trap") == 0)
        __builtin_trap();
    const char *path = argv[1];
    /* open(O_CREAT|O_TRUNC|O_WRONLY), write, close; reopen, read. */
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello, file\n", 12) == 12);
    CHECK(close(fd) == 0);
    char buf[64] = { 0 };
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(read(fd, buf, sizeof buf) == 12);
    CHECK(memcmp(buf, "hello, file\n", 12) == 0);
    /* lseek with a 64-bit offset (_llseek), pread (64-bit argument pair). */
    CHECK(lseek(fd, 7, SEEK_SET) == 7);
    CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "file", 4) == 0);
    CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 12 && S_ISREG(st.st_mode));
    /* mmap2 of the file: fd and offset are arguments 5 and 6, on the stack. */
    char *f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(f != MAP_FAILED && memcmp(f, "hello", 5) == 0);
    CHECK(munmap(f, 4096) == 0);
    CHECK(close(fd) == 0);
    /* O_EXCL on an existing file: EEXIST through the a3 error flag. */
    CHECK(open(path, O_CREAT | O_EXCL | O_WRONLY, 0644) < 0 && errno == EEXIST);
    CHECK(unlink(path) == 0 || errno == ENOSYS);
    /* Errors with MIPS errno numbers. */
    CHECK(open("/nonexistent/x", O_RDONLY) < 0 && errno == ENOENT);
    CHECK(close(12345) < 0 && errno == EBADF);
    /* Anonymous memory (MAP_ANONYMOUS is 0x800 on MIPS). */
    char *a = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED);
    a[0] = 1;
    a[(1 << 20) - 1] = 2;
    CHECK(munmap(a, 1 << 20) == 0);
    /* malloc of a large block (mmap) and many small ones (brk). */
    char *big = malloc(4 << 20);
    CHECK(big != NULL);
    memset(big, 7, 4 << 20);
    free(big);
    for (int i = 0; i < 1000; i++)
        CHECK(malloc(100) != NULL);
    /* Identity, time, limits. */
    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.machine, "mips") == 0);
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1600000000);
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur > 0);
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 3);
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL && cwd[0] == '/');
    /* Signal masks (16-byte sets on MIPS). */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
    CHECK(sigprocmask(SIG_SETMASK, NULL, &old) == 0 && sigismember(&old, SIGUSR1));
    CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
    CHECK(raise(SIGCHLD) == 0);
    printf("sys OK\n");
    return 0;
}
