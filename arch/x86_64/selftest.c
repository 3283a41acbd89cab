/*
 * Self-tests for the boot tests, off unless the kernel command line has selftest=protections
 * (each access W^X, NX, a guard page, SMEP or SMAP forbids must fault; the boot goes on),
 * selftest=stack-overflow (CPU 0 overflows its kernel stack: a clear panic) or selftest=nmi
 * (each timer interrupt NMIs the other CPUs, whose user code must not notice).
 */
#include "kernel.h"
#include <arch/bootinfo.h>
#include <arch/cpu.h>
#include <arch/percpu.h>

u8 selftest_mode;
static bool probing;
static const char *const modes[] = { "", "protections", "stack-overflow", "nmi" };

/* Reads selftest=WHAT from the kernel command line. */
void selftest_init(void)
{
	for (const char *s = boot_info.cmdline; *s; s++)
		for (unsigned m = 1; m < ARRAY_SIZE(modes); m++) {
			size_t n = strlen(modes[m]);
			if (!strncmp(s, " selftest=", 10) && !strncmp(s + 10, modes[m], n) && (s[10 + n] | ' ') == ' ')
				selftest_mode = (u8)m;
		}
}

/* Frameless leaf functions: a fault in them (or, for exec, at the target)
 * has the caller's return address on top of the stack (selftest_fixup). */
static u64 probe_read(volatile u8 *p) { return *p & 0; }
static u64 probe_write(volatile u8 *p) { *p = *p; return 0; }
static u64 probe_exec(volatile u8 *p) { return ((u64(*)(void))p)(); }
static u8 ret0_in_data[] = { 0x31, 0xc0, 0xc3 }; /* xor %eax, %eax; ret */
static const u8 in_rodata[] = { 1 };

/* trap_kernel(): a page fault in a probe returns from it with the error code and bit 63. */
bool selftest_fixup(struct regs *r)
{
	if (r->vec != 14 || !probing)
		return false;
	r->rax = r->err | 1ul << 63;
	r->rip = *(u64 *)r->rsp;
	r->rsp += 8;
	return true;
}

/* Runs one forbidden access; it must take a page fault with error code err. */
static void expect_fault(const char *what, u64 (*fn)(volatile u8 *), const void *p, u64 err)
{
	u64 (*volatile f)(volatile u8 *) = fn;
	probing = true;
	u64 r = f((volatile u8 *)p);
	probing = false;
	printk("hypervisor: selftest: %s: %s (error %lx)\n", what,
	       r == (err | 1ul << 63) ? "caught" : r ? "WRONG FAULT" : "NOT CAUGHT", r & ~(1ul << 63));
}

static unsigned recurse(unsigned depth)
{
	volatile u8 frame[512];
	frame[0] = (u8)depth;
	return depth < 100000 ? recurse(depth + 1) + frame[0] : 0;
}

/* On CPU 0's first entry from user mode (so a user page is mapped at user_rip). */
void selftest_user(u64 user_rip)
{
	static bool done;
	u8 ret0_on_stack[] = { 0x31, 0xc0, 0xc3 };
	if (done || this_cpu()->id != 0)
		return;
	done = true;
	if (selftest_mode == SELFTEST_STACK)
		printk("hypervisor: selftest: kernel stack overflow: %u\n", recurse(0));
	if (selftest_mode != SELFTEST_PROTECTIONS)
		return;
	expect_fault("write to kernel text", probe_write, selftest_user, 3);
	expect_fault("write to kernel rodata", probe_write, in_rodata, 3);
	expect_fault("write to kernel text through the direct map", probe_write,
		     phys_to_virt(virt_to_phys(selftest_user)), 3);
	expect_fault("execute kernel data", probe_exec, ret0_in_data, 0x11);
	expect_fault("execute the kernel stack", probe_exec, ret0_on_stack, 0x11);
	expect_fault("execute the direct map", probe_exec, phys_to_virt(virt_to_phys(probe_read)), 0x11);
	expect_fault("read a stack guard page", probe_read, (void *)(KSTACK_TOP(0) - 0x4001), 0);
	if (cpu_prot.smep)
		expect_fault("execute user memory (SMEP)", probe_exec, (void *)user_rip, 0x11);
	if (cpu_prot.smap)
		expect_fault("read user memory (SMAP)", probe_read, (void *)user_rip, 1);
}
