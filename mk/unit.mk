# Host unit tests: cmocka programs built with AddressSanitizer and UBSan.
# Included by the top-level Makefile (which defines BUILD); standalone:
#     make -f mk/unit.mk BUILD=build unit
#
# `make unit` builds every test in UNIT_TESTS into $(BUILD)/unit/, runs them
# all, and ends with the line "unit: N passed, N failed" (summed over all
# test programs); it fails if any test failed or any program crashed.
#
# Adding a test: write tests/unit/test_foo.c (include "unit.h", end main()
# with `return cmocka_run_group_tests(tests, NULL, NULL);`), then add here:
#     UNIT_TESTS += test_foo
#     UNIT_SRCS_test_foo := hypervisor/foo.c        # code under test
#     UNIT_CFLAGS_test_foo := -Ihypervisor/include  # optional extra flags
#     UNIT_DEPS_test_foo := files it reads at run time (optional, built first)
#     UNIT_LDLIBS_test_foo := -lfoo                 # optional extra libraries
# Tests run from the top of the tree.

BUILD ?= build
UNIT_DIR := $(BUILD)/unit
UNIT_CC ?= cc
# lib/include comes after the system headers so that runtime-library
# headers there (stdio.h, string.h, ...) never replace the host's.
UNIT_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Ihypervisor/include/uapi -Iservers/roottask -Itests/unit \
	-idirafter lib/include
UNIT_LDFLAGS := -fsanitize=address,undefined
UNIT_LDLIBS := -lcmocka

UNIT_TESTS += test_config
UNIT_SRCS_test_config := servers/roottask/config.c servers/roottask/config_keys.c

UNIT_TESTS += test_config_errors
UNIT_SRCS_test_config_errors := servers/roottask/config.c \
	servers/roottask/config_keys.c

UNIT_TESTS += test_config_dev
UNIT_SRCS_test_config_dev := servers/roottask/config.c \
	servers/roottask/config_keys.c

UNIT_TESTS += test_config_link
UNIT_SRCS_test_config_link := servers/roottask/config.c \
	servers/roottask/config_keys.c

UNIT_TESTS += test_pcicfg
UNIT_SRCS_test_pcicfg := servers/roottask/pcicfg.c

UNIT_TESTS += test_elf
UNIT_SRCS_test_elf := servers/roottask/elf.c
UNIT_CFLAGS_test_elf := -DUNIT_FIXTURES='"$(UNIT_DIR)/fixtures"'
UNIT_DEPS_test_elf := $(UNIT_DIR)/fixtures/tiny.elf \
	$(UNIT_DIR)/fixtures/tiny-nosep.elf

UNIT_TESTS += test_ralloc
UNIT_SRCS_test_ralloc := servers/roottask/ralloc.c

UNIT_TESTS += test_mdb
UNIT_SRCS_test_mdb := hypervisor/mdb.c
UNIT_CFLAGS_test_mdb := -iquote hypervisor/include

UNIT_TESTS += test_kmem
UNIT_SRCS_test_kmem := hypervisor/kmem.c hypervisor/mdb.c
UNIT_CFLAGS_test_kmem := -iquote hypervisor/include

UNIT_TESTS += test_memory
UNIT_SRCS_test_memory := hypervisor/memory.c
UNIT_CFLAGS_test_memory := -iquote hypervisor/include -Iarch/x86_64/include

UNIT_TESTS += test_xcr0
UNIT_SRCS_test_xcr0 := arch/x86_64/xcr0.c
UNIT_CFLAGS_test_xcr0 := -iquote hypervisor/include -Iarch/x86_64/include

UNIT_TESTS += test_vtd
UNIT_SRCS_test_vtd := arch/x86_64/vtd.c
UNIT_CFLAGS_test_vtd := -iquote hypervisor/include -Iarch/x86_64/include

UNIT_TESTS += test_svm_translate
UNIT_SRCS_test_svm_translate := arch/x86_64/svm/translate.c
UNIT_CFLAGS_test_svm_translate := -iquote hypervisor/include -Iarch/x86_64/include

UNIT_TESTS += test_decode
UNIT_SRCS_test_decode := vmm/x86/decode.c
UNIT_CFLAGS_test_decode := -Ivmm/x86
UNIT_LDLIBS_test_decode := -lcapstone

UNIT_TESTS += test_emulate
UNIT_SRCS_test_emulate := vmm/x86/decode.c vmm/x86/emulate.c
UNIT_CFLAGS_test_emulate := -Ivmm/x86

# also runs acpica-tools' iasl and acpiexec on the tables (scripts/deps test)
UNIT_TESTS += test_acpi
UNIT_SRCS_test_acpi := vmm/acpi.c
UNIT_CFLAGS_test_acpi := -Ivmm -Idevices -DUNIT_OUT='"$(UNIT_DIR)/acpi"'

UNIT_TESTS += test_lapic
UNIT_SRCS_test_lapic := devices/lapic.c

UNIT_TESTS += test_ioapic
UNIT_SRCS_test_ioapic := devices/ioapic.c

UNIT_TESTS += test_apic_system
UNIT_SRCS_test_apic_system := devices/lapic.c devices/ioapic.c

