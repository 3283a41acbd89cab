/*
 * System-call wrappers: one static inline function per call of
 * <hv/abi.h>, with the exact register bindings of the kernel ABI:
 *
 *   RAX = number (in) / status (out); arguments RDI RSI RDX R10 R8 R9;
 *   RCX and R11 are clobbered by `syscall`; RSI by every call: it holds a
 *   result (call: reply tag, lookup: item, sc_ctrl: time) or, on failure,
 *   the argument the kernel blames (enum hv_arg). Every other register is
 *   preserved unless the call returns a value in it. Every wrapper has a
 *   "memory" clobber because the kernel reads and writes the UTCB behind
 *   the compiler's back.
 */
#ifndef HV_SYSCALL_H
#define HV_SYSCALL_H

#include <hv/abi.h>

#define HV_NORETURN __attribute__((noreturn))

/* Raw forms, by argument count. */
static inline hv_status_t hv_syscall0(hv_word_t nr)
{
	hv_word_t rax = nr;
	__asm__ volatile("syscall"
			 : "+a"(rax)
			 :
			 : "rcx", "rsi", "r11", "memory");
	return (hv_status_t)rax;
}

static inline hv_status_t hv_syscall2(hv_word_t nr, hv_word_t a0, hv_word_t a1)
{
	hv_word_t rax = nr;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(a1)
			 : "D"(a0)
			 : "rcx", "r11", "memory");
	return (hv_status_t)rax;
}

static inline hv_status_t hv_syscall3(hv_word_t nr, hv_word_t a0, hv_word_t a1,
				      hv_word_t a2)
{
	hv_word_t rax = nr;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(a1)
			 : "D"(a0), "d"(a2)
			 : "rcx", "r11", "memory");
	return (hv_status_t)rax;
}

static inline hv_status_t hv_syscall4(hv_word_t nr, hv_word_t a0, hv_word_t a1,
				      hv_word_t a2, hv_word_t a3)
{
	hv_word_t rax = nr;
	register hv_word_t r10 __asm__("r10") = a3;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(a1)
			 : "D"(a0), "d"(a2), "r"(r10)
			 : "rcx", "r11", "memory");
	return (hv_status_t)rax;
}

static inline hv_status_t hv_syscall5(hv_word_t nr, hv_word_t a0, hv_word_t a1,
				      hv_word_t a2, hv_word_t a3, hv_word_t a4)
{
	hv_word_t rax = nr;
	register hv_word_t r10 __asm__("r10") = a3;
	register hv_word_t r8 __asm__("r8") = a4;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(a1)
			 : "D"(a0), "d"(a2), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return (hv_status_t)rax;
}

/* All six arguments; *rsi receives RSI afterwards: on failure the argument
 * the kernel blames (enum hv_arg). */
static inline hv_status_t hv_syscall6r(hv_word_t nr, hv_word_t a0, hv_word_t a1,
				       hv_word_t a2, hv_word_t a3, hv_word_t a4,
				       hv_word_t a5, hv_word_t *rsi)
{
	hv_word_t rax = nr;
	register hv_word_t r10 __asm__("r10") = a3;
	register hv_word_t r8 __asm__("r8") = a4;
	register hv_word_t r9 __asm__("r9") = a5;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(a1)
			 : "D"(a0), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	*rsi = a1;
	return (hv_status_t)rax;
}

static inline hv_status_t hv_syscall6(hv_word_t nr, hv_word_t a0, hv_word_t a1,
				      hv_word_t a2, hv_word_t a3, hv_word_t a4,
				      hv_word_t a5)
{
	hv_word_t rsi;
	return hv_syscall6r(nr, a0, a1, a2, a3, a4, a5, &rsi);
}

/* ---- IPC ------------------------------------------------------------------ */

/* Call portal `pt` with message tag `tag` (words in the caller's UTCB mr[]).
 * On HV_OK the reply words are in the same UTCB and *reply_tag (if not
 * NULL) receives the reply tag. */
static inline hv_status_t hv_call(hv_sel_t pt, hv_word_t tag, hv_word_t *reply_tag)
{
	hv_word_t rax = HV_SYS_CALL;
	hv_word_t rsi = tag;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(rsi)
			 : "D"(pt)
			 : "rcx", "r11", "memory");
	if (reply_tag)
		*reply_tag = rsi;
	return (hv_status_t)rax;
}

/* Reply from a portal handler (words in the handler's own UTCB mr[]).
 * Never returns: the handler EC starts afresh at the portal's entry IP on
 * the next call. */
static inline HV_NORETURN void hv_reply(hv_word_t tag)
{
	__asm__ volatile("syscall"
			 :
			 : "a"((hv_word_t)HV_SYS_REPLY), "D"(tag)
			 : "rcx", "r11", "memory");
	__builtin_unreachable();
}

/* ---- Object creation ------------------------------------------------------ */

/* A PD whose SCs run at most at max_prio, whose ECs run on the CPUs in
 * `cpus` (bit n: CPU n); neither above the caller's own (hv_pd_limits). */
