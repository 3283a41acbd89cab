/*
 * Links: shared-memory channels between two domains, built by the roottask
 * from the configuration ('disk' and 'port' keys, docs/config.md). A link
 * is one region of RAM owned by the roottask and mapped read-write into
 * both domains, plus the peer's doorbell semaphore. This is a user-space
 * convention between the roottask, servers and clients, not kernel ABI.
 *
 * Doorbells: every domain with a link has one semaphore of its own
 * (hv_startinfo.link_sm, right to down it) and, per link, the right to up
 * the peer's (hv_si_link.peer_sm). A side that has nothing to do sets its
 * *_sleeping word, re-checks its rings, then downs its doorbell; the other
 * side ups the doorbell only when it sees that word set (and clears it), so
 * a busy path makes no system call per request or packet.
 *
 * Trust: each side treats everything the other writes into the region as
 * hostile. A word is read once into a local copy, then checked (ring index
 * distance <= ring size, offsets and lengths inside the data area, no
 * overflow). Fields have one writer each, named below; a side never relies
 * on a field it does not write keeping its value. Parameters that matter
 * for isolation (a client's extent, read-only, MAC, VLAN, rate, policy)
 * are in the SERVER's start info (hv_si_link.param), set by the roottask:
 * the client cannot change them.
 */
#ifndef HV_LINK_H
#define HV_LINK_H

#include <hv/abi.h>
#include <stdint.h>

#define HV_SI_MAX_LINKS 16
/* Link i's region is mapped at HV_SI_LINK(i) (a 1 GiB slot each). */
#define HV_SI_LINKS 0x0000400000000000ul
#define HV_SI_LINK(i) (HV_SI_LINKS + ((hv_word_t)(i) << 30))
#define HV_LINK_SIZE_MIN (64ul << 10)
#define HV_LINK_SIZE_MAX (16ul << 20)
#define HV_LINK_SIZE_DEFAULT (256ul << 10)

enum hv_link_kind { HV_LINK_DISK = 1, HV_LINK_PORT = 2 };
enum hv_link_role { HV_LINK_CLIENT = 1, HV_LINK_SERVER = 2 };

/* Block-link parameters (server side, param[]). */
#define HV_LINK_DISK_FIRST 0  /* first sector of the client's extent, or the GPT partition number */
#define HV_LINK_DISK_COUNT 1  /* sectors in the extent (0: to the end of the disk / partition) */
#define HV_LINK_DISK_FLAGS 2  /* HV_DISK_* */
#define HV_DISK_RO (1u << 0)   /* read-only grant */
#define HV_DISK_PART (1u << 1) /* param[FIRST] is a GPT partition number (1-based) */
/* Port-link parameters (server side; the client gets MAC only). */
#define HV_LINK_PORT_MAC 0   /* the port's MAC, 48 bits, first octet in bits 40..47 */
#define HV_LINK_PORT_VLAN 1  /* 802.1Q VLAN id 1..4094, 0: untagged */
#define HV_LINK_PORT_RATE 2  /* bytes per second, 0: unlimited */
#define HV_LINK_PORT_ALLOW 3 /* bit j: may exchange frames with the server's link j */

/* One link in a domain's start info. */
struct hv_si_link {
	char peer[16];        /* the other domain's name */
	hv_word_t kind;       /* HV_LINK_DISK, HV_LINK_PORT */
	hv_word_t role;       /* HV_LINK_CLIENT (it wrote 'disk'/'port') or HV_LINK_SERVER */
	hv_word_t addr, size; /* the region, mapped read-write here */
	hv_sel_t peer_sm;     /* up: rings the peer's doorbell */
	hv_word_t param[4];   /* HV_LINK_DISK_* / HV_LINK_PORT_* (server: all; client: MAC only) */
};

/*
 * Epochs (a server restarted by the roottask, 'restart' key): the roottask
 * sets server_ready = 0, bumps epoch and rings the client's doorbell; the
 * region keeps whatever it held. Then:
 *  - the server, at every start, reads epoch E, sets its own ring indices
 *    to 0 (block: sq_cons, cq_prod; port: tx_used.cons, tx_free.prod,
 *    rx_free.cons, rx_used.prod) and link_up/sectors/info as at a first
 *    start, waits until client_epoch == E (doorbell), and only then sets
 *    server_ready = E + 1 and rings the client;
 *  - the client, whenever it sees epoch != the epoch it works in, stops
 *    using the rings, sets its own indices to 0 (block: sq_prod, cq_cons;
 *    port: tx_used.prod, tx_free.cons, rx_free.prod, rx_used.cons), takes
 *    back every buffer and request in flight (a block request in flight is
 *    submitted again or failed; frames in flight are lost), sets
 *    client_epoch = E, rings the server and waits for server_ready == E + 1.
 * At the first start epoch and client_epoch are 0, so the server's wait
 * ends at once. A port shows the flap to its guest (link down, then up).
 */