UNIT_TESTS += test_pic
UNIT_SRCS_test_pic := devices/pic8259.c

UNIT_TESTS += test_pit
UNIT_SRCS_test_pit := devices/pit8254.c

UNIT_TESTS += test_rtc
UNIT_SRCS_test_rtc := devices/rtc_cmos.c

UNIT_TESTS += test_acpi_pm
UNIT_SRCS_test_acpi_pm := devices/acpi_pm.c

UNIT_TESTS += test_pci_host
UNIT_SRCS_test_pci_host := devices/pci_host.c

UNIT_TESTS += test_virtio
UNIT_SRCS_test_virtio := devices/virtio_pci.c devices/virtqueue.c devices/virtio_rng.c \
	devices/virtio_console.c devices/virtio_blk.c devices/pci_host.c

UNIT_TESTS += test_pc_misc
UNIT_SRCS_test_pc_misc := devices/pc_misc.c

UNIT_TESTS += test_bootlist
UNIT_SRCS_test_bootlist :=

UNIT_TESTS += test_e1000_frame
UNIT_SRCS_test_e1000_frame := drivers/e1000/frame.c
UNIT_CFLAGS_test_e1000_frame := -Idrivers/e1000

UNIT_TESTS += test_uart
UNIT_SRCS_test_uart := devices/uart16550.c
# the model prints its lines: into the test's buffer instead
UNIT_CFLAGS_test_uart := -U_FORTIFY_SOURCE -Dprintf=uart_test_printf

UNIT_TESTS += test_bus
UNIT_SRCS_test_bus := vmm/bus.c

UNIT_TESTS += test_console_mux
UNIT_SRCS_test_console_mux := servers/console/mux.c
UNIT_CFLAGS_test_console_mux := -Iservers/console

# the VMM's exit tables of both guest kinds, with the real LAPIC model
UNIT_TESTS += test_vmm_exits
UNIT_SRCS_test_vmm_exits := vmm/exits.c vmm/fault.c vmm/pc_exits.c vmm/test_exits.c vmm/cpuid.c \
	vmm/bus.c vmm/guest.c vmm/x86/decode.c vmm/x86/emulate.c devices/lapic.c
# what the VMM prints: into the test's buffer instead
UNIT_CFLAGS_test_vmm_exits := -U_FORTIFY_SOURCE -Dprintf=test_printf

# ---- rules (nothing to edit below) ------------------------------------------

# UNIT_test(name): objects in $(UNIT_DIR)/obj/name/, linked to $(UNIT_DIR)/name
define UNIT_test
UNIT_OBJS_$(1) := $$(patsubst %.c,$(UNIT_DIR)/obj/$(1)/%.o,tests/unit/$(1).c $$(UNIT_SRCS_$(1)))
$(UNIT_DIR)/$(1): $$(UNIT_OBJS_$(1))
	$$(UNIT_CC) $$(UNIT_LDFLAGS) -o $$@ $$^ $$(UNIT_LDLIBS_$(1)) $$(UNIT_LDLIBS)
$(UNIT_DIR)/obj/$(1)/%.o: %.c mk/unit.mk
	@mkdir -p $$(@D)
	$$(UNIT_CC) $$(UNIT_CFLAGS) $$(UNIT_CFLAGS_$(1)) -MMD -MP -c $$< -o $$@
-include $$(UNIT_OBJS_$(1):.o=.d)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call UNIT_test,$(t))))

UNIT_BINS := $(addprefix $(UNIT_DIR)/,$(UNIT_TESTS))
UNIT_ALL_DEPS := $(foreach t,$(UNIT_TESTS),$(UNIT_DEPS_$(t)))

# Real linker output for test_elf: a tiny static program, linked with and
# without separate code pages.
UNIT_FIXTURE_FLAGS := -static -nostdlib -no-pie -fno-pie -ffreestanding -O1 \
	-fno-asynchronous-unwind-tables -Wl,-z,max-page-size=0x1000 \
	-Wl,--build-id=none
$(UNIT_DIR)/fixtures/tiny.elf: tests/unit/fixtures/tiny.c mk/unit.mk
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_FIXTURE_FLAGS) -Wl,-z,separate-code -o $@ $<
$(UNIT_DIR)/fixtures/tiny-nosep.elf: tests/unit/fixtures/tiny.c mk/unit.mk
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_FIXTURE_FLAGS) -Wl,-z,noseparate-code -o $@ $<

.PHONY: unit unit-build
unit-build: $(UNIT_BINS) $(UNIT_ALL_DEPS)
unit: unit-build
	@sh tests/unit/run.sh $(UNIT_BINS)

# Host benchmark of the mapping database (bench/mdb.c): optimised, no
# sanitizers; prints `BENCH mdb_<op> <ns> ns` lines.
MDB_BENCH := $(UNIT_DIR)/mdb-bench
$(MDB_BENCH): bench/mdb.c hypervisor/mdb.c hypervisor/include/mdb.h mk/unit.mk
	@mkdir -p $(@D)
	$(UNIT_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Ihypervisor/include/uapi \
		-iquote hypervisor/include -o $@ bench/mdb.c hypervisor/mdb.c

.PHONY: mdb-bench
mdb-bench: $(MDB_BENCH)
	@$(MDB_BENCH)
