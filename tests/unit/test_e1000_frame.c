/*
 * Unit tests of the e1000 driver's frame logic (drivers/e1000/frame.c):
 * ARP requests and the recognition of replies, the ping/pong test frames,
 * and IP parsing; every parser is fed truncated and altered frames.
 */
#include "unit.h"

#include "e1000.h"

static const uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x10 };
static const uint8_t peer[ETH_ALEN] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t me[4] = { 10, 0, 2, 15 }, host[4] = { 10, 0, 2, 2 };

static void test_arp_request(void **state)
{
	uint8_t f[ETH_MIN_FRAME];
	static const uint8_t head[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12,
					0x34, 0x10, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0, 1 };
	(void)state;
	memset(f, 0xee, sizeof f);
	assert_int_equal(arp_request(f, mac, me, host), ETH_MIN_FRAME);
	assert_memory_equal(f, head, sizeof head);
	assert_memory_equal(f + 22, mac, 6);
	assert_memory_equal(f + 28, me, 4);
	for (int i = 32; i < 38; i++)
		assert_int_equal(f[i], 0);
	assert_memory_equal(f + 38, host, 4);
	for (int i = 42; i < ETH_MIN_FRAME; i++)
		assert_int_equal(f[i], 0);
}

/* The reply the virtual host sends to our request. */
static size_t make_reply(uint8_t *f)
{
	memset(f, 0, ETH_MIN_FRAME);
	memcpy(f, mac, 6);
	memcpy(f + 6, peer, 6);
	f[12] = 0x08, f[13] = 0x06;
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0, f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 2;
	memcpy(f + 22, peer, 6);
	memcpy(f + 28, host, 4);
	memcpy(f + 32, mac, 6);
	memcpy(f + 38, me, 4);
	return ETH_MIN_FRAME;
}

static void test_arp_reply(void **state)
{
	uint8_t f[ETH_MIN_FRAME], who[ETH_ALEN] = { 0 };
	size_t len = make_reply(f);
	(void)state;

	assert_true(arp_is_reply(f, len, me, host, who));
	assert_memory_equal(who, peer, 6);
	assert_true(arp_is_reply(f, 42, me, host, NULL));
	for (size_t l = 0; l < 42; l++)
		assert_false(arp_is_reply(f, l, me, host, NULL));
	/* every header byte and both IPs matter */
	static const int offs[] = { 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 28, 31, 38, 41 };
	for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		make_reply(f);
		f[offs[i]] ^= 0x40;
		assert_false(arp_is_reply(f, len, me, host, NULL));
	}
	/* our own request is no reply */
	arp_request(f, mac, me, host);
	assert_false(arp_is_reply(f, ETH_MIN_FRAME, me, host, NULL));
}

static void test_test_frames(void **state)
{
	uint8_t f[ETH_MIN_FRAME];
	uint32_t seq = 0;
	(void)state;

	assert_int_equal(test_frame(f, peer, TEST_PING, 0x01020304u), ETH_MIN_FRAME);
	assert_int_equal(test_frame_parse(f, ETH_MIN_FRAME, mac, &seq), TEST_PING);
	assert_int_equal(seq, 0x01020304u);
	/* our own frame (a hub does not echo, but a loop might) is ignored */
	assert_int_equal(test_frame_parse(f, ETH_MIN_FRAME, peer, &seq), 0);
	test_frame(f, peer, TEST_PONG, 7);
	assert_int_equal(test_frame_parse(f, ETH_MIN_FRAME, mac, &seq), TEST_PONG);
	assert_int_equal(seq, 7);
	/* short, wrong type, wrong kind, any altered pattern byte */
	assert_int_equal(test_frame_parse(f, ETH_MIN_FRAME - 1, mac, &seq), 0);
	for (int i = 12; i < ETH_MIN_FRAME; i++) {
		if (i >= 19 && i <= 22)
			continue; /* the sequence number: another valid frame? no: pattern differs */
		test_frame(f, peer, TEST_PONG, 7);
		f[i] ^= 1;
		assert_int_equal(test_frame_parse(f, ETH_MIN_FRAME, mac, &seq), 0);
	}
	test_frame(f, peer, TEST_PONG, 7);
	f[22] ^= 1; /* seq 6 with seq 7's pattern */
	assert_int_equal(test_frame_parse(f, ETH_MIN_FRAME, mac, &seq), 0);
}

static void test_parse_ip(void **state)
{
	uint8_t ip[4];
	(void)state;

	assert_true(parse_ip("192.168.10.1", ip));
	assert_int_equal(ip[0], 192);
	assert_int_equal(ip[3], 1);
	assert_true(parse_ip("0.0.0.0", ip));
	assert_true(parse_ip("255.255.255.255", ip));
	static const char *const bad[] = { "", "1", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "256.1.1.1",
					   "1..2.3", "1.2.3.-4", "a.b.c.d", "1.2.3.4 ", "0001.2.3.4",
					   "1.2.3.99999999999" };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(parse_ip(bad[i], ip));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_arp_reply),
		cmocka_unit_test(test_test_frames),
		cmocka_unit_test(test_parse_ip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
