# The default system with a deliberate kernel stack overflow (selftest=stack-overflow).
kernel build/hypervisor.elf selftest=stack-overflow
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/echo.elf echo
module configs/default.conf system.conf
