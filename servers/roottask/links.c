/*
 * Links between domains ('disk' and 'port' keys, docs/config.md): one
 * region of the roottask's RAM per link, mapped read-write into the client
 * and the server, and one doorbell semaphore per domain that has a link.
 * The regions and doorbells belong to the roottask and outlive the domains
 * mapping them, so a domain can be started again on the same links.
 * Layout and protocols: lib/include/hv/link.h.
 */
#include "roottask.h"

#include <hv/link.h>
#include <string.h>

struct rt_link {
	unsigned client, server;  /* domain indices */
	const struct cfg_link *cl; /* the client's configuration line */
	unsigned line;
	hv_word_t pa, size;       /* the region (pa 0: none, reported) */
	unsigned cslot, sslot;    /* link index in the client's and the server's start info */
};

static struct rt_link links[CFG_MAX_DOMAINS * CFG_MAX_LINKS];
static unsigned nlinks;
static hv_sel_t doorbell[CFG_MAX_DOMAINS]; /* in the roottask's space; 0: no links */

static unsigned dom_index(const struct domain *d)
{
	return (unsigned)(d - domains);
}

/* The link of client c to server s (NULL: none). */
static const struct rt_link *link_between(unsigned c, unsigned s)
{
	for (unsigned i = 0; i < nlinks; i++)
		if (links[i].client == c && links[i].server == s)
			return &links[i];
	return NULL;
}

/* Builds every link of the valid domains and the doorbells; a link whose
 * region cannot be had is reported here and fails its domains' start. */
void links_init(void)
{
	unsigned nslot[CFG_MAX_DOMAINS] = {0};
	for (unsigned i = 0; i < config.ndom; i++) {
		const struct cfg_domain *c = &config.dom[i];
		for (unsigned j = 0; c->valid && j < c->nlink; j++) {
			int s = cfg_find_domain(&config, c->link[j].peer);
			if (s < 0 || nlinks == sizeof(links) / sizeof(links[0]))
				continue; /* the parser refused such a domain */
			struct rt_link *l = &links[nlinks++];
			l->client = i;
			l->server = (unsigned)s;
			l->cl = &c->link[j];
			l->line = c->link_line[j];
			l->size = c->link[j].size;
			l->cslot = nslot[i]++;
			l->sslot = nslot[s]++;
			if (!ralloc_alloc(&ram, l->size, HV_PAGE_SIZE, &l->pa)) {
				rt_log("%s:%u: not enough free RAM for the %luK link of domain '%s' to '%s'", config_name,
				       l->line, (unsigned long)(l->size >> 10), c->name, c->link[j].peer);
				l->pa = 0;
				continue;
			}
			void *r = (void *)(HV_RT_PHYS_BASE + l->pa);
			memset(r, 0, l->size);
			struct hv_link_hdr *h = r;
			h->magic = HV_LINK_MAGIC;
			h->kind = l->cl->kind;
			h->size = l->size;
			if (l->cl->kind == CFG_LINK_PORT) {
				struct hv_net_shm *n = r;
				hv_word_t nbuf = (l->size - HV_NET_DATA) / HV_NET_BUF / 2;
				n->nbuf = (uint32_t)(nbuf < HV_NET_RING ? nbuf : HV_NET_RING);
				n->mac = l->cl->mac;
			}
		}
	}
	for (unsigned i = 0; i < config.ndom; i++) {
		if (!nslot[i])
			continue;
		hv_sel_t sm = hv_sel_alloc();
		if (hv_create_sm(sm, HV_SEL_PD, 0) == HV_OK)
			doorbell[i] = sm;
		else
			rt_log("%s:%u: domain '%s': no doorbell semaphore for its links", config_name, config.dom[i].line,
			       config.dom[i].name);
	}
}

/* The allow mask of the port of client c on switch s: bit j = the
 * switch's link j, for every 'allow' line of s that pairs c with a domain
 * that has a port on s. */
static hv_word_t allow_mask(unsigned c, unsigned s)
{
	const struct cfg_domain *sw = &config.dom[s];
	hv_word_t mask = 0;
	for (unsigned a = 0; a < sw->nallow; a++)
		for (unsigned k = 0; k < 2; k++) {
			if (strcmp(sw->allow[a][k], config.dom[c].name))
				continue;
			int o = cfg_find_domain(&config, sw->allow[a][!k]);
			const struct rt_link *ol = o < 0 ? NULL : link_between((unsigned)o, s);
			if (ol && ol->cl->kind == CFG_LINK_PORT)
				mask |= 1ul << ol->sslot;
		}
	return mask;
}

