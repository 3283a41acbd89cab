# The default system, with the kernel's protection self-test (selftest=protections).
kernel build/hypervisor.elf selftest=protections
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/echo.elf echo
module configs/default.conf system.conf
