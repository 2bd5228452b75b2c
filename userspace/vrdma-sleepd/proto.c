// SPDX-License-Identifier: GPL-2.0
/*
 * Peer messages.
 *
 * A message is a 32-byte header, TLVs, and a 32-byte MAC:
 *
 *   0  magic "VSL1"   4  version 2, type   6  total length
 *   8  sender id      12 sender's epoch (wakes counted)
 *   16 boot id (random at each start of the sender's daemon)
 *   24 counter (1 for the first message of that boot, then +1)
 *   32 TLVs: type (16 bits), length (16 bits), value, padded to 4 bytes
 *   .. MAC: HMAC-SHA-512-256 (libsodium crypto_auth) of everything before
 *      it with the group key
 *
 * All integers are big-endian.  TLVs: NAME (1-31 printable bytes), MAC (6
 * bytes), FLAGS (1 byte: bit 0 can manage), STATE (1 byte), ADDRS, RDMA,
 * OVERLAY (lists of 16-byte addresses), PORTS (list of 16-bit ports),
 * MANAGES (list of 32-bit ids), NONCE (8 bytes), SUBJECT, SUBJECT_EPOCH
 * (4 bytes), WAKE (how to wake the sender, sealed: crypto_secretbox with a
 * key derived from the group key).  A TLV may appear once; unknown types are skipped (newer
 * versions); a length that does not suit the type, a list longer than
 * its limit, or a TLV that overruns the message rejects the message.
 *
 * The MAC is checked before anything else of the message is believed.
 * Replays: no clock is involved.  A receiver believes a sender's boot id
 * only after a PROBE_ACK carrying a nonce it has just sent (a challenge);
 * it then accepts counters above the challenge's answer, each once, up to
 * 64 behind the highest (struct replay).
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <endian.h>
#include <string.h>

#include "sleepd.h"

struct msg_hdr {
	uint32_t magic;
	uint8_t version;
	uint8_t type;
	uint16_t len;
	uint32_t sender;
	uint32_t epoch;
	uint64_t boot;
	uint64_t seq;
} __attribute__((packed));

_Static_assert(sizeof(struct msg_hdr) == 32, "header layout");

#define MAC_LEN		crypto_auth_BYTES

_Static_assert(crypto_auth_BYTES == crypto_verify_32_BYTES &&
	       crypto_auth_hmacsha512256_BYTES == crypto_auth_BYTES &&
	       crypto_auth_hmacsha512256_KEYBYTES == crypto_auth_KEYBYTES,
	       "crypto_auth is HMAC-SHA-512-256");
#define TLV_HDR		4

void msg_start(struct msg_out *m, enum msg_type type, uint32_t sender,
	       uint32_t epoch, uint64_t boot, uint64_t seq)
{
	struct msg_hdr *h = (struct msg_hdr *)m->buf;

	memset(m->buf, 0, sizeof(*h));
	h->magic = htonl(MSG_MAGIC);
	h->version = MSG_VERSION;
	h->type = type;
	h->sender = htonl(sender);
	h->epoch = htonl(epoch);
	h->boot = htobe64(boot);
	h->seq = htobe64(seq);
	m->len = sizeof(*h);
}

/* Values that do not fit are dropped (callers stay within the limits). */
void msg_put(struct msg_out *m, uint16_t type, const void *val, size_t len)
{
	size_t padded = (len + 3) & ~3UL;
	uint16_t t = htons(type), l = htons(len);

	if (len > 0xffff || m->len + TLV_HDR + padded + MAC_LEN > sizeof(m->buf))
		return;
	memcpy(m->buf + m->len, &t, 2);
	memcpy(m->buf + m->len + 2, &l, 2);
	memcpy(m->buf + m->len + TLV_HDR, val, len);
	memset(m->buf + m->len + TLV_HDR + len, 0, padded - len);
	m->len += TLV_HDR + padded;
}

void msg_put_u32(struct msg_out *m, uint16_t type, uint32_t v)
{
	v = htonl(v);
	msg_put(m, type, &v, sizeof(v));
}

