/*
 * A deliberately faulting domain, for the containment tests. Its argument
 * says how it dies: "ptr" (bad pointer), "div0" (divide by zero), "priv"
 * (privileged instruction), "ud" (invalid opcode), "kernel" (reads kernel
 * memory), "df" (invalid opcode with the direction flag set: the kernel
 * must not run its string instructions backwards). The roottask's exception portal reports and stops it; nothing
 * else in the system may notice.
 */
#include <hv/console.h>
#include <hv/runtime.h>
#include <stdio.h>
#include <string.h>

int main(const struct hv_startinfo *si)
{
	const char *how = si->args;
	printf("faulty: about to fault (%s)\n", how);
	cons_flush();
	if (!strcmp(how, "ptr")) {
		volatile int *p = (volatile int *)0xdead0000ul;
		*p = 1;
	} else if (!strcmp(how, "div0")) {
		unsigned long q = 1, d = 0;
		__asm__ volatile("xor %%edx, %%edx; div %1" : "+a"(q) : "r"(d) : "rdx");
	} else if (!strcmp(how, "priv")) {
		__asm__ volatile("cli; hlt");
	} else if (!strcmp(how, "ud")) {
		__asm__ volatile("ud2");
	} else if (!strcmp(how, "df")) {
		__asm__ volatile("std; ud2; cld");
	} else if (!strcmp(how, "kernel")) {
		volatile unsigned long *k = (volatile unsigned long *)0xffffffff80100000ul;
		(void)*k;
	}
	printf("faulty: ERROR: still running after '%s'\n", how);
	return 1;
}
