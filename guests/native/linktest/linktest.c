/*
 * Linktest: checks the links the roottask built for this domain (start
 * info link[], docs/config.md 'disk'/'port', lib/include/hv/link.h) and
 * passes one message over each. It prints every link it got (peer, kind,
 * role, size, parameters) and the region header; then a client writes
 * "ping from NAME" at the end of each region and rings the server, a
 * server answers each ping with "pong to NAME" and rings the client back.
 * Arguments (tests of 'restart' and the epoch protocol):
 *   crash  a server ends with a fault (ud2) once it has answered every
 *          ping, in its first life only (start info 'restarts' is 0);
 *   again  a client, after its pongs, waits for a new epoch on every link
 *          (its server was started again), resets its side (client_epoch),
 *          waits for server_ready and pings once more.
 * A server answers a link only once client_epoch equals the link's epoch.
 * Used by tests/boot/links.test and links-restart.test.
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

/* Whether the module arguments hold the word w. */
static bool has_word(const char *args, const char *w)
{
	char word[32];
	while (str_next_word(&args, word, sizeof(word)))
		if (!strcmp(word, w))
			return true;
	return false;
}

static void ping(const struct hv_startinfo *si, const struct hv_si_link *l, uint32_t epoch)
{
	struct hv_link_hdr *h = (void *)l->addr;
	memset(msg_of(l, false), 0, MSG);
	snprintf(msg_of(l, true), MSG, "ping from %s", si->name);
	h->client_epoch = epoch;
	hv_sm_up(l->peer_sm);
}

int main(const struct hv_startinfo *si)
{
	hv_word_t ms = si->tsc_khz;
	bool crash = has_word(si->args, "crash") && si->restarts == 0, again = has_word(si->args, "again");
	unsigned clients = 0, answered = 0, servers = 0;
	uint32_t epoch[HV_SI_MAX_LINKS] = {0};
	for (unsigned i = 0; i < si->num_links; i++) {
		const struct hv_si_link *l = &si->link[i];
		struct hv_link_hdr *h = (void *)l->addr;
		if (si->restarts == 0) {
			printf("linktest: link %u peer %s %s %s size %luK param %lx %lx %lx %lx\n", i, l->peer,
			       l->kind == HV_LINK_DISK ? "disk" : l->kind == HV_LINK_PORT ? "port" : "?",
			       l->role == HV_LINK_CLIENT ? "client" : "server", (unsigned long)(l->size >> 10),
			       (unsigned long)l->param[0], (unsigned long)l->param[1], (unsigned long)l->param[2],
			       (unsigned long)l->param[3]);
			if (h->magic != HV_LINK_MAGIC || h->kind != l->kind || h->size != l->size)
				printf("linktest: link %u: bad header (magic %#x kind %u size %lu)\n", i, h->magic,
				       h->kind, (unsigned long)h->size);
			if (l->kind == HV_LINK_PORT)
				printf("linktest: link %u: nbuf %u mac %012lx\n", i,
				       ((const struct hv_net_shm *)h)->nbuf,
				       (unsigned long)((const struct hv_net_shm *)h)->mac);
		} else {
			printf("linktest: started again (%lu), link %u epoch %u\n", (unsigned long)si->restarts, i,
			       h->epoch);
		}
		epoch[i] = h->epoch;
		if (l->role == HV_LINK_CLIENT) {
			ping(si, l, epoch[i]);
			clients++;
		} else {
			servers++;
		}
	}
	/* serve pings and collect pongs for up to 5 s */
	hv_word_t end = hv_rdtsc() + 5000 * ms;
	/* a client link is done with a pong in its current epoch (with 'again':
	 * an epoch after the first; a pong the old server sent but the epoch
	 * change hid is lost, as a request in flight may be) */
	unsigned pongs = 0;
	unsigned done[HV_SI_MAX_LINKS] = {0};
	while (pongs < clients || answered < servers) {
		if (hv_sm_down_until(si->link_sm, end) != HV_OK)
			break;
		for (unsigned i = 0; i < si->num_links; i++) {
			const struct hv_si_link *l = &si->link[i];
			struct hv_link_hdr *h = (void *)l->addr;
			char m[MSG];
			if (l->role == HV_LINK_SERVER && !done[i] && h->client_epoch == h->epoch &&
			    !strncmp(msg_of(l, true), "ping from ", 10)) {
				memcpy(m, msg_of(l, true), MSG);
				m[MSG - 1] = 0;
				printf("linktest: link %u epoch %u got '%s'\n", i, h->epoch, m);
				snprintf(msg_of(l, false), MSG, "pong to %s", m + 10);
				h->server_ready = h->epoch + 1;
				hv_sm_up(l->peer_sm);
				done[i] = 1;
				answered++;
			} else if (l->role == HV_LINK_CLIENT && h->epoch != epoch[i]) {
				epoch[i] = h->epoch; /* the server was started again: reset, ping again */
				printf("linktest: link %u: new epoch %u\n", i, epoch[i]);
				pongs -= done[i] == 2 && (!again || epoch[i] > 1);
				done[i] = 1;
				ping(si, l, epoch[i]);
			} else if (l->role == HV_LINK_CLIENT && done[i] < 2 && h->server_ready == epoch[i] + 1 &&
				   !strncmp(msg_of(l, false), "pong to ", 8)) {
				memcpy(m, msg_of(l, false), MSG);
				m[MSG - 1] = 0;
				printf("linktest: link %u epoch %u got '%s'\n", i, epoch[i], m);
				done[i] = 2;
				pongs += !again || epoch[i] > 0;
			}
		}
	}
	printf("linktest: %s: %u of %u pongs, %u pings answered\n", si->name, pongs, clients, answered);
	if (crash)
		__asm__ volatile("ud2");
	return 0;
}
