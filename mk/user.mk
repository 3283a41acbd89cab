# User-space runtime library and programs.
#
# Included by the top-level Makefile (which sets BUILD, CC, LD) or used on
# its own:  make -f mk/user.mk BUILD=build
#
#   $(BUILD)/lib/libhv.a, $(BUILD)/lib/crt0.o   runtime library (lib/)
#   $(BUILD)/user/<name>.elf                    programs, linked with lib/user.ld
#
# Add a program with one line (sources relative to the top directory,
# optional third argument: extra CFLAGS for its objects):
#   $(eval $(call user_prog,roottask,servers/roottask/main.c servers/roottask/config.c))

BUILD ?= build
ifeq ($(origin CC),default)
CC := gcc
endif
LD ?= ld
AR ?= ar

USER_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-common \
	-fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Ihypervisor/include/uapi -Ilib/include
USER_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--build-id=none -T lib/user.ld

HV_LIB_SRCS := lib/string.c lib/format.c lib/console.c lib/start.c \
	lib/alloc.c lib/thread.c lib/pci.c
HV_LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(HV_LIB_SRCS))
HV_LIB := $(BUILD)/lib/libhv.a
HV_CRT0 := $(BUILD)/lib/crt0.o

.PHONY: all user user-clean
all: user
user: $(HV_LIB) $(HV_CRT0)

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lib/%.o: lib/%.S
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -D__ASSEMBLER__ -MMD -MP -c $< -o $@

$(HV_LIB): $(HV_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Program objects: $(BUILD)/user/obj/<source path>.o
$(BUILD)/user/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(USER_EXTRA_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/user/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(USER_EXTRA_CFLAGS) -D__ASSEMBLER__ -MMD -MP -c $< -o $@

# $(call user_prog,name,sources[,extra cflags]) -> $(BUILD)/user/name.elf,
# also built by `make user` (and `make all`).
define user_prog
USER_PROGS += $(BUILD)/user/$(1).elf
USER_OBJS_$(1) := $$(patsubst %,$(BUILD)/user/obj/%.o,$(2))
user: $(BUILD)/user/$(1).elf
$(BUILD)/user/$(1).elf: $$(USER_OBJS_$(1)) $(HV_CRT0) $(HV_LIB) lib/user.ld
	@mkdir -p $$(dir $$@)
	$$(LD) $$(USER_LDFLAGS) -o $$@ $(HV_CRT0) $$(USER_OBJS_$(1)) $(HV_LIB)
$$(USER_OBJS_$(1)): USER_EXTRA_CFLAGS := $(3)
-include $$(USER_OBJS_$(1):.o=.d)
endef

$(eval $(call user_prog,roottask,servers/roottask/main.c servers/roottask/domain.c servers/roottask/config.c servers/roottask/config_keys.c servers/roottask/elf.c servers/roottask/ralloc.c \
	servers/roottask/report.c servers/roottask/pci.c servers/roottask/pcicfg.c servers/roottask/links.c))
$(eval $(call user_prog,console,servers/console/main.c servers/console/mux.c))
$(eval $(call user_prog,echo,guests/native/echo/echo.c))
$(eval $(call user_prog,linktest,guests/native/linktest/linktest.c))
$(eval $(call user_prog,pcicheck,guests/native/pcicheck/pcicheck.c))
$(eval $(call user_prog,faulty,guests/native/faulty/faulty.c))
$(eval $(call user_prog,bench,bench/bench.c))
$(eval $(call user_prog,selftest,guests/native/selftest/selftest.c))
$(eval $(call user_prog,pcitest,guests/native/pcitest/pcitest.c))
$(eval $(call user_prog,e1000,drivers/e1000/main.c drivers/e1000/frame.c))
$(eval $(call user_prog,vcputest,guests/native/vcputest/vcputest.c))
$(eval $(call user_prog,fuzz,guests/native/fuzz/main.c guests/native/fuzz/gen.c guests/native/fuzz/ops.c \
	guests/native/fuzz/serve.c guests/native/fuzz/vm.c))
$(eval $(call user_prog,vmm,vmm/main.c vmm/exits.c vmm/fault.c vmm/pc_exits.c vmm/test_exits.c vmm/testsupport.c vmm/bus.c vmm/guest.c vmm/x86/decode.c vmm/x86/emulate.c \
	vmm/acpi.c vmm/linux.c vmm/pc.c vmm/cpuid.c devices/uart16550.c devices/testdev.c \
	devices/lapic.c devices/ioapic.c devices/pic8259.c devices/pit8254.c devices/rtc_cmos.c \
	devices/acpi_pm.c devices/pci_host.c devices/pc_misc.c devices/virtqueue.c devices/virtio_pci.c \
	devices/virtio_rng.c devices/virtio_console.c devices/virtio_blk.c))

user-clean:
	rm -rf $(BUILD)/lib $(BUILD)/user

-include $(HV_LIB_OBJS:.o=.d) $(HV_CRT0:.o=.d)
