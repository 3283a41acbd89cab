/*
 * Frames of the e1000 driver's test modes: ARP who-has / is-at and the
 * ping/pong test frames two drivers exchange. Pure functions (no device,
 * no system calls), unit-tested on the host (tests/unit/test_e1000_frame.c).
 * Every received frame is hostile: lengths are checked before each read.
 */
#include <string.h>
#include "e1000.h"

static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t test_magic[4] = { 'H', 'V', 'N', 'T' };

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Ethernet header: destination, source, type; returns its length. */
static size_t eth_header(uint8_t *buf, const uint8_t *dst, const uint8_t *src, unsigned type)
{
	memcpy(buf, dst, ETH_ALEN);
	memcpy(buf + 6, src, ETH_ALEN);
	put16(buf + 12, type);
	return 14;
}

size_t arp_request(uint8_t *buf, const uint8_t mac[ETH_ALEN], const uint8_t my_ip[4],
		   const uint8_t target_ip[4])
{
	uint8_t *a = buf + eth_header(buf, broadcast, mac, ETHERTYPE_ARP);

	memset(a, 0, ETH_MIN_FRAME - 14);
	put16(a, 1);          /* hardware: Ethernet */
	put16(a + 2, 0x0800); /* protocol: IPv4 */
	a[4] = ETH_ALEN;
	a[5] = 4;
	put16(a + 6, 1);      /* request */
	memcpy(a + 8, mac, ETH_ALEN);
	memcpy(a + 14, my_ip, 4);
	/* target hardware address (a + 18) stays zero */
	memcpy(a + 24, target_ip, 4);
	return ETH_MIN_FRAME;
}

int arp_is_reply(const uint8_t *frame, size_t len, const uint8_t my_ip[4],
		 const uint8_t target_ip[4], uint8_t who[ETH_ALEN])
{
	const uint8_t *a = frame + 14;

	if (len < 14 + 28 || get16(frame + 12) != ETHERTYPE_ARP)
		return 0;
	if (get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != ETH_ALEN || a[5] != 4 ||
	    get16(a + 6) != 2)
		return 0;
	if (memcmp(a + 14, target_ip, 4) || memcmp(a + 24, my_ip, 4))
		return 0;
	if (who)
		memcpy(who, a + 8, ETH_ALEN);
	return 1;
}

static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + 1u);
}

size_t test_frame(uint8_t *buf, const uint8_t mac[ETH_ALEN], enum test_kind kind, uint32_t seq)
{
	uint8_t *p = buf + eth_header(buf, broadcast, mac, ETHERTYPE_TEST);

	memcpy(p, test_magic, 4);
	p[4] = (uint8_t)kind;
	p[5] = (uint8_t)(seq >> 24);
	p[6] = (uint8_t)(seq >> 16);
	p[7] = (uint8_t)(seq >> 8);
	p[8] = (uint8_t)seq;
	for (size_t i = 9; i < ETH_MIN_FRAME - 14; i++)
		p[i] = pattern(seq, i);
	return ETH_MIN_FRAME;
}

int test_frame_parse(const uint8_t *frame, size_t len, const uint8_t own_mac[ETH_ALEN],
		     uint32_t *seq)
{
	const uint8_t *p = frame + 14;
	uint32_t s;

	if (len < ETH_MIN_FRAME || get16(frame + 12) != ETHERTYPE_TEST ||
	    !memcmp(frame + 6, own_mac, ETH_ALEN) || memcmp(p, test_magic, 4))
		return 0;
	if (p[4] != TEST_PING && p[4] != TEST_PONG)
		return 0;
	s = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8];
	for (size_t i = 9; i < ETH_MIN_FRAME - 14; i++)
		if (p[i] != pattern(s, i))
			return 0;
	*seq = s;
	return p[4];
}

int parse_ip(const char *s, uint8_t ip[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || digits > 3 || v > 255)
			return 0;
		ip[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return 0;
	}
	return *s == '\0';
}