static inline hv_status_t hv_create_pd(hv_sel_t dst, hv_sel_t parent_pd,
				       hv_word_t kmem_quota, unsigned max_prio,
				       hv_word_t cpus)
{
	return hv_syscall6(HV_SYS_CREATE_PD, dst, parent_pd, kmem_quota, 0,
			   max_prio, cpus);
}

/* A VM PD: it has a guest-physical space (HV_KIND_GMEM) and runs vCPUs. */
static inline hv_status_t hv_create_vm(hv_sel_t dst, hv_sel_t parent_pd,
				       hv_word_t kmem_quota, unsigned max_prio,
				       hv_word_t cpus)
{
	return hv_syscall6(HV_SYS_CREATE_PD, dst, parent_pd, kmem_quota,
			   HV_PD_VM, max_prio, cpus);
}

/* A vCPU of VM PD `vm` on `cpu`; its VM exits call the portals at
 * evt_base + exit reason in the VM PD's capability space. */
static inline hv_status_t hv_create_vcpu(hv_sel_t dst, hv_sel_t vm, unsigned cpu,
					 hv_sel_t evt_base)
{
	return hv_syscall6(HV_SYS_CREATE_EC, dst, vm,
			   HV_EC_FLAGS(cpu, 1, evt_base) | HV_EC_VCPU, 0, 0, 0);
}

/* flags: HV_EC_FLAGS(cpu, global, evt_base). A global EC starts at ip with
 * RSP = sp once it has an SC; a local EC (handler) starts at the entry IP
 * of the portal it is called through, with RSP = sp. */
static inline hv_status_t hv_create_ec(hv_sel_t dst, hv_sel_t pd, hv_word_t flags,
				       hv_word_t utcb, hv_word_t sp, hv_word_t ip)
{
	return hv_syscall6(HV_SYS_CREATE_EC, dst, pd, flags, utcb, sp, ip);
}

/* qos: HV_QOS(prio, quantum_us) */
static inline hv_status_t hv_create_sc(hv_sel_t dst, hv_sel_t pd, hv_sel_t ec,
				       hv_word_t qos)
{
	return hv_syscall4(HV_SYS_CREATE_SC, dst, pd, ec, qos);
}

/* A portal to local EC `ec`; handlers get `id` in RDI on every call. */
static inline hv_status_t hv_create_pt(hv_sel_t dst, hv_sel_t pd, hv_sel_t ec,
				       hv_word_t mtd, hv_word_t ip, hv_word_t id)
{
	return hv_syscall6(HV_SYS_CREATE_PT, dst, pd, ec, mtd, ip, id);
}

static inline hv_status_t hv_create_sm(hv_sel_t dst, hv_sel_t pd, hv_word_t count)
{
	return hv_syscall3(HV_SYS_CREATE_SM, dst, pd, count);
}

/* ---- Capability management ------------------------------------------------ */

/* item: HV_ITEM(kind, rights, order); src/dst are bases in the source and
 * destination spaces (selectors, byte addresses or ports). */
static inline hv_status_t hv_delegate(hv_sel_t src_pd, hv_sel_t dst_pd, hv_word_t item,
				      hv_word_t src, hv_word_t dst)
{
	return hv_syscall5(HV_SYS_DELEGATE, src_pd, dst_pd, item, src, dst);
}

/* item: HV_ITEM(kind, rights, order) [| HV_REVOKE_SELF]. RDX starts at 0:
 * a long revoke restarts itself with its progress there. */
static inline hv_status_t hv_revoke(hv_word_t item, hv_word_t base)
{
	hv_word_t rax = HV_SYS_REVOKE, rdx = 0;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+d"(rdx), "+S"(base)
			 : "D"(item)
			 : "rcx", "r11", "memory");
	return (hv_status_t)rax;
}

/* *item (if not NULL) receives the item descriptor: kind, rights, order and
 * (HV_KIND_OBJ) the object type, HV_ITEM_TYPE(). (The kernel also returns
 * the node's base in RDX, hence the clobber.) */
static inline hv_status_t hv_lookup(unsigned kind, hv_word_t base, hv_word_t *item)
{
	hv_word_t rax = HV_SYS_LOOKUP;
	hv_word_t rsi = base;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(rsi)
			 : "D"((hv_word_t)kind)
			 : "rcx", "rdx", "r11", "memory");
	if (item)
		*item = rsi;
	return (hv_status_t)rax;
}

/* ---- Semaphores ----------------------------------------------------------- */

static inline hv_status_t hv_sm_ctrl(hv_sel_t sm, unsigned op)
{
	return hv_syscall3(HV_SYS_SM_CTRL, sm, op, 0);
}

/* Down with a deadline (absolute TSC value): HV_ETIMEOUT once it passes. */
static inline hv_status_t hv_sm_down_until(hv_sel_t sm, hv_word_t tsc_deadline)
{
	return hv_syscall3(HV_SYS_SM_CTRL, sm, HV_SM_DOWN, tsc_deadline);
}

