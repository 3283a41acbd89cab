/*
 * Linktest: checks the links the roottask built for this domain (start
 * info link[], docs/config.md 'disk'/'port', lib/include/hv/link.h) and
 * passes one message over each. It prints every link it got (peer, kind,
 * role, size, parameters) and the region header; then a client writes
 * "ping from NAME" at the end of each region and rings the server, a
 * server answers each ping with "pong to NAME" and rings the client back.
 * Used by tests/boot/links.test; not a protocol of its own.
 */
#include <hv/runtime.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MSG 64

static char *msg_of(const struct hv_si_link *l, bool from_client)
{
	return (char *)(l->addr + l->size - (from_client ? 2 : 1) * MSG);
}

int main(const struct hv_startinfo *si)
{
	hv_word_t ms = si->tsc_khz;
	unsigned clients = 0, answered = 0;
	for (unsigned i = 0; i < si->num_links; i++) {
		const struct hv_si_link *l = &si->link[i];
		const struct hv_link_hdr *h = (const void *)l->addr;
		printf("linktest: link %u peer %s %s %s size %luK param %lx %lx %lx %lx\n", i, l->peer,
		       l->kind == HV_LINK_DISK ? "disk" : l->kind == HV_LINK_PORT ? "port" : "?",
		       l->role == HV_LINK_CLIENT ? "client" : "server", (unsigned long)(l->size >> 10),
		       (unsigned long)l->param[0], (unsigned long)l->param[1], (unsigned long)l->param[2],
		       (unsigned long)l->param[3]);
		if (h->magic != HV_LINK_MAGIC || h->kind != l->kind || h->size != l->size)
			printf("linktest: link %u: bad header (magic %#x kind %u size %lu)\n", i, h->magic, h->kind,
			       (unsigned long)h->size);
		if (l->kind == HV_LINK_PORT)
			printf("linktest: link %u: nbuf %u mac %012lx\n", i, ((const struct hv_net_shm *)h)->nbuf,
			       (unsigned long)((const struct hv_net_shm *)h)->mac);
		if (l->role == HV_LINK_CLIENT) {
			snprintf(msg_of(l, true), MSG, "ping from %s", si->name);
			hv_sm_up(l->peer_sm);
			clients++;
		}
	}
	/* serve pings and collect pongs for up to 5 s */
	hv_word_t end = hv_rdtsc() + 5000 * ms;
	unsigned pongs = 0;
	bool done[HV_SI_MAX_LINKS] = {0};
	while (pongs < clients || answered < si->num_links - clients) {
		if (hv_sm_down_until(si->link_sm, end) != HV_OK)
			break;
		for (unsigned i = 0; i < si->num_links; i++) {
			const struct hv_si_link *l = &si->link[i];
			if (done[i])
				continue;
			if (l->role == HV_LINK_SERVER && !strncmp(msg_of(l, true), "ping from ", 10)) {
				char m[MSG];
				memcpy(m, msg_of(l, true), MSG);
				m[MSG - 1] = 0;
				printf("linktest: link %u got '%s'\n", i, m);
				snprintf(msg_of(l, false), MSG, "pong to %s", m + 10);
				hv_sm_up(l->peer_sm);
				done[i] = true;
				answered++;
			} else if (l->role == HV_LINK_CLIENT && !strncmp(msg_of(l, false), "pong to ", 8)) {
				char m[MSG];
				memcpy(m, msg_of(l, false), MSG);
				m[MSG - 1] = 0;
				printf("linktest: link %u got '%s'\n", i, m);
				done[i] = true;
				pongs++;
			}
		}
	}
	printf("linktest: %s: %u of %u pongs, %u pings answered\n", si->name, pongs, clients, answered);
	/* servers stay a while for late clients' doorbells; nothing else to do */
	return 0;
}
