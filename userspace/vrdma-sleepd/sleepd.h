/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrdma-sleepd: decentralized sleep management of a group of hosts on one
 * subnet (Documentation/sleep.rst).
 *
 *   main.c    event loop, control socket, structured logs
 *   config.c  the configuration file (inih)
 *   proto.c   peer messages: encoding, parsing, authentication, replay
 *   group.c   the group protocol: hellos, probes, takeover, wake, guardians
 *   kernel.c  the vrdma module: peers, interception, events, activity
 *   net.c     sockets, interface facts, Wake-on-LAN, gratuitous ARP/NA
 *   sim.c     test mode: simulated sleep
 */

#ifndef VRDMA_SLEEPD_H
#define VRDMA_SLEEPD_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "log.h"
#include "nl.h"

#define PROG			"vrdma-sleepd"
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define SLEEPD_NAME_LEN		32	/* NUL included */
#define SLEEPD_MAX_ADDRS	8	/* host addresses */
#define SLEEPD_MAX_RDMA		8	/* RNIC addresses */
#define SLEEPD_MAX_OVERLAY	32	/* container addresses */
#define SLEEPD_MAX_PORTS	128	/* listening TCP ports shared */
#define SLEEPD_MAX_MANAGES	64	/* sleepers listed in a hello */
#define SLEEPD_MAX_PEERS	1024
#define SLEEPD_KEY_LEN		crypto_auth_KEYBYTES
#define SLEEPD_PATH_LEN		256
#define SLEEPD_CMD_LEN		512
#define SLEEPD_ARGS_LEN		256	/* fallback-args, NUL included */
/* How long the sleep command may take to really suspend the machine. */
#define SLEEPD_SUSPEND_WAIT_MS	30000

/* ------------------------------------------------------------------ */
/* config.c                                                             */

struct config {
	/* [daemon] */
	char name[SLEEPD_NAME_LEN];
	uint32_t id;			/* 0: from the interface's IPv4 address */
	char ifname[IF_NAMESIZE];
	char control[108];		/* unix socket path */
	char log_path[SLEEPD_PATH_LEN];	/* "" or "-": stderr */
	int log_level;			/* 0 error .. 3 debug */
	/* [group] */
	struct in_addr group;		/* multicast or broadcast address */
	uint16_t port;
	uint8_t key[SLEEPD_KEY_LEN];
	bool has_key;
	/* [timers] (milliseconds) */
	int hello_ms;
	int probe_ms;
	int probes;			/* peers probed per period */
	int probe_timeout_ms;
	int dead_ms;			/* silent for this long: asleep or dead */
	int intent_ms;			/* sleep intent: wait for objections */
	/* [manage] */
	bool can_manage;
	int guardians;			/* awake manager-capable hosts kept */
	int wake_interval_ms;		/* least interval between two wakes of a host */
	int wakes_per_min;		/* most wakes of one host per minute */
	int wake_timeout_ms;		/* a wake that does not come back in time failed */
	/* [wake] */
	uint8_t secureon[6];		/* this host's SecureOn password */
	bool has_secureon;
	char fallback_args[SLEEPD_ARGS_LEN];	/* this host's, for others */
	char fallback_cmd[SLEEPD_CMD_LEN];	/* how this host wakes others */
	int fallback_after_ms;
	int fallback_interval_ms;
	/* [sleep] */
	int idle_sleep_ms;		/* 0: only on request */
	int activity_window_ms;		/* RDMA activity keeps the host awake */
	char sleep_cmd[SLEEPD_CMD_LEN];
	struct in6_addr rdma[SLEEPD_MAX_RDMA];
	int n_rdma;			/* 0: the interface's addresses */
	struct in6_addr overlay[SLEEPD_MAX_OVERLAY];
	int n_overlay;
	uint16_t ports[SLEEPD_MAX_PORTS];
	int n_ports;			/* -1: auto (/proc/net/tcp*) */
	/* [kernel] */
	char phys[64];			/* physical RDMA device of this host */
	int kernel_wake_timeout_ms;	/* -1: the module's default */
	int event_interval_ms;
	/* [test] */
	bool test;
	int resume_delay_ms;
	bool freeze_netns;		/* SIGSTOP the namespace's processes */
	char freeze_pidfile[SLEEPD_PATH_LEN];
	bool drop;			/* tc: drop all but magic packets */
	bool wol;			/* asleep, react to magic packets */
	char sleep_hook[SLEEPD_CMD_LEN];
	char wake_hook[SLEEPD_CMD_LEN];
};

