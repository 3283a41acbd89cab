kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/linktest.elf linktest
module build/user/faulty.elf faulty
module configs/links-restart.conf system.conf