void msg_put_u64(struct msg_out *m, uint16_t type, uint64_t v)
{
	v = htobe64(v);
	msg_put(m, type, &v, sizeof(v));
}

/* The key that seals T_WAKE: derived from the group key. */
static void wake_key(const uint8_t *key, uint8_t *out)
{
	static const char ctx[] = "vrdma-sleepd wake";

	crypto_generichash(out, crypto_secretbox_KEYBYTES, (const void *)ctx,
			   sizeof(ctx) - 1, key, SLEEPD_KEY_LEN);
}

/* WAKE: nonce, then sealed: flags (bit 0: SecureOn), password, args. */
#define WAKE_PLAIN_MAX	(1 + 6 + SLEEPD_ARGS_LEN - 1)

static void put_wake(struct msg_out *m, const struct host_info *h,
		     const uint8_t *key)
{
	uint8_t plain[WAKE_PLAIN_MAX], k[crypto_secretbox_KEYBYTES];
	uint8_t out[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
		    WAKE_PLAIN_MAX];
	size_t alen = strlen(h->fallback_args), len = 7 + alen;

	if (!h->has_secureon && !alen)
		return;
	plain[0] = h->has_secureon;
	memcpy(plain + 1, h->secureon, 6);
	memcpy(plain + 7, h->fallback_args, alen);
	wake_key(key, k);
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len,
			      out, k);
	sodium_memzero(k, sizeof(k));
	msg_put(m, T_WAKE, out, crypto_secretbox_NONCEBYTES +
		crypto_secretbox_MACBYTES + len);
}

static int get_wake(const uint8_t *v, size_t vlen, const uint8_t *key,
		    struct host_info *h)
{
	uint8_t plain[WAKE_PLAIN_MAX], k[crypto_secretbox_KEYBYTES];
	size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
	size_t len, i;
	int ret;

	if (vlen < over + 7 || vlen > over + WAKE_PLAIN_MAX)
		return -1;
	len = vlen - over;
	wake_key(key, k);
	ret = crypto_secretbox_open_easy(plain, v + crypto_secretbox_NONCEBYTES,
					 vlen - crypto_secretbox_NONCEBYTES,
					 v, k);
	sodium_memzero(k, sizeof(k));
	if (ret || plain[0] > 1)
		return -1;
	for (i = 7; i < len; i++)
		if (!isprint(plain[i]))
			return -1;
	h->has_secureon = plain[0];
	memcpy(h->secureon, plain + 1, 6);
	memcpy(h->fallback_args, plain + 7, len - 7);
	h->fallback_args[len - 7] = '\0';
	return 0;
}

void msg_put_info(struct msg_out *m, const struct host_info *h,
		  const uint32_t *manages, int n_manages, const uint8_t *key)
{
	uint16_t ports[SLEEPD_MAX_PORTS];
	uint32_t ids[SLEEPD_MAX_MANAGES];
	uint8_t flags = h->can_manage ? 1 : 0;
	int i;

	msg_put(m, T_NAME, h->name, strlen(h->name));
	msg_put(m, T_MAC, h->mac, 6);
	msg_put(m, T_FLAGS, &flags, 1);
	msg_put(m, T_STATE, &h->state, 1);
	msg_put(m, T_ADDRS, h->addrs, h->n_addrs * sizeof(h->addrs[0]));
	if (h->n_rdma)
		msg_put(m, T_RDMA, h->rdma, h->n_rdma * sizeof(h->rdma[0]));
	if (h->n_overlay)
		msg_put(m, T_OVERLAY, h->overlay,
			h->n_overlay * sizeof(h->overlay[0]));
	for (i = 0; i < h->n_ports; i++)
		ports[i] = htons(h->ports[i]);
	if (h->n_ports)
		msg_put(m, T_PORTS, ports, h->n_ports * 2);
	for (i = 0; i < n_manages && i < SLEEPD_MAX_MANAGES; i++)
		ids[i] = htonl(manages[i]);
	if (i)
		msg_put(m, T_MANAGES, ids, i * 4);
	put_wake(m, h, key);
}

