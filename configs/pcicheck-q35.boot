kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/pcicheck.elf pcicheck
module configs/pcicheck-q35.conf system.conf
machine q35
iommu on
nic e1000e user
nic virtio-net-pci user