int config_load(struct config *cfg, const char *path);

/* ------------------------------------------------------------------ */
/* proto.c                                                              */

enum msg_type {
	MSG_HELLO = 1,		/* state and facts, periodic, to the group */
	MSG_PROBE,		/* are you there? unicast */
	MSG_PROBE_ACK,		/* yes, unicast */
	MSG_MANAGE,		/* I manage this sleeper, to the group */
	MSG_RELEASE,		/* I no longer manage it */
	MSG_SLEEP,		/* I go to sleep now */
	MSG_INTENT,		/* I want to sleep: objections? */
	MSG_LEAVE,		/* I leave the group (daemon stops) */
	MSG_INTENT_ACK,		/* seen your intent: my state, unicast */
	MSG_TYPE_MAX = MSG_INTENT_ACK,
};

#define MSG_MAX_LEN		1400
#define MSG_MAGIC		0x56534c31	/* "VSL1" */
#define MSG_VERSION		2

/* What a host tells about itself. */
struct host_info {
	uint32_t id;
	char name[SLEEPD_NAME_LEN];
	uint8_t mac[6];
	bool can_manage;
	uint8_t state;			/* HELLO_STATE_* */
	int n_addrs, n_rdma, n_overlay, n_ports;
	struct in6_addr addrs[SLEEPD_MAX_ADDRS];
	struct in6_addr rdma[SLEEPD_MAX_RDMA];
	struct in6_addr overlay[SLEEPD_MAX_OVERLAY];
	uint16_t ports[SLEEPD_MAX_PORTS];
	/* how to wake it (T_WAKE, sealed with the group key) */
	bool has_secureon;
	uint8_t secureon[6];
	char fallback_args[SLEEPD_ARGS_LEN];
};

#define HELLO_STATE_AWAKE	0
#define HELLO_STATE_INTENT	1

/* A parsed, authenticated message. */
struct msg {
	enum msg_type type;
	uint32_t sender;
	uint32_t epoch;
	uint64_t boot;			/* the sender daemon's boot id */
	uint64_t seq;			/* its counter in that boot */
	struct host_info info;		/* HELLO */
	uint32_t manages[SLEEPD_MAX_MANAGES];
	int n_manages;			/* HELLO */
	uint64_t nonce;			/* PROBE, PROBE_ACK, INTENT, INTENT_ACK */
	uint32_t subject;		/* MANAGE, RELEASE */
	uint32_t subject_epoch;
};

/*
 * Replay protection state of one sender: its boot id and counter.  A
 * (sender, boot) is believed only once verified: a PROBE_ACK that carries
 * a nonce we just sent proves it live now, and only later counters are
 * accepted then (our own resume unverifies everyone: what a peer sent
 * while we slept may come back as a replay).
 */
#define REPLAY_WINDOW		64	/* late counters accepted once */
struct replay {
	uint64_t boot;
	uint64_t floor;			/* counters up to this are refused */
	uint64_t max;			/* highest counter accepted */
	uint64_t seen;			/* bit i: max - i accepted */
	bool verified;
};

extern const char REPLAY_UNVERIFIED[];

enum msg_err {
	MSG_OK,
	MSG_SHORT,		/* shorter than header and MAC */
	MSG_BAD_HEADER,		/* magic, version, type or length */
	MSG_BAD_AUTH,		/* MAC does not verify */
	MSG_MALFORMED,		/* bad TLVs */
};

struct msg_out {
	uint8_t buf[MSG_MAX_LEN];
	size_t len;
};

void msg_start(struct msg_out *m, enum msg_type type, uint32_t sender,
	       uint32_t epoch, uint64_t boot, uint64_t seq);
void msg_put(struct msg_out *m, uint16_t type, const void *val, size_t len);
void msg_put_info(struct msg_out *m, const struct host_info *h,
		  const uint32_t *manages, int n_manages, const uint8_t *key);
void msg_put_u32(struct msg_out *m, uint16_t type, uint32_t v);
void msg_put_u64(struct msg_out *m, uint16_t type, uint64_t v);
void msg_seal(struct msg_out *m, const uint8_t *key);
enum msg_err msg_parse(const uint8_t *buf, size_t len, const uint8_t *key,
		       struct msg *out);
/* Believe it?  Records it if so.  NULL, or why not (REPLAY_UNVERIFIED:
 * the sender's boot is not verified).
 */
