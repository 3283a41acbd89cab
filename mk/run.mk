# Booting, testing and benchmarking; included by the top-level Makefile.
#
#   make iso          $(BUILD)/hypervisor.iso (GRUB, BIOS) from $(BOOT)
#   make run          boot $(BOOT) (default: the Linux guest beside native
#                     tasks, configs/linux.boot) with the serial console on the
#                     terminal; EMU=qemu|bochs|kvm|pxe forces an emulator
#                     (default: kvm if scripts/kvm-usable, else qemu, whose
#                     TCG has AMD-V with nested paging; bochs for VT-x);
#                     CPUS=N MEM=MB TIMEOUT=SEC
#   make run-pxe      the same through iPXE network boot (EMU=pxe)
#   make test         deps, build, unit tests, boot tests; last line
#                     "N passed, N failed"; TESTS="name ..." EMUS="qemu ..."
#   make fuzz         a fuzzing campaign (scripts/fuzz): SEED=N COUNT=N calls,
#                     THREADS=N per CPU, VMS=0 without the hostile VMM;
#                     QEMU (AMD-V) unless EMU=bochs
#   make bench        bench/run, then bench/linux (Linux guest vs native):
#                     under Bochs (VT-x, deterministic ticks) and QEMU
#                     (AMD-V, wall-clock TSC), reports in bench/results/
# Every boot goes through scripts/boot (see scripts/README.md).

BUILD ?= build
BOOT ?= configs/linux.boot
EMU ?=
CPUS ?= 2
MEM ?= 512
TESTS ?=
TIMEOUT ?=

# guests need VT-x or AMD-V: KVM if it offers one, else QEMU's TCG (AMD-V
# with nested paging, fast); Bochs (VT-x) on request. Probed once, when needed.
RUN_EMU_AUTO = $(eval RUN_EMU_AUTO := $(shell scripts/kvm-usable && echo kvm || echo qemu))$(RUN_EMU_AUTO)
RUN_EMU = $(or $(EMU),$(RUN_EMU_AUTO))
RUN_DEPS = build $(if $(filter bochs,$(RUN_EMU)),bochs,qemu)

.PHONY: iso run run-pxe test bench fuzz

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

SEED ?= 1
COUNT ?= 1000000
THREADS ?= 2
fuzz:
	@scripts/deps build $(if $(filter bochs,$(EMU)),bochs,qemu)
	@$(MAKE) --no-print-directory all
	@scripts/fuzz --emu $(or $(EMU),qemu) --seed $(SEED) --count $(COUNT) --threads $(THREADS) \
		$(if $(VMS),--vms $(VMS)) $(if $(TIMEOUT),--timeout $(TIMEOUT))

bench:
	@scripts/deps build bochs qemu
	@$(MAKE) --no-print-directory all linux
	bench/run
	BENCH_EMU=qemu bench/run
	bench/linux
	BENCH_EMU=qemu bench/linux
