# Booting, testing and benchmarking; included by the top-level Makefile.
#
#   make iso          $(BUILD)/hypervisor.iso (GRUB, BIOS) from $(BOOT)
#   make run          boot $(BOOT) (default: the Linux guest beside native
#                     tasks, configs/linux.boot) with the serial console on the
#                     terminal; EMU=qemu|bochs|kvm|pxe forces an emulator
#                     (default: kvm if scripts/kvm-usable, else bochs, the
#                     emulator here with VT-x); CPUS=N MEM=MB TIMEOUT=SEC
#   make run-pxe      the same through iPXE network boot (EMU=pxe)
#   make test         deps, build, unit tests, boot tests; last line
#                     "N passed, N failed"; TESTS="name ..." EMUS="qemu ..."
#   make bench        bench/run, then bench/linux (Linux guest vs native):
#                     benchmarks under Bochs, reports in bench/results/
# Every boot goes through scripts/boot (see scripts/README.md).

BUILD ?= build
BOOT ?= configs/linux.boot
EMU ?=
CPUS ?= 2
MEM ?= 512
TESTS ?=
TIMEOUT ?=

# guests need VT-x: KVM if it offers it, else Bochs (QEMU's TCG has no VMX)
RUN_EMU = $(or $(EMU),$(shell scripts/kvm-usable && echo kvm || echo bochs))
RUN_DEPS = build $(if $(filter bochs,$(RUN_EMU)),bochs,qemu)

.PHONY: iso run run-pxe test bench

iso:
	@scripts/deps build
	@$(MAKE) --no-print-directory all linux
	scripts/mkiso $(BOOT) $(BUILD)/hypervisor.iso

run:
	@scripts/deps $(RUN_DEPS)
	@$(MAKE) --no-print-directory all linux
	scripts/boot --emu $(RUN_EMU) --cpus $(CPUS) --mem $(MEM) \
		$(if $(TIMEOUT),--timeout $(TIMEOUT)) $(BOOT)

run-pxe:
	@$(MAKE) --no-print-directory run EMU=pxe

test:
	@scripts/deps all
	@MAKE="$(MAKE)" BUILD="$(BUILD)" tests/run $(TESTS)

bench:
	@scripts/deps build bochs
	@$(MAKE) --no-print-directory all linux
	bench/run
	bench/linux
