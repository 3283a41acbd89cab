/*
 * Every entry between assembly and C, declared once. The C side of an
 * entry runs on this CPU's kernel stack with the user (or guest) state in
 * the current EC's struct regs; the assembly side is in the .S file named.
 */
#ifndef ARCH_ENTRY_H
#define ARCH_ENTRY_H

#include "layout.h"
#include "types.h"

/* boot.S, trampoline.S: the boot CPU and the APs start C here */
NORETURN void kernel_main(u32 magic, u32 info);
NORETURN void ap_entry(void);
extern u64 boot_pml4[512], boot_pdpt_high[512], boot_pd[2048];
extern const u8 tramp_start[], tramp_end[];
extern u64 tramp_cr3, tramp_stack, tramp_entry, tramp_efer;

/* entry.S: traps, interrupts and system calls enter C ... */
extern const u64 entry_vectors[256]; /* the IDT's stubs */
void syscall_entry(void);            /* IA32_LSTAR */
NORETURN void trap_user(void);       /* from user mode: state in the current EC */
void trap_kernel(struct regs *r);    /* from the kernel (idle, post-exit window) */
NORETURN void trap_fatal(struct regs *r);
NORETURN void syscall_handler(void);
NORETURN void idle_loop(void);
/* ... and leave it */
NORETURN void ret_user_iret(struct regs *r);
NORETURN void ret_user_sysret(struct regs *r); /* RIP canonical (checked in C) */
NORETURN void cpu_continue(void (*fn)(void *), void *arg); /* fn(arg) on this CPU's empty kernel stack */
NORETURN void cpu_idle_on_kstack(void);

/* vmx/vmx_entry.S: VM entry, and the exit back into C */
void vmx_launch(struct regs *guest); /* return only on failure: then vmx_entry_failed */
void vmx_resume(struct regs *guest);
void vmx_exit_entry(void);           /* HOST_RIP */
NORETURN void vmx_exit_handler(void);
NORETURN void vmx_entry_failed(void);

/* svm/svm_entry.S: VMRUN, and #VMEXIT back into C */
void svm_enter(struct regs *guest);
NORETURN void svm_exit_handler(void);

#endif
