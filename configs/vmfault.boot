kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/vmm.elf vmm
module build/user/echo.elf echo
module build/guests/test-guest.bin testguest
module configs/vmfault.conf system.conf
