kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/echo.elf echo
module configs/pci.conf system.conf
