# Top-level build. `make` builds the hypervisor and the user programs;
# `make run`, `make test`, `make bench` are described in README.md.

BUILD ?= build
CC ?= gcc
CC := $(if $(filter default,$(origin CC)),gcc,$(CC))
LD ?= ld

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter
KERNEL_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib \
        -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-pic -fno-pie \
        -fno-stack-protector -fno-asynchronous-unwind-tables -fomit-frame-pointer \
        -fno-common $(WARN) \
        -Ihypervisor/include -Ihypervisor/include/uapi -Iarch/x86_64/include
KERNEL_LDFLAGS := -nostdlib -z noexecstack -z max-page-size=0x1000 --no-warn-rwx-segments \
        -T arch/x86_64/linker.ld

KERNEL_SRCS := $(wildcard arch/x86_64/*.S arch/x86_64/*.c arch/x86_64/vmx/*.S arch/x86_64/vmx/*.c \
		 arch/x86_64/svm/*.S arch/x86_64/svm/*.c hypervisor/*.c)
KERNEL_OBJS := $(patsubst %,$(BUILD)/kernel/%.o,$(KERNEL_SRCS))

.PHONY: all kernel clean
all: kernel

kernel: $(BUILD)/hypervisor.elf

Q ?= @
$(BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kernel/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KERNEL_CFLAGS) -D__ASSEMBLER__ -MMD -MP -c $< -o $@

$(BUILD)/hypervisor.elf: $(KERNEL_OBJS) arch/x86_64/linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)
	@scripts/check-image $@

clean:
	rm -rf $(BUILD)

$(KERNEL_OBJS): Makefile

-include $(KERNEL_OBJS:.o=.d)
-include mk/user.mk
-include mk/unit.mk
-include mk/run.mk
-include mk/guest.mk
-include mk/linux.mk