/*
 * The MAC of @len bytes at @in, as crypto_auth() computes it.  HMAC hashes
 * two key blocks (inner and outer pad) before the message: for the
 * messages of a group (one to three SHA-512 blocks) that was half of the
 * work, and the daemon's most expensive step (each daemon checks every
 * HELLO of the group).  Those two blocks are hashed once per key; each
 * message starts from a copy of that state.
 */
static void mac(uint8_t *out, const uint8_t *in, size_t len,
		const uint8_t *key)
{
	static crypto_auth_hmacsha512256_state keyed;
	static uint8_t keyed_with[crypto_auth_KEYBYTES];
	static bool ready;
	crypto_auth_hmacsha512256_state st;

	if (!ready || memcmp(keyed_with, key, sizeof(keyed_with))) {
		crypto_auth_hmacsha512256_init(&keyed, key,
					       crypto_auth_KEYBYTES);
		memcpy(keyed_with, key, sizeof(keyed_with));
		ready = true;
	}
	st = keyed;
	crypto_auth_hmacsha512256_update(&st, in, len);
	crypto_auth_hmacsha512256_final(&st, out);
}

void msg_seal(struct msg_out *m, const uint8_t *key)
{
	struct msg_hdr *h = (struct msg_hdr *)m->buf;

	h->len = htons(m->len + MAC_LEN);
	mac(m->buf + m->len, m->buf, m->len, key);
	m->len += MAC_LEN;
}

/* A list TLV of @size-byte items, at most @max. */
static int get_list(const uint8_t *v, size_t len, size_t size, int max,
		    void *out, int *n)
{
	if (len % size || len / size > (size_t)max)
		return -1;
	memcpy(out, v, len);
	*n = len / size;
	return 0;
}

static int parse_tlvs(const uint8_t *p, size_t len, const uint8_t *key,
		      struct msg *out)
{
	struct host_info *h = &out->info;
	uint32_t seen = 0;
	size_t off = 0;
	int i, n;

	while (off < len) {
		uint16_t type, vlen;
		const uint8_t *v;
		size_t padded;

		if (len - off < TLV_HDR)
			return -1;
		memcpy(&type, p + off, 2);
		memcpy(&vlen, p + off + 2, 2);
		type = ntohs(type);
		vlen = ntohs(vlen);
		padded = (vlen + 3) & ~3UL;
		if (padded > len - off - TLV_HDR)
			return -1;
		v = p + off + TLV_HDR;
		off += TLV_HDR + padded;

		if (type < 32) {
			if (seen & (1U << type))
				return -1;	/* duplicate */
			seen |= 1U << type;
		}
		switch (type) {
		case T_NAME:
			if (!vlen || vlen >= SLEEPD_NAME_LEN)
				return -1;
			for (i = 0; i < vlen; i++)
				if (!isgraph(v[i]))
					return -1;
			memcpy(h->name, v, vlen);
			h->name[vlen] = '\0';
			break;
		case T_MAC:
			if (vlen != 6)
				return -1;
			memcpy(h->mac, v, 6);
			break;
		case T_FLAGS:
			if (vlen != 1)
				return -1;
			h->can_manage = v[0] & 1;
			break;
		case T_STATE:
			if (vlen != 1 || v[0] > HELLO_STATE_INTENT)
				return -1;
			h->state = v[0];
			break;
		case T_ADDRS:
			if (get_list(v, vlen, 16, SLEEPD_MAX_ADDRS, h->addrs,
				     &h->n_addrs))
				return -1;
			break;
		case T_RDMA:
			if (get_list(v, vlen, 16, SLEEPD_MAX_RDMA, h->rdma,
				     &h->n_rdma))
				return -1;
			break;
		case T_OVERLAY:
			if (get_list(v, vlen, 16, SLEEPD_MAX_OVERLAY,
				     h->overlay, &h->n_overlay))
				return -1;
			break;
		case T_PORTS:
			if (get_list(v, vlen, 2, SLEEPD_MAX_PORTS, h->ports,
				     &h->n_ports))
				return -1;
			for (i = 0; i < h->n_ports; i++) {
				h->ports[i] = ntohs(h->ports[i]);
				if (!h->ports[i])
					return -1;
			}
			break;
		case T_MANAGES:
			if (get_list(v, vlen, 4, SLEEPD_MAX_MANAGES,
				     out->manages, &out->n_manages))
				return -1;
			for (i = 0; i < out->n_manages; i++)
				out->manages[i] = ntohl(out->manages[i]);
			break;
		case T_NONCE:
			if (vlen != 8)
				return -1;
			memcpy(&out->nonce, v, 8);
			out->nonce = be64toh(out->nonce);
			break;
		case T_SUBJECT:
		case T_SUBJECT_EPOCH:
			if (vlen != 4)
				return -1;
			memcpy(&n, v, 4);
			if (type == T_SUBJECT)
				out->subject = ntohl(n);
			else
				out->subject_epoch = ntohl(n);
			break;
		case T_WAKE:
			if (get_wake(v, vlen, key, h))
				return -1;
			break;
		default:
			break;	/* a newer version's: skipped */
		}
	}