const char *replay_check(struct replay *r, uint64_t boot, uint64_t seq);
/* A fresh answer to our nonce: (boot, seq) is the sender, live, now. */
void replay_verify(struct replay *r, uint64_t boot, uint64_t seq);

/* TLV types (proto.c documents them). */
enum {
	T_NAME = 1, T_MAC, T_FLAGS, T_STATE, T_ADDRS, T_RDMA, T_OVERLAY,
	T_PORTS, T_MANAGES, T_NONCE, T_SUBJECT, T_SUBJECT_EPOCH, T_WAKE,
};

/* ------------------------------------------------------------------ */
/* group.c                                                              */

enum peer_state {
	PEER_AWAKE,
	PEER_ASLEEP,		/* silent: asleep or dead */
	PEER_WAKING,		/* a magic packet went out */
	PEER_LIVE,		/* daemon silent, host answers at layer 2 */
};

#define SLEEPD_HEARD_BACK	32
/*
 * A live owner's IPv6 addresses are given their MAC back this long after
 * it was found alive: after the duplicate address detection it may be
 * running as it comes back (RFC 4862: a random delay of up to 1 s, then
 * 1 s), which an advertisement for its address would fail.
 */
#define SLEEPD_RESTORE6_MS	2500

struct peer {
	struct host_info info;
	bool known;			/* a hello was received */
	enum peer_state state;
	uint32_t epoch;
	int64_t last_heard;		/* any believed message */
	int64_t l2_seen;		/* an ARP from its address and MAC */
	int64_t asleep_since;
	bool announced;			/* it said it goes to sleep */
	uint32_t manager;		/* its manager's id, 0 for none */
	int64_t manager_seen;
	int64_t unmanaged_since;	/* when it last lost its manager */
	uint32_t lost_manager;		/* the manager it lost then, 0: none */
	int64_t cut_seen;		/* its silence last seen cut off, 0:
					 * heard or claimed since */
	int64_t lone_seen;		/* held last while we heard nobody */
	int64_t managed_since;		/* manager == us: since when */
	int64_t reannounce_at;
	int64_t restore6_at;		/* its IPv6 addresses' MAC, after DAD */
	int64_t next_reassert;		/* our MANAGE against a duplicate */
	int64_t next_l2;		/* next ARP probe */
	/* probes (also the challenge of an unverified boot) */
	uint64_t probe_nonce;
	int64_t probe_sent;
	/* liveness confirmation: protocol and ARP probes for probe-timeout */
	int64_t confirm_start;		/* 0: none running */
	bool confirm_takeover;		/* take it over if nothing answers */
	bool held;			/* a takeover is held back (logged) */
	/* wakes */
	int64_t last_wol;
	int64_t wol_window;
	int wol_count;
	int64_t waking_since;
	int64_t last_fallback;
	/* sleep intent */
	int64_t intent_at;		/* its intent, as heard */
	int64_t acked_awake_at;		/* we answered it "awake" */
	uint64_t ack_nonce;		/* its answer to our intent */
	uint8_t ack_state;
	struct replay replay;
	/* the module's copy */
	uint64_t ksig;
	bool in_kernel;
	struct in6_addr kaddr;		/* key address in the module */
};

enum self_state {
	SELF_AWAKE,
	SELF_INTENT,		/* announced an intent, waiting */
	SELF_ASLEEP,		/* (test mode) simulated sleep */
};

struct stats {
	uint64_t rx, tx, rx_bytes, tx_bytes;
	uint64_t auth_fail, replay, unverified, malformed;
	uint64_t probes, arp_probes, takeovers, releases, duplicates;
	uint64_t live, owner_alive, held;
	uint64_t wakes, wakes_limited, fallbacks, requests, sleeps, refusals;
	uint64_t addr_claims;
};

