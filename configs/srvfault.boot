kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/echo.elf echo
module build/user/faulty.elf faulty
module configs/srvfault.conf system.conf
