/*
 * Small PC ports: POST code sink, port 0x92 (A20 and fast reset), the
 * 0xcf9 reset control register, and an i8042 keyboard controller good for
 * self-test, the command byte, A20 and the reset line.
 */
#include "pc_misc.h"
#include "platform.h"

#define KBD_OBF 0x01
#define KBD_SYS 0x04
#define KBD_CMD 0x08          /* last write went to 0x64 */
#define KBD_UNLOCKED 0x10

#define KBD_CB_INT 0x01       /* command byte: IRQ 1 on output */
#define KBD_CB_SYS 0x04

void pc_misc_init(struct pc_misc *m, const struct platform *pf)
{
	*m = (struct pc_misc){ .pf = pf, .kbd_cmd_byte = 0x45, .kbd_status = KBD_SYS, .a20 = true, .port92 = 0x02 };
}

uint64_t pc_misc_post_read(void *ctx, uint64_t off, unsigned size)
{
	struct pc_misc *m = ctx;
	(void)size;
	return off == 0 ? m->post : 0xff;
}

void pc_misc_post_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pc_misc *m = ctx;
	(void)size;
	if (off == 0)
		m->post = (uint8_t)val;
}

uint64_t pc_misc_port92_read(void *ctx, uint64_t off, unsigned size)
{
	struct pc_misc *m = ctx;
	(void)size;
	return off == 0 ? m->port92 : 0xff;
}

void pc_misc_port92_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pc_misc *m = ctx;
	(void)size;
	if (off)
		return;
	uint8_t old = m->port92;
	m->port92 = (uint8_t)(val & 0x03);
	m->a20 = val & 2;
	if ((val & 1) && !(old & 1))
		platform_reset(m->pf); /* a 0 -> 1 transition of bit 0 */
}

uint64_t pc_misc_cf9_read(void *ctx, uint64_t off, unsigned size)
{
	struct pc_misc *m = ctx;
	(void)size;
	return off == 0 ? m->cf9 : 0xff;
}

void pc_misc_cf9_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pc_misc *m = ctx;
	(void)size;
	if (off)
		return;
	uint8_t v = (uint8_t)val;
	if ((v & 0x04) && !(m->cf9 & 0x04)) {
		m->cf9 = v & 0x0a;
		platform_reset(m->pf); /* bit 2 0 -> 1: reset CPU (bit 1 picks the kind) */
		return;
	}
	m->cf9 = v & 0x0e;
}

/* Puts a byte into the output buffer (IRQ 1 if the command byte asks). */
static void kbd_put(struct pc_misc *m, uint8_t b)
{
	m->kbd_out = b;
	m->kbd_obf = true;
	if (m->kbd_cmd_byte & KBD_CB_INT) {
		platform_irq(m->pf, 1, true);
		platform_irq(m->pf, 1, false);
	}
}

uint64_t pc_misc_kbd_data_read(void *ctx, uint64_t off, unsigned size)
{
	struct pc_misc *m = ctx;
	(void)size;
	if (off)
		return 0xff;
	m->kbd_obf = false;
	return m->kbd_out;
}

static uint8_t kbd_outport(const struct pc_misc *m)
{
	return (uint8_t)(0x01 | (m->a20 ? 0x02 : 0)); /* reset line high, A20 */
}

void pc_misc_kbd_data_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pc_misc *m = ctx;
	uint8_t v = (uint8_t)val;
	(void)size;
	if (off)
		return;
	m->kbd_status &= (uint8_t)~KBD_CMD;
	uint8_t cmd = m->kbd_pending;
	m->kbd_pending = 0;
	switch (cmd) {
	case 0x60: /* write command byte */
		m->kbd_cmd_byte = v;
		m->kbd_status = (uint8_t)((m->kbd_status & ~KBD_SYS) | (v & KBD_CB_SYS));
		break;
	case 0xd1: /* write output port: bit 0 low resets, bit 1 is A20 */
		m->a20 = v & 2;
		if (!(v & 1))
			platform_reset(m->pf);
		break;
	case 0xd2: /* write keyboard output buffer: echoed back */
	case 0xd3: /* write aux output buffer */
		kbd_put(m, v);
		break;
	default:
		break; /* to the (absent) keyboard or mouse: no reply */
	}
}

uint64_t pc_misc_kbd_ctl_read(void *ctx, uint64_t off, unsigned size)
{
	struct pc_misc *m = ctx;
	(void)size;
	if (off)
		return 0xff;
	return (uint8_t)(m->kbd_status | KBD_UNLOCKED | (m->kbd_obf ? KBD_OBF : 0));
}

void pc_misc_kbd_ctl_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pc_misc *m = ctx;
	uint8_t v = (uint8_t)val;
	(void)size;
	if (off)
		return;
	m->kbd_status |= KBD_CMD;
	m->kbd_pending = 0;
	if (v >= 0xf0) { /* pulse output lines whose bit is 0; bit 0 is reset */
		if (!(v & 1))
			platform_reset(m->pf);
		return;
	}
	switch (v) {
	case 0x20: /* read command byte */
		kbd_put(m, m->kbd_cmd_byte);
		break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		m->kbd_pending = v;
		break;
	case 0xa7: /* disable / enable aux */
		m->kbd_cmd_byte |= 0x20;
		break;
	case 0xa8:
		m->kbd_cmd_byte &= (uint8_t)~0x20;
		break;
	case 0xa9: /* aux interface test: clock line stuck, i.e. no mouse port */
		kbd_put(m, 0x01);
		break;
	case 0xaa: /* controller self-test */
		m->kbd_status |= KBD_SYS;
		kbd_put(m, 0x55);
		break;
	case 0xab: /* keyboard interface test */
		kbd_put(m, 0x00);
		break;
	case 0xad: /* disable / enable keyboard */
		m->kbd_cmd_byte |= 0x10;
		break;
	case 0xae:
		m->kbd_cmd_byte &= (uint8_t)~0x10;
		break;
	case 0xc0: /* read input port */
		kbd_put(m, 0xa0);
		break;
	case 0xd0: /* read output port */
		kbd_put(m, kbd_outport(m));
		break;
	case 0xdd: /* A20 off / on (some controllers) */
		m->a20 = false;
		break;
	case 0xdf:
		m->a20 = true;
		break;
	default:
		break;
	}
}
