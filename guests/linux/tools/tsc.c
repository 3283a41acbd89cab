// SPDX-License-Identifier: MIT
/*
 * tsc: print the CPU's time-stamp counter in decimal and exit.
 *
 * A static, freestanding x86-64 Linux program without a C library, so that
 * it costs a handful of instructions and works in any initramfs:
 *
 *   tsc          prints rdtsc, e.g. "123456789\n"
 *   tsc START    prints rdtsc - START (START in decimal), for a quick delta
 *   tsc mark N   writes N (decimal, 32 bits) to port 0x5f0, the VMM's exit
 *                profile port (vmm/profile.h: 0 starts an interval, N > 0
 *                prints the exits since the last mark as "vmm: profile N:");
 *                prints nothing; on a bare machine nothing listens there
 *
 * Under Bochs with "clock: sync=none" the TSC counts executed instructions,
 * which makes these numbers deterministic benchmark ticks.
 */
#include <stdint.h>
#include <stddef.h>

#define SYS_write 1
#define SYS_exit_group 231
#define SYS_ioperm 173
#define PROFILE_PORT 0x5f0

/* The kernel enters at _start with argc at (%rsp) and argv after it. */
__asm__(".text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call tsc_main\n"
	"	ud2\n");

void tsc_main(const long *sp) __attribute__((noreturn, used));

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	/* lfence: earlier instructions retire before the counter is read */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* parse a decimal number; false if s is empty or holds anything else */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 1;
}

static void put(const char *s, size_t n)
{
	while (n) {
		long r = sys3(SYS_write, 1, (long)s, (long)n);

		if (r <= 0)
			return;
		s += r;
		n -= (size_t)r;
	}
}

void tsc_main(const long *sp)
{
	uint64_t now = rdtsc(), start;
	long argc = sp[0];
	const char *const *argv = (const char *const *)(sp + 1);
	char buf[24];
	char *p = buf + sizeof(buf);

	if (argc == 3 && argv[1][0] == 'm' && argv[1][1] == 'a' && argv[1][2] == 'r' && argv[1][3] == 'k' &&
	    !argv[1][4] && parse_u64(argv[2], &start) && start <= 0xffffffffu) {
		if (sys3(SYS_ioperm, PROFILE_PORT, 4, 1) != 0)
			sys3(SYS_exit_group, 1, 0, 0);
		__asm__ volatile("outl %0, %1" : : "a"((uint32_t)start), "Nd"((uint16_t)PROFILE_PORT));
		sys3(SYS_exit_group, 0, 0, 0);
		__builtin_unreachable();
	}
	if (argc > 1) {
		if (argc > 2 || !parse_u64(argv[1], &start)) {
			static const char usage[] = "usage: tsc [START] | tsc mark N\n";

			sys3(SYS_write, 2, (long)usage, sizeof(usage) - 1);
			sys3(SYS_exit_group, 2, 0, 0);
			__builtin_unreachable();
		}
		now -= start;
	}
	*--p = '\n';
	do {
		*--p = (char)('0' + now % 10);
		now /= 10;
	} while (now);
	put(p, (size_t)(buf + sizeof(buf) - p));
	sys3(SYS_exit_group, 0, 0, 0);
	__builtin_unreachable();
}
