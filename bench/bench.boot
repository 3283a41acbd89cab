kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/bench.elf bench
module build/user/vmm.elf vmm
module build/guests/test-guest.bin testguest
module configs/bench.conf system.conf
