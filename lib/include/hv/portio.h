/* x86 port I/O, for domains granted I/O port ranges (start info io[]). */
#ifndef HV_PORTIO_H
#define HV_PORTIO_H

static inline unsigned char hv_inb(unsigned short port)
{
	unsigned char v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void hv_outb(unsigned short port, unsigned char v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

#endif
