/*
 * Domain runtime: start info, roottask protocol, selector / address / heap
 * allocators, threads and portal handlers, per-thread state.
 *
 * Per-thread state ("TLS") lives at the top of the thread's stack. Stacks
 * made by this library are HV_STACK_SIZE bytes, aligned to HV_STACK_SIZE,
 * so hv_tls() finds the block by rounding RSP up; the main thread (the one
 * that ran _start) is recognised by its stack range and uses a static
 * block. Consequently:
 *   - every thread and handler EC must be created with hv_thread_create()
 *     or hv_handler_create() (or lay out its stack the same way), and
 *   - no thread may use more than HV_STACK_SIZE - sizeof(struct hv_tls)
 *     bytes of stack (there is no guard page).
 * hv_utcb() is thus always the calling EC's own UTCB; nothing has to be
 * set up per thread.
 *
 * Portals are CPU-local: HV_SI_SEL_ROOT (and HV_SI_SEL_CONSOLE) lead to the
 * main EC's CPU, so hv_exit() works only there (elsewhere it just blocks);
 * console output from other CPUs uses the "console" service entry if the
 * start info lists one, and is dropped otherwise.
 *
 * The roottask (no start info: hv_si() is NULL) calls hv_alloc_init()
 * and cons_set_portal() itself; hv_service/hv_register_service/hv_exit
 * are for domains.
 */
#ifndef HV_RUNTIME_H
#define HV_RUNTIME_H

#include <stddef.h>
#include <hv/abi.h>
#include <hv/startinfo.h>
#include <hv/syscall.h>

#define HV_STACK_SIZE 0x4000ul          /* per thread / handler; power of two */
#define HV_SEL_NONE ((hv_sel_t)~0ul)    /* "no selector" (allocation failed) */
#define HV_THREAD_QOS_DEFAULT HV_QOS(10, 0) /* the roottask's default domain priority */

struct hv_tls {
	struct hv_utcb *utcb; /* this EC's UTCB */
	hv_sel_t ec;          /* this EC's selector (HV_SI_SEL_EC for main) */
	hv_sel_t sc;          /* its SC, HV_SEL_NONE for handlers */
	unsigned cpu;         /* CPU it was created on */
	void (*entry)(void *);/* thread function (global ECs) */
	void *arg;
	unsigned cons_len;    /* console line buffer (lib/console.c) */
	unsigned cons_open;   /* last byte sent was not '\n' */
	char cons_buf[HV_CONS_MAX];
};

/* Set by _start; the main thread's TLS block and stack bounds. */
extern struct hv_tls hv_main_tls;
extern hv_word_t hv_main_stack_lo;

static inline struct hv_tls *hv_tls(void)
{
	hv_word_t sp;
	__asm__("mov %%rsp, %0" : "=r"(sp));
	if (sp - hv_main_stack_lo < HV_SI_STACK_SIZE)
		return &hv_main_tls;
	return (struct hv_tls *)((sp | (HV_STACK_SIZE - 1)) + 1) - 1;
}

/* The calling EC's UTCB. */
static inline struct hv_utcb *hv_utcb(void)
{
	return hv_tls()->utcb;
}

/* ---- Start info ----------------------------------------------------------- */

/* The program's main function, called by _start with the start info (RDI
 * as the creator passed it); its return value goes to hv_exit(). */
int main(const struct hv_startinfo *si);

/* The start info, or NULL if the program was not started with one (the
 * roottask gets the HIP at the same address instead). */
const struct hv_startinfo *hv_si(void);

/* Called by _start before main(); sets up allocators from the start info. */
void hv_runtime_init(const void *si);

/* Portal selector of service `name` for CPU `cpu`: HV_OK, HV_ECAP (no such
 * service) or HV_ECPU (the service has no handler for that CPU). */
hv_status_t hv_service(const char *name, unsigned cpu, hv_sel_t *out);

/* ---- Roottask protocol ------------------------------------------------------ */

/* Register service `name` (1..HV_SI_NAME-1 characters) whose handlers are
 * the local ECs handler_ecs[0..n-1] (CPU c = handler_ecs[c], 1 <= n <= 64)
 * entered at entry_ip (HV_ROOT_REGISTER, <hv/startinfo.h>). Returns the
 * call status or the roottask's reply status. */
hv_status_t hv_register_service(const char *name, hv_word_t entry_ip,
				const hv_sel_t *handler_ecs, unsigned n);

/* Flush console output, report `code` to the roottask and stop. */
HV_NORETURN void hv_exit(int code);

/* Block the calling thread forever (on a private semaphore with count 0). */
HV_NORETURN void hv_block_forever(void);

