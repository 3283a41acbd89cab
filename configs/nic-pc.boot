kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/e1000.elf e1000
module build/user/pcitest.elf pcitest
module configs/nic-pc.conf system.conf
machine pc
nic e1000 user
