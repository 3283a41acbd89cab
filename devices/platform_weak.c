/*
 * Weak placeholders for the platform.h callbacks, so the VMM links while
 * the PC models are not yet wired in. The VMM's own definitions replace
 * these; once it defines them all, this file can go.
 */
#include "platform.h"

#define WEAK __attribute__((weak))

WEAK uint64_t vm_clock_ns(void) { return 0; }
WEAK uint64_t vm_tsc_to_ns(uint64_t tsc) { return tsc; }
WEAK uint64_t vm_ns_to_tsc(uint64_t ns) { return ns; }
WEAK void vm_irq_set(unsigned gsi, bool level) { (void)gsi; (void)level; }
WEAK void vm_apic_send(const struct apic_msg *msg) { (void)msg; }
WEAK void vm_apic_eoi(uint8_t vector) { (void)vector; }
WEAK void vm_pic_intr(bool level) { (void)level; }
WEAK void vm_request_reset(void) {}
WEAK void vm_request_poweroff(void) {}
