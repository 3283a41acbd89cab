# The Linux guest (guests/linux/, see guests/linux/README.md): Debian's stock
# kernel with a busybox initramfs, built from downloaded packages.
#
#   make linux          $(BUILD)/linux/{vmlinuz,initrd.img,kernel-release}
#                       (downloads linux-image-6.1.0-NN-amd64 and busybox-static
#                       once into $(BUILD)/linux/debs/)
#   make linux-qemu     boot them natively under QEMU TCG and check the shell
#                       (uname -r, nproc, poweroff); TIMEOUT=seconds
#   make linux-bochs    boot them natively under Bochs with init.poweroff and
#                       print wall time and the guest's tsc at init
# Not part of `make all` or `make test`.

BUILD ?= build
LINUX_OUT := $(BUILD)/linux
LINUX_IMAGES := $(LINUX_OUT)/vmlinuz $(LINUX_OUT)/initrd.img $(LINUX_OUT)/kernel-release
LINUX_SRCS := guests/linux/build.sh guests/linux/init guests/linux/tools/tsc.c

.PHONY: linux linux-qemu linux-bochs linux-clean

linux: $(LINUX_OUT)/.built

# one build.sh run makes all three images; the stamp stands for them
$(LINUX_OUT)/.built: $(LINUX_SRCS) mk/linux.mk
	@scripts/deps linux
	$(Q)BUILD=$(BUILD) CC=$(CC) guests/linux/build.sh
	@touch $@

$(LINUX_IMAGES): $(LINUX_OUT)/.built

linux-qemu: linux
	@scripts/deps qemu
	guests/linux/check-qemu $(if $(TIMEOUT),--timeout $(TIMEOUT))

linux-bochs: linux
	@scripts/deps bochs linux
	guests/linux/native-boot --emu bochs $(if $(TIMEOUT),--timeout $(TIMEOUT)) init.poweroff

linux-clean:
	rm -rf $(LINUX_OUT)
