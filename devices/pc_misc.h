#ifndef DEVICES_PC_MISC_H
#define DEVICES_PC_MISC_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * The PC's small odds and ends. Bus mapping (ctx = struct pc_misc *):
 *   0x80, 0xed  pc_misc_post_read/write     (POST code / I/O delay sink)
 *   0x92        pc_misc_port92_read/write   (fast A20, bit 0 resets)
 *   0xcf9       pc_misc_cf9_read/write      (reset control, one port)
 *   0x60        pc_misc_kbd_data_read/write (i8042 data)
 *   0x64        pc_misc_kbd_ctl_read/write  (i8042 status / command)
 * The i8042 has no keyboard or mouse behind it: the controller answers its
 * own commands, device bytes get no reply (Linux's drivers time out).
 */
struct pc_misc {
	const struct platform *pf;
	uint8_t post;          /* last POST code */
	uint8_t port92;
	uint8_t cf9;
	/* i8042 */
	uint8_t kbd_cmd_byte;
	uint8_t kbd_status;    /* system flag and command/data bits */
	uint8_t kbd_pending;   /* controller command waiting for its data byte */
	uint8_t kbd_out;       /* output buffer */
	bool kbd_obf;
	bool a20;
};

void pc_misc_init(struct pc_misc *m, const struct platform *pf);
uint64_t pc_misc_post_read(void *ctx, uint64_t off, unsigned size);
void pc_misc_post_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pc_misc_port92_read(void *ctx, uint64_t off, unsigned size);
void pc_misc_port92_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pc_misc_cf9_read(void *ctx, uint64_t off, unsigned size);
void pc_misc_cf9_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pc_misc_kbd_data_read(void *ctx, uint64_t off, unsigned size);
void pc_misc_kbd_data_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pc_misc_kbd_ctl_read(void *ctx, uint64_t off, unsigned size);
void pc_misc_kbd_ctl_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

#endif