struct sleepd {
	struct config cfg;
	struct host_info self;
	enum self_state state;
	uint32_t epoch;
	uint64_t boot;			/* random at start */
	uint64_t seq;			/* counter of our messages */
	struct peer **peers;		/* each allocated on its own */
	int n_peers;
	/* interface */
	int ifindex;
	struct in_addr ip4, bcast4;
	/* sockets */
	int udp_fd, wol_raw_fd, wol_udp_fd, ctl_fd, arp_fd;
	struct nl nl;			/* requests; owns the module's domain */
	struct nl nl_ev;		/* events */
	/* timers (monotonic ms) */
	int64_t next_hello, next_probe, next_activity, next_guardian;
	int64_t intent_deadline, intent_at, next_intent_tx;
	uint64_t intent_nonce;
	int64_t reclaim_at;		/* our last answer to a claim on us */
	uint32_t claimer;		/* who claims us while awake, 0: nobody */
	int64_t resume_at;		/* test mode: woken, resuming */
	int64_t garp_at;		/* our own second announcement */
	int64_t rejoin_at;		/* our last re-announcement to a peer
					 * heard again after a silence */
	/* when peers were heard again after silences (1 s apart at least) */
	int64_t heard_back[SLEEPD_HEARD_BACK];
	unsigned int heard_back_i;
	int64_t sleep_retry_at;
	int64_t next_resync;		/* the module's copy, checked */
	int64_t last_busy;		/* last time activity kept us awake */
	bool sleep_requested;
	const char *refusal;		/* why the last sleep attempt failed */
	bool stop;
	/* fallback wake commands running */
	struct child {
		int pid;
		char peer[SLEEPD_NAME_LEN];
		int64_t started;
	} children[8];
	/* test mode */
	int *frozen;
	int n_frozen;
	struct stats st;
	int64_t started;
};

void group_init(struct sleepd *sd);
void group_tick(struct sleepd *sd, int64_t now);
void group_rx(struct sleepd *sd, const uint8_t *buf, size_t len,
	      const struct sockaddr_in *from, int64_t now);
void group_leave(struct sleepd *sd);
void group_request_wake(struct sleepd *sd, const struct in6_addr *addr,
			const char *reason, int64_t now);
struct peer *group_find_addr(struct sleepd *sd, const struct in6_addr *addr);
struct peer *group_find_name(struct sleepd *sd, const char *name);
void group_wake(struct sleepd *sd, struct peer *p, const char *reason,
		int64_t now);
void group_resume(struct sleepd *sd, const char *why, int64_t now);
void group_addr_claimed(struct sleepd *sd, const struct in_addr *sip,
			const uint8_t *sha, int64_t now);
void group_arp_seen(struct sleepd *sd, const struct in_addr *sip,
		    const uint8_t *sha, int64_t now);
void group_owner_alive(struct sleepd *sd, struct peer *p, const char *how,
		       int64_t now);
struct json_object *group_status(struct sleepd *sd, int64_t now);
const char *peer_state_name(enum peer_state s);

/* ------------------------------------------------------------------ */
/* kernel.c                                                             */

int kernel_open(struct sleepd *sd);
void kernel_close(struct sleepd *sd);
void kernel_sync_peer(struct sleepd *sd, struct peer *p, bool announce);
void kernel_forget_peer(struct sleepd *sd, struct peer *p);
void kernel_events(struct sleepd *sd, int64_t now);
/* Is this host's RDMA in use?  Fills why. */
bool kernel_busy(struct sleepd *sd, const char **why);

/* ------------------------------------------------------------------ */
/* net.c                                                                */

int net_iface(struct sleepd *sd);
int net_open(struct sleepd *sd);
int net_ports(uint16_t *ports, int max);
int net_send_group(struct sleepd *sd, struct msg_out *m);
int net_send_to(struct sleepd *sd, struct msg_out *m,
		const struct sockaddr_in *to);
void net_wol(struct sleepd *sd, const uint8_t *mac, const uint8_t *secureon);
void net_announce_self(struct sleepd *sd);
void net_arp_probe(struct sleepd *sd, const struct in_addr *ip,
		   const uint8_t *mac);
void net_arp_rx(struct sleepd *sd, int64_t now);
void net_restore(struct sleepd *sd, const struct host_info *h, int family);
void net_secureon_check(struct sleepd *sd);
bool net_magic_rx(struct sleepd *sd, int fd, char *from, size_t len);
bool ipv4_of(const struct in6_addr *a, struct in_addr *out);
const char *addr_str(const struct in6_addr *a, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* sim.c                                                                */

void sim_warmup(struct sleepd *sd);
int sim_enter(struct sleepd *sd);
void sim_leave(struct sleepd *sd);

/* ------------------------------------------------------------------ */
/* main.c                                                               */

int64_t now_ms(void);
uint64_t now_us_real(void);

/* Log records: lib/log.h (log_start(), log_end(), log_msg(), jadd_*()). */
void jadd_addr(struct json_object *o, const char *key,
	       const struct in6_addr *a);
int run_cmd(const char *cmd);

#endif /* VRDMA_SLEEPD_H */