/* Gives domain d its links: regions, its doorbell, the peers' doorbells. */
bool links_grant(struct domain *d, struct hv_startinfo *si, hv_sel_t *next)
{
	unsigned di = dom_index(d);
	const struct cfg_domain *c = d->cfg;
	if (!doorbell[di])
		return true;
	hv_status_t st = give_cap(d->pd, doorbell[di], *next, HV_R_SM_DOWN);
	if (st != HV_OK) {
		rt_log("%s:%u: domain '%s': cannot give its doorbell: %s", config_name, c->line, c->name,
		       hv_status_str(st));
		return false;
	}
	si->link_sm = (*next)++;
	for (unsigned i = 0; i < nlinks; i++) {
		const struct rt_link *l = &links[i];
		bool client = l->client == di;
		if (!client && l->server != di)
			continue;
		unsigned peer = client ? l->server : l->client, slot = client ? l->cslot : l->sslot;
		const char *what = l->cl->kind == CFG_LINK_DISK ? "disk" : "port";
		if (!l->pa || !doorbell[peer] || slot >= HV_SI_MAX_LINKS) {
			rt_log("%s:%u: domain '%s': its %s link with '%s' was not built", config_name, l->line, c->name,
			       what, config.dom[peer].name);
			return false;
		}
		st = give_mem(d->pd, HV_RT_PHYS_BASE + l->pa, HV_SI_LINK(slot), l->size, 0, HV_R_MEM_R | HV_R_MEM_W);
		if (st == HV_OK)
			st = give_cap(d->pd, doorbell[peer], *next, HV_R_SM_UP);
		if (st != HV_OK) {
			rt_log("%s:%u: domain '%s': cannot map its %s link with '%s': %s", config_name, l->line, c->name,
			       what, config.dom[peer].name, hv_status_str(st));
			return false;
		}
		struct hv_si_link *e = &si->link[slot];
		memcpy(e->peer, config.dom[peer].name, sizeof(e->peer));
		e->kind = l->cl->kind;
		e->role = client ? HV_LINK_CLIENT : HV_LINK_SERVER;
		e->addr = HV_SI_LINK(slot);
		e->size = l->size;
		e->peer_sm = (*next)++;
		if (l->cl->kind == CFG_LINK_PORT) {
			e->param[HV_LINK_PORT_MAC] = l->cl->mac;
			if (!client) {
				e->param[HV_LINK_PORT_VLAN] = l->cl->vlan;
				e->param[HV_LINK_PORT_RATE] = l->cl->rate;
				e->param[HV_LINK_PORT_ALLOW] = allow_mask(l->client, di);
			}
		} else if (!client) {
			e->param[HV_LINK_DISK_FIRST] = l->cl->first;
			e->param[HV_LINK_DISK_COUNT] = l->cl->count;
			e->param[HV_LINK_DISK_FLAGS] = (l->cl->ro ? HV_DISK_RO : 0) | (l->cl->part ? HV_DISK_PART : 0);
		}
		if (slot >= si->num_links)
			si->num_links = slot + 1;
	}
	return true;
}

/* Domain d is about to be started again: every link it has gets a new
 * epoch (and its server side is not ready), and the peer's doorbell rings
 * so that it resets its side (the epoch protocol of hv/link.h). */
void links_reset(struct domain *d)
{
	unsigned di = dom_index(d);
	for (unsigned i = 0; i < nlinks; i++) {
		const struct rt_link *l = &links[i];
		if ((l->client != di && l->server != di) || !l->pa)
			continue;
		struct hv_link_hdr *h = (struct hv_link_hdr *)(HV_RT_PHYS_BASE + l->pa);
		h->server_ready = 0;
		__atomic_store_n(&h->epoch, h->epoch + 1, __ATOMIC_RELEASE);
		unsigned peer = l->client == di ? l->server : l->client;
		if (doorbell[peer])
			(void)hv_sm_up(doorbell[peer]);
	}
}
