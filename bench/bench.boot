kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/bench.elf bench
module configs/bench.conf system.conf
