/*
 * Intel 8254x (82540EM, "e1000") and 82574L ("e1000e") NICs: the registers
 * the user-level driver uses (Intel 8254x and 82574 datasheets, legacy
 * descriptors only), and the pure frame logic of its test modes (frame.c,
 * unit-tested on the host).
 */
#ifndef E1000_H
#define E1000_H

#include <stddef.h>
#include <stdint.h>

#define E1000_VENDOR 0x8086u
#define E1000_DEV_82540EM 0x100eu /* QEMU 'e1000', Bochs 'e1000' */
#define E1000_DEV_82574L 0x10d3u  /* QEMU 'e1000e' */

/* Register offsets in BAR 0 (all 32 bits wide). */
enum e1000_reg {
	E1000_CTRL = 0x0000,
	E1000_STATUS = 0x0008,
	E1000_EERD = 0x0014,
	E1000_ICR = 0x00c0,  /* interrupt cause: read clears (without MSI-X) */
	E1000_ITR = 0x00c4,
	E1000_ICS = 0x00c8,  /* cause set: raises the causes written */
	E1000_IMS = 0x00d0,  /* mask set: enables causes */
	E1000_IMC = 0x00d8,  /* mask clear */
	E1000_RCTL = 0x0100,
	E1000_TCTL = 0x0400,
	E1000_TIPG = 0x0410,
	E1000_RDBAL = 0x2800,
	E1000_RDBAH = 0x2804,
	E1000_RDLEN = 0x2808,
	E1000_RDH = 0x2810,
	E1000_RDT = 0x2818,
	E1000_TDBAL = 0x3800,
	E1000_TDBAH = 0x3804,
	E1000_TDLEN = 0x3808,
	E1000_TDH = 0x3810,
	E1000_TDT = 0x3818,
	E1000_MTA = 0x5200, /* 128 words of multicast hash */
	E1000_RAL0 = 0x5400,
	E1000_RAH0 = 0x5404,
	E1000_REGS_END = 0x5800 /* BAR 0 must reach at least this far */
};

#define E1000_CTRL_ASDE (1u << 5)  /* auto speed detection */
#define E1000_CTRL_SLU (1u << 6)   /* set link up */
#define E1000_CTRL_RST (1u << 26)  /* device reset (self-clearing) */
#define E1000_STATUS_LU (1u << 1)  /* link up */
/* EERD: 82540EM: start bit 0, done bit 4, address bits 8..15;
 * 82574L: start bit 0, done bit 1, address bits 2..15; data bits 16..31. */
#define E1000_EERD_START 1u
#define E1000_RAH_AV (1u << 31)    /* receive address valid */

#define E1000_ICR_TXDW (1u << 0)   /* a TX descriptor written back */
#define E1000_ICR_LSC (1u << 2)    /* link status change */
#define E1000_ICR_RXDMT0 (1u << 4) /* RX descriptors below threshold */
#define E1000_ICR_RXO (1u << 6)    /* receiver overrun */
#define E1000_ICR_RXT0 (1u << 7)   /* receive timer: frames arrived */
#define E1000_ICR_RXQ0 (1u << 20)  /* 82574L MSI-X: receive queue 0 */
#define E1000_ICR_TXQ0 (1u << 22)  /* ... transmit queue 0 */
#define E1000_ICR_OTHER (1u << 24) /* ... other causes (link status) */
#define E1000_IVAR 0x00e4          /* 82574L: cause -> MSI-X vector (3 bits + valid bit each) */
#define E1000_IVAR_ALL_0 0x00088888u /* RXQ0, RXQ1, TXQ0, TXQ1, other: vector 0, valid */
#define E1000_IMS_USED (E1000_ICR_TXDW | E1000_ICR_LSC | E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_RXT0)

#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_BAM (1u << 15)  /* accept broadcast */
#define E1000_RCTL_SECRC (1u << 26) /* strip the Ethernet CRC */
/* buffer size 2048: BSIZE 00, BSEX 0 */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)   /* pad short packets */
#define E1000_TCTL_CT(x) ((uint32_t)(x) << 4)
#define E1000_TCTL_COLD(x) ((uint32_t)(x) << 12)
#define E1000_TIPG_DEFAULT (10u | 8u << 10 | 6u << 20)

/* Legacy receive descriptor (16 bytes). */
struct e1000_rx_desc {
	uint64_t addr;   /* buffer's bus address */
	uint16_t length; /* bytes written */
	uint16_t csum;
	uint8_t status;  /* E1000_RXD_* */
	uint8_t errors;
	uint16_t special;
};
#define E1000_RXD_DD (1u << 0)  /* descriptor done */
#define E1000_RXD_EOP (1u << 1) /* end of packet */

/* Legacy transmit descriptor (16 bytes). */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;     /* E1000_TXD_CMD_* */
	uint8_t status;  /* E1000_TXD_DD once sent (with RS) */
	uint8_t css;
	uint16_t special;
};
#define E1000_TXD_CMD_EOP (1u << 0)
#define E1000_TXD_CMD_IFCS (1u << 1) /* insert the CRC */
#define E1000_TXD_CMD_RS (1u << 3)   /* report status */
#define E1000_TXD_DD (1u << 0)

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor");

/* ---- Frames of the test modes (frame.c: pure, unit-tested) ---------------- */

#define ETH_ALEN 6
#define ETH_MIN_FRAME 60 /* without CRC */
#define ETH_MAX_FRAME 1514
#define ETHERTYPE_ARP 0x0806u
#define ETHERTYPE_TEST 0x88b5u /* IEEE "local experimental" */

enum test_kind { TEST_PING = 1, TEST_PONG = 2 };

/* A 60-byte ARP who-has for target_ip from (mac, my_ip) into buf (>= 60
 * bytes); IPs in network order as 4 bytes. Returns the length. */
size_t arp_request(uint8_t *buf, const uint8_t mac[ETH_ALEN], const uint8_t my_ip[4],
		   const uint8_t target_ip[4]);
/* 1 if frame[0..len) is an ARP reply from target_ip to my_ip; its sender
 * MAC goes to who (may be NULL). */
int arp_is_reply(const uint8_t *frame, size_t len, const uint8_t my_ip[4],
		 const uint8_t target_ip[4], uint8_t who[ETH_ALEN]);
/* A 60-byte broadcast test frame of `kind` with sequence number seq and a
 * pattern derived from it. Returns the length. */
size_t test_frame(uint8_t *buf, const uint8_t mac[ETH_ALEN], enum test_kind kind, uint32_t seq);
/* The kind of a valid test frame (pattern intact, not from `own_mac`),
 * with its sequence number in *seq; 0 if it is no valid test frame. */
int test_frame_parse(const uint8_t *frame, size_t len, const uint8_t own_mac[ETH_ALEN],
		     uint32_t *seq);
/* Parses "a.b.c.d" into ip[4]: 1 on success. */
int parse_ip(const char *s, uint8_t ip[4]);

#endif
