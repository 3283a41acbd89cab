kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/e1000.elf e1000
module build/user/pcitest.elf pcitest
module configs/nic-rogue.conf system.conf
machine q35
iommu intremap
nic e1000e user
nic e1000e hub 0
nic e1000e hub 0
