kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/selftest.elf selftest
module configs/selftest.conf system.conf