	/* What each type needs. */
	switch (out->type) {
	case MSG_HELLO:
		if (!(seen & (1U << T_NAME)) || !(seen & (1U << T_MAC)) ||
		    !h->n_addrs)
			return -1;
		break;
	case MSG_PROBE:
	case MSG_PROBE_ACK:
	case MSG_INTENT:
	case MSG_INTENT_ACK:
		if (!(seen & (1U << T_NONCE)))
			return -1;
		break;
	case MSG_MANAGE:
	case MSG_RELEASE:
		if (!(seen & (1U << T_SUBJECT)) || !out->subject)
			return -1;
		break;
	default:
		break;
	}
	return 0;
}

enum msg_err msg_parse(const uint8_t *buf, size_t len, const uint8_t *key,
		       struct msg *out)
{
	uint8_t tag[MAC_LEN];
	struct msg_hdr h;

	if (len < sizeof(h) + MAC_LEN)
		return MSG_SHORT;
	memcpy(&h, buf, sizeof(h));
	if (ntohl(h.magic) != MSG_MAGIC || h.version != MSG_VERSION ||
	    h.type < MSG_HELLO || h.type > MSG_TYPE_MAX ||
	    ntohs(h.len) != len || !h.sender)
		return MSG_BAD_HEADER;
	mac(tag, buf, len - MAC_LEN, key);
	if (crypto_verify_32(tag, buf + len - MAC_LEN))
		return MSG_BAD_AUTH;

	memset(out, 0, sizeof(*out));
	out->type = h.type;
	out->sender = ntohl(h.sender);
	out->epoch = ntohl(h.epoch);
	out->boot = be64toh(h.boot);
	out->seq = be64toh(h.seq);
	out->info.id = out->sender;
	if (parse_tlvs(buf + sizeof(h), len - sizeof(h) - MAC_LEN, key, out))
		return MSG_MALFORMED;
	return MSG_OK;
}

const char REPLAY_UNVERIFIED[] = "unverified boot";

const char *replay_check(struct replay *r, uint64_t boot, uint64_t seq)
{
	uint64_t back;

	if (!r->verified || boot != r->boot)
		return REPLAY_UNVERIFIED;
	if (seq <= r->floor)
		return "before the verified point";
	if (seq > r->max) {
		back = seq - r->max;
		r->seen = back >= 64 ? 0 : r->seen << back;
		r->seen |= 1;
		r->max = seq;
		return NULL;
	}
	back = r->max - seq;
	if (back >= REPLAY_WINDOW)
		return "older than the window";
	if (r->seen & (1ULL << back))
		return "replayed";
	r->seen |= 1ULL << back;
	return NULL;
}

void replay_verify(struct replay *r, uint64_t boot, uint64_t seq)
{
	r->boot = boot;
	r->floor = seq;
	r->max = seq;
	r->seen = 1;
	r->verified = true;
}
