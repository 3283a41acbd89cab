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

static inline unsigned short hv_inw(unsigned short port)
{
	unsigned short v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void hv_outw(unsigned short port, unsigned short v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline unsigned int hv_inl(unsigned short port)
{
	unsigned int v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void hv_outl(unsigned short port, unsigned int v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

#endif
