# The test guest (guests/test/, see guests/test/README.md): a flat binary
# the VMM loads at guest-physical 0x10000 and starts in real mode.
#
# Included by the top-level Makefile (which sets BUILD, CC, LD) or used on
# its own:  make -f mk/guest.mk BUILD=build
#
#   $(BUILD)/guests/test-guest.bin          the guest (part of `make all`)
#   make test-guest-floppy                  $(BUILD)/guests/test-guest-floppy.img:
#                                           boot sector + guest, for plain QEMU
#   make test-guest-qemu                    boot that floppy under QEMU (TCG);
#                                           QEMU=..., TIMEOUT=seconds
#   make test-guest-kvm                     run it under kvm-ref, a host-side KVM
#                                           implementation of the VMM contract

BUILD ?= build
ifeq ($(origin CC),default)
CC := gcc
endif
LD ?= ld
OBJCOPY ?= objcopy
QEMU ?= qemu-system-x86_64
Q ?= @

GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib \
	-fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-common \
	-fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
GUEST_LDFLAGS := -nostdlib -static --build-id=none -z noexecstack \
	-z max-page-size=0x1000 --no-warn-rwx-segments

GUEST_DIR := guests/test
GUEST_SRCS := $(GUEST_DIR)/start.S $(GUEST_DIR)/main.c $(GUEST_DIR)/mmio.c $(GUEST_DIR)/modes.c $(GUEST_DIR)/lib.c \
	$(GUEST_DIR)/cpu.c $(GUEST_DIR)/events.c $(GUEST_DIR)/debug.c $(GUEST_DIR)/syscall.S $(GUEST_DIR)/hostile.c \
	$(GUEST_DIR)/storm.c
GUEST_OBJS := $(patsubst $(GUEST_DIR)/%,$(BUILD)/guests/test/%.o,$(GUEST_SRCS))
GUEST_ELF := $(BUILD)/guests/test-guest.elf
GUEST_BIN := $(BUILD)/guests/test-guest.bin
GUEST_FLOPPY := $(BUILD)/guests/test-guest-floppy.img
GUEST_BOOT := $(BUILD)/guests/test/boot.bin

.PHONY: guest guest-clean test-guest-floppy test-guest-qemu test-guest-kvm
guest: $(GUEST_BIN)
all: guest

$(BUILD)/guests/test/%.c.o: $(GUEST_DIR)/%.c mk/guest.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/guests/test/%.S.o: $(GUEST_DIR)/%.S mk/guest.mk
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLER__ -MMD -MP -c $< -o $@

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_DIR)/guest.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(GUEST_LDFLAGS) -T $(GUEST_DIR)/guest.ld -o $@ $(GUEST_OBJS)

# The entry point must be the first byte of the image.
$(GUEST_BIN): $(GUEST_ELF)
	@echo "  OBJCOPY $@"
	$(Q)test "$$(nm $< | sed -n 's/^\([0-9a-f]*\) T _start$$/\1/p')" = 0000000000010000 || \
		{ echo "$<: _start is not at 0x10000" >&2; exit 1; }
	$(Q)$(OBJCOPY) -O binary $< $@

# QEMU wrapper: boot sector that loads exactly the guest's sectors
$(GUEST_BOOT): $(GUEST_DIR)/boot.S $(GUEST_DIR)/boot.ld $(GUEST_BIN) mk/guest.mk
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)n=$$(( ($$(stat -c %s $(GUEST_BIN)) + 511) / 512 )); \
		$(CC) -DGUEST_SECTORS=$$n -c $< -o $(@:.bin=.o)
	$(Q)$(LD) -nostdlib -T $(GUEST_DIR)/boot.ld -o $(@:.bin=.elf) $(@:.bin=.o)
	$(Q)$(OBJCOPY) -O binary $(@:.bin=.elf) $@
	$(Q)test $$(stat -c %s $@) -eq 512 || { echo "$@: not 512 bytes" >&2; exit 1; }

$(GUEST_FLOPPY): $(GUEST_BOOT) $(GUEST_BIN)
	@echo "  FLOPPY  $@"
	$(Q)cat $(GUEST_BOOT) $(GUEST_BIN) > $@.tmp
	$(Q)truncate -s 1474560 $@.tmp
	$(Q)mv $@.tmp $@

test-guest-floppy: $(GUEST_FLOPPY)

test-guest-qemu: $(GUEST_FLOPPY)
	QEMU=$(QEMU) $(if $(TIMEOUT),TIMEOUT=$(TIMEOUT)) $(GUEST_DIR)/run-qemu $(GUEST_FLOPPY)

# Host program: reference implementation of the contract on /dev/kvm
GUEST_KVM_REF := $(BUILD)/guests/test/kvm-ref
$(GUEST_KVM_REF): $(GUEST_DIR)/kvm-ref.c mk/guest.mk
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

test-guest-kvm: $(GUEST_KVM_REF) $(GUEST_BIN)
	$(GUEST_KVM_REF) $(GUEST_BIN)

guest-clean:
	rm -rf $(BUILD)/guests

-include $(GUEST_OBJS:.o=.d)
