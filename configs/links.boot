kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/linktest.elf linktest
module configs/links.conf system.conf
