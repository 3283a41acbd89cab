kernel build/hypervisor.elf
module build/user/roottask.elf roottask
module build/user/console.elf console
module build/user/vmm.elf vmm
module build/user/echo.elf echo
module build/linux/vmlinuz vmlinuz
module build/linux/initrd.img initrd
module configs/linux-log.conf system.conf