/* The time-stamp counter (ticks of the HIP's / start info's tsc_khz). */
static inline hv_word_t hv_rdtsc(void)
{
	unsigned lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((hv_word_t)hi << 32) | lo;
}

/* Blocks the calling thread until the TSC reaches `deadline` (a down with
 * a deadline on a semaphore nobody ups). */
hv_status_t hv_sleep_until(hv_word_t deadline);

/* ---- Allocators (thread safe; nothing is ever freed) ------------------------ */

/* For programs without start info (roottask): set the allocator ranges. */
void hv_alloc_init(hv_sel_t first_sel, hv_word_t first_va, hv_word_t heap_base,
		   hv_word_t heap_size);

/* One free selector, or HV_SEL_NONE. */
hv_sel_t hv_sel_alloc(void);
/* 2^order consecutive selectors aligned to 2^order, or HV_SEL_NONE. */
hv_sel_t hv_sel_alloc_order(unsigned order);
/* `size` bytes (rounded up to pages) of unmapped, page-aligned virtual
 * address space from HV_SI_FREE_VA upward; 0 if exhausted. */
hv_word_t hv_va_alloc(hv_word_t size);
/* `size` bytes of the (mapped RW) heap aligned to `align` (a power of two,
 * 0 = 16); NULL if exhausted. Not zeroed beyond what the roottask gave. */
void *hv_heap_alloc(hv_word_t size, hv_word_t align);

/* ---- Threads and portal handlers ------------------------------------------ */

/* A new global EC on `cpu` with its own SC (qos, e.g. HV_THREAD_QOS_DEFAULT)
 * that runs entry(arg); if entry returns the thread blocks forever.
 * ec_sel / sc_sel (may be NULL) receive the selectors. */
hv_status_t hv_thread_create(unsigned cpu, void (*entry)(void *), void *arg,
			     hv_word_t qos, hv_sel_t *ec_sel, hv_sel_t *sc_sel);
/* The same with its exception portals at evt_base + vector (e.g.
 * HV_SI_SEL_EVT_MAIN on the main EC's CPU: a fault then ends the domain). */
hv_status_t hv_thread_create_evt(unsigned cpu, hv_sel_t evt_base, void (*entry)(void *), void *arg,
				 hv_word_t qos, hv_sel_t *ec_sel, hv_sel_t *sc_sel);

/* A new local EC on `cpu` to serve portals: its own stack and UTCB, event
 * base HV_SI_SEL_EVT(cpu). *ec_sel receives its selector. Use with
 * HV_PORTAL_ENTRY() for the entry IP. */
hv_status_t hv_handler_create(unsigned cpu, hv_sel_t *ec_sel);

/* The same with its exception portals at evt_base + vector instead (on
 * `cpu`: events are CPU-local), e.g. into a fault handler of the domain's
 * own. *sp (may be NULL) receives the stack pointer it starts every call
 * with, where a fault handler can send it to start over. */
hv_status_t hv_handler_create_evt(unsigned cpu, hv_sel_t evt_base, hv_sel_t *ec_sel, hv_word_t *sp);

/*
 * HV_PORTAL_ENTRY(stub, fn) defines the assembly entry point `stub` for
 * portal handlers and declares
 *     hv_word_t fn(hv_word_t portal_id, hv_word_t tag);
 * which must be defined as a global (non-static) function. `stub` aligns
 * the stack, calls fn(id, tag) (request words in hv_utcb()->mr[]) and
 * replies with the tag fn returns (reply words in hv_utcb()->mr[]).
 * Register (hv_word_t)stub as the entry IP.
 * Note: a handler that calls printf() or any other portal overwrites its
 * UTCB; read the request first.
 */
#define HV_PORTAL_ENTRY(stub, fn)                                            \
	hv_word_t fn(hv_word_t portal_id, hv_word_t tag);                    \
	void stub(void);                                                     \
	__asm__(".pushsection .text\n"                                       \
		".globl " #stub "\n"                                         \
		".type " #stub ", @function\n"                               \
		".p2align 4\n" #stub ":\n"                                   \
		"\txor %ebp, %ebp\n"                                         \
		"\tand $-16, %rsp\n"                                         \
		"\tcall " #fn "\n"                                           \
		"\tmov %rax, %rdi\n"                                         \
		"\tmov $1, %eax\n" /* HV_SYS_REPLY */                        \
		"\tsyscall\n"                                                \
		"\tud2\n"                                                    \
		".size " #stub ", . - " #stub "\n"                           \
		".popsection")
_Static_assert(HV_SYS_REPLY == 1, "HV_PORTAL_ENTRY hard-codes HV_SYS_REPLY");

#endif