/* Every region starts with this; the roottask writes it before either side runs. */
struct hv_link_hdr {
	uint32_t magic;   /* HV_LINK_MAGIC (roottask) */
	uint32_t kind;    /* enum hv_link_kind (roottask) */
	uint64_t size;    /* region bytes (roottask) */
	volatile uint32_t epoch;  /* roottask: bumped when the server is restarted */
	volatile uint32_t server_ready;  /* server: ready for this epoch's rings (value = epoch + 1) */
	volatile uint32_t client_sleeping; /* client: wants a doorbell */
	volatile uint32_t server_sleeping; /* server: wants a doorbell */
	volatile uint32_t client_epoch;    /* client: the epoch it has reset its side for */
	uint32_t reserved;
};
#define HV_LINK_MAGIC 0x4b4e494cu /* "LINK" */

/* ---- block links (HV_LINK_DISK) -----------------------------------------
 * Page 0: struct hv_blk_shm. The data area is the rest of the region
 * [HV_BLK_DATA, size): the client places request data there and names it
 * by offset from the region's start; the server checks offset and length
 * against [HV_BLK_DATA, size). Sectors are 512 bytes. */
#define HV_BLK_SECTOR 512
#define HV_BLK_RING 64 /* entries per ring (power of two) */
#define HV_BLK_DATA 4096
enum hv_blk_op { HV_BLK_READ = 1, HV_BLK_WRITE = 2, HV_BLK_FLUSH = 3 };
enum hv_blk_status { HV_BLK_OK = 0, HV_BLK_EIO = 1, HV_BLK_ERANGE = 2, HV_BLK_ERO = 3, HV_BLK_EINVAL = 4 };
#define HV_BLK_INFO_RO (1u << 0)    /* server: the grant is read-only */
#define HV_BLK_INFO_FLUSH (1u << 1) /* server: FLUSH reaches stable storage */

struct hv_blk_req {
	uint64_t id;       /* client's tag, echoed */
	uint32_t op;       /* enum hv_blk_op */
	uint32_t len;      /* bytes, a multiple of HV_BLK_SECTOR (0 for FLUSH) */
	uint64_t sector;   /* relative to the client's extent */
	uint64_t offset;   /* data: region offset */
};
struct hv_blk_cpl {
	uint64_t id;
	uint32_t status;   /* enum hv_blk_status */
	uint32_t len;      /* bytes done */
};
struct hv_blk_shm {
	struct hv_link_hdr h;
	uint64_t sectors;  /* server: the client's disk size */
	uint32_t info;     /* server: HV_BLK_INFO_* */
	uint32_t max_len;  /* server: largest len it takes */
	volatile uint32_t sq_prod; /* client */
	volatile uint32_t sq_cons; /* server */
	volatile uint32_t cq_prod; /* server */
	volatile uint32_t cq_cons; /* client */
	struct hv_blk_req sq[HV_BLK_RING]; /* client writes */
	struct hv_blk_cpl cq[HV_BLK_RING]; /* server writes */
};

/* ---- port links (HV_LINK_PORT) ------------------------------------------
 * Pages 0-1: struct hv_net_shm. Then nbuf transmit buffers, then nbuf receive
 * buffers, HV_NET_BUF bytes each, nbuf = min(HV_NET_RING,
 * (size - HV_NET_DATA) / HV_NET_BUF / 2) (the roottask writes it). Buffers
 * are named by index; the queues carry (index, length) pairs, as in sDDF:
 *  tx: client takes a free index from tx_free (at start every tx buffer is
 *      the client's), fills it, puts it on tx_used; the switch copies the
 *      frame out and puts the index back on tx_free.
 *  rx: client puts empty buffers on rx_free; the switch copies a frame
 *      into one and puts it on rx_used; the client consumes, returns it.
 * A frame is an Ethernet frame without FCS, 14..HV_NET_MTU_FRAME bytes. */
#define HV_NET_BUF 2048
#define HV_NET_RING 256
#define HV_NET_DATA 8192
#define HV_NET_MTU_FRAME 1514
struct hv_net_desc {
	uint16_t idx;   /* buffer index < nbuf */
	uint16_t len;   /* frame bytes */
};
struct hv_net_queue {
	volatile uint32_t prod; /* written by the producer side */
	volatile uint32_t cons; /* written by the consumer side */
	struct hv_net_desc d[HV_NET_RING];
};
struct hv_net_shm {
	struct hv_link_hdr h;
	uint32_t nbuf;     /* roottask */
	uint32_t link_up;  /* server: 1 while the port forwards */
	uint64_t mac;      /* roottask: the port's MAC (as HV_LINK_PORT_MAC) */
	struct hv_net_queue tx_used; /* client -> switch */
	struct hv_net_queue tx_free; /* switch -> client */
	struct hv_net_queue rx_free; /* client -> switch */
	struct hv_net_queue rx_used; /* switch -> client */
};
/* Buffer i of a region at base with nbuf buffers per direction (nbuf: the
 * side's own checked copy, never re-read from the region). */
#define HV_NET_TXBUF(base, nbuf, i) ((uint8_t *)(base) + HV_NET_DATA + (hv_word_t)(i) * HV_NET_BUF)
#define HV_NET_RXBUF(base, nbuf, i) ((uint8_t *)(base) + HV_NET_DATA + ((hv_word_t)(nbuf) + (i)) * HV_NET_BUF)

#endif
