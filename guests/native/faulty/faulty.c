/*
 * A deliberately faulting domain, for the containment tests. Its argument
 * says how it dies: "ptr" (bad pointer), "div0" (divide by zero), "priv"
 * (privileged instruction), "ud" (invalid opcode), "kernel" (reads kernel
 * memory), "std" (invalid opcode with RFLAGS.DF set: the kernel must not
 * run with it), "sgdt" (needs UMIP to fault), "sysenter" (#GP or #UD).
 * The roottask's exception portal reports and stops it; nothing else in
 * the system may notice. "hog" instead tries to take more CPU than its
 * configuration grants (see hog()), then spins at its own priority.
 */
#include <hv/console.h>
#include <hv/runtime.h>
#include <stdio.h>
#include <string.h>

static void spin(void *arg)
{
	(void)arg;
	for (;;)
		__asm__ volatile("pause");
}

/*
 * Asks for a thread spinning at the highest priority on its own CPU (it
 * would starve everything else there), a thread on a CPU outside its mask
 * and a child PD with the highest priority, says what the kernel answered
 * to each, and spins at its own priority.
 */
static HV_NORETURN void hog(const struct hv_startinfo *si)
{
	unsigned cpu = (unsigned)si->cpu, other = 0, prio = 0;
	hv_word_t cpus = 0;
	hv_status_t st = hv_pd_limits(HV_SI_SEL_PD, &prio, &cpus);

	while (other < si->num_cpus && ((cpus >> other) & 1))
		other++;
	printf("faulty: hog on CPU %u: limits priority %u, CPUs 0x%lx (%s)\n", cpu, prio, cpus, hv_status_str(st));
	cons_flush();
	st = hv_thread_create(cpu, spin, NULL, HV_QOS(HV_PRIO_MAX, 0), NULL, NULL);
	printf("faulty: hog: a spinning thread at priority %u on CPU %u: %s\n", HV_PRIO_MAX, cpu, hv_status_str(st));
	if (other < si->num_cpus) {
		st = hv_thread_create(other, spin, NULL, HV_QOS(prio, 0), NULL, NULL);
		printf("faulty: hog: a thread on CPU %u: %s\n", other, hv_status_str(st));
	}
	st = hv_create_pd(hv_sel_alloc(), HV_SI_SEL_PD, 16 << 10, HV_PRIO_MAX, cpus);
	printf("faulty: hog: a child PD with priority %u: %s\n", HV_PRIO_MAX, hv_status_str(st));
	printf("faulty: hog: done\n");
	cons_flush();
	spin(NULL);
	__builtin_unreachable();
}

int main(const struct hv_startinfo *si)
{
	const char *how = si->args;
	if (!strcmp(how, "hog"))
		hog(si);
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
	} else if (!strcmp(how, "std")) {
		__asm__ volatile("std; ud2");
	} else if (!strcmp(how, "sgdt")) {
		unsigned char gdtr[10];
		__asm__ volatile("sgdt %0" : "=m"(gdtr));
	} else if (!strcmp(how, "sysenter")) {
		__asm__ volatile("sysenter");
	} else if (!strcmp(how, "kernel")) {
		volatile unsigned long *k = (volatile unsigned long *)0xffffffff80100000ul;
		(void)*k;
	}
	printf("faulty: ERROR: still running after '%s'\n", how);
	return 1;
}