static inline hv_status_t hv_sm_up(hv_sel_t sm)
{
	return hv_sm_ctrl(sm, HV_SM_UP);
}

static inline hv_status_t hv_sm_down(hv_sel_t sm)
{
	return hv_sm_ctrl(sm, HV_SM_DOWN);
}

static inline hv_status_t hv_sm_trydown(hv_sel_t sm)
{
	return hv_sm_ctrl(sm, HV_SM_TRYDOWN);
}

/* ---- Protection domains ----------------------------------------------------- */

/* Kernel memory of PD `pd` (needs HV_R_PD_CREATE): bytes of its quota used
 * and its limit, and the pages free in the kernel's whole pool. */
static inline hv_status_t hv_pd_kmem(hv_sel_t pd, hv_word_t *used, hv_word_t *limit, hv_word_t *free_pages)
{
	hv_word_t rax = HV_SYS_PD_CTRL;
	hv_word_t rsi = HV_PD_KMEM, rdx = 0;
	register hv_word_t r8 __asm__("r8") = 0;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(rsi), "+d"(rdx), "+r"(r8)
			 : "D"(pd)
			 : "rcx", "r11", "memory");
	if (used)
		*used = rsi;
	if (limit)
		*limit = rdx;
	if (free_pages)
		*free_pages = r8;
	return (hv_status_t)rax;
}

/* The scheduling limits of PD `pd` (needs HV_R_PD_CREATE): the highest
 * priority of its SCs and the mask of the CPUs its ECs may run on. */
static inline hv_status_t hv_pd_limits(hv_sel_t pd, unsigned *max_prio, hv_word_t *cpus)
{
	hv_word_t rax = HV_SYS_PD_CTRL;
	hv_word_t rsi = HV_PD_LIMITS, rdx = 0;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(rsi), "+d"(rdx)
			 : "D"(pd)
			 : "rcx", "r11", "memory");
	if (max_prio)
		*max_prio = (unsigned)rsi;
	if (cpus)
		*cpus = rdx;
	return (hv_status_t)rax;
}

/* ---- Scheduling contexts, ECs, interrupts ---------------------------------- */

/* *ticks (if not NULL) receives the TSC ticks consumed by SC `sc`. */
static inline hv_status_t hv_sc_time(hv_sel_t sc, hv_word_t *ticks)
{
	hv_word_t rax = HV_SYS_SC_CTRL;
	hv_word_t rsi = 0;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(rsi)
			 : "D"(sc)
			 : "rcx", "r11", "memory");
	if (ticks)
		*ticks = rsi;
	return (hv_status_t)rax;
}

static inline hv_status_t hv_ec_ctrl(hv_sel_t ec, unsigned op)
{
	return hv_syscall2(HV_SYS_EC_CTRL, ec, op);
}

static inline hv_status_t hv_ec_recall(hv_sel_t ec)
{
	return hv_ec_ctrl(ec, HV_EC_RECALL);
}

/* Route the GSI behind semaphore `irq_sm` to `cpu` with HV_IRQ_* flags
 * (without HV_IRQ_MASK this also unmasks / re-arms the line). */
static inline hv_status_t hv_irq_ctrl(hv_sel_t irq_sm, unsigned cpu, unsigned flags)
{
	return hv_syscall3(HV_SYS_IRQ_CTRL, irq_sm, cpu, flags);
}

/* Route MSI semaphore `msi_sm` (HV_SEL_MSI_BASE + n) to `cpu`, unmasked
 * (flags 0) or masked (HV_IRQ_MASK); *addr and *data receive the MSI
 * address and data the device must send. */
static inline hv_status_t hv_irq_msi(hv_sel_t msi_sm, unsigned cpu, unsigned flags, hv_word_t *addr,
				     hv_word_t *data)
{
	hv_word_t rax = HV_SYS_IRQ_CTRL, rsi = cpu, rdx = flags;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(rsi), "+d"(rdx)
			 : "D"(msi_sm)
			 : "rcx", "r11", "memory");
	*addr = rsi;
	*data = rdx;
	return (hv_status_t)rax;
}

/* Assign (HV_DEV_ASSIGN) the PCI function `bdf` to PD `pd` or block it
 * again (HV_DEV_RELEASE); `authority` needs HV_R_PD_DEV (the roottask's
 * HV_SEL_PD). */
static inline hv_status_t hv_assign_dev(hv_sel_t authority, hv_sel_t pd, hv_word_t bdf, unsigned op)
{
	return hv_syscall4(HV_SYS_ASSIGN_DEV, authority, pd, bdf, op);
}

static inline hv_status_t hv_null(void)
{
	return hv_syscall0(HV_SYS_NULL);
}

/* Short name of a status code ("HV_OK", "HV_ECAP", ...; "HV_E?" if unknown). */
const char *hv_status_str(hv_status_t s);

#endif
