# Echo clients under a stream of NMIs (selftest=nmi; configs/nmi.conf).
kernel build/hypervisor.elf selftest=nmi
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/echo.elf echo
module configs/nmi.conf system.conf
