kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/vcputest.elf vcputest
module configs/vcputest.conf system.conf
