// SPDX-License-Identifier: GPL-2.0
/*
 * The membership authority of a group: the one place where the chain is
 * decided.  It runs on the host that holds the group's authority address
 * (one per group), and nowhere else.  Replacing it (for example by a
 * client of a coordination service) means replacing this file: its
 * interface is the configuration it publishes (struct repl_config: an
 * epoch and the chain) and the heartbeats and suspicions it receives.
 *
 * Decisions, one configuration change (epoch + 1) at a time:
 *
 *  - epoch 1 is every configured member in configuration order;
 *  - a member of the chain is removed when its heartbeats stop for
 *    vrdma_repl_lease_ms + 2 * vrdma_repl_hb_ms (by then it has fenced itself: its
 *    lease ran out), at once when it reports that it has no RDMA device
 *    or that it restarted (a new nonce), when it reports it is not up to
 *    date although it is in the chain as such, and when a neighbour
 *    suspects it (its QP broke) and it missed two heartbeats; silence
 *    or suspicion never removes the last up-to-date member: the group
 *    stalls until it is heard again;
 *  - a member of the chain that stalls (progress, not heartbeats: a hung
 *    gFLUSH, endless RNR, a data path that drops while the control
 *    channel works): its predecessor applied more than it did, by their
 *    heartbeats, and its own applied sequence number has not moved for
 *    vrdma_repl_stall_ms (plus, for a joining member, the time to
 *    transfer the region at REPL_STALL_XFER_BPS).  The member furthest
 *    down the chain goes first (a stalled member stops its predecessors
 *    in turn once their logs fill), never the last up-to-date member, and
 *    a member that sends a state transfer is not judged (it pauses by
 *    design; its joining successor is).  A member removed this way joins
 *    again only after a hold-off, vrdma_repl_stall_ms doubled at each
 *    such removal (at most 16 times), until it is up to date again;
 *  - a configured member outside the chain that heartbeats, has its
 *    device, is appended at the tail marked SYNC (joining) when no other
 *    member is joining and at least one member of the chain is up to
 *    date; its predecessor transfers the region to it;
 *  - a joining member that reports being up to date, with the state
 *    received in the epoch that appended it or later, loses its SYNC mark
 *    (a new epoch).
 *
 * If no up-to-date member is left, the group is lost: the authority
 * stops changing the chain (Documentation/replication.rst).
 *
 * Every configuration is pushed to every member and to the agents heard
 * from recently, and answers every heartbeat, with a lease: a member
 * applies nothing once its lease has expired.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/slab.h>

#include "audit.h"
#include "ctrl.h"
#include "repl.h"

#define REPL_AGENT_FORGET_MS	10000
#define REPL_STALL_MS_MAX	3600000U	/* vrdma_repl_stall_ms, 1 hour */
#define REPL_STALL_XFER_BPS	(16U << 20)	/* a joiner's slowest transfer */
#define REPL_STALL_HOLD_SHIFT	4U		/* hold-off: at most 16 bounds */

static void repl_auth_send(struct repl_authority *a, const struct in6_addr *dst,
			   u8 role, u8 idx, u64 echo)
{
	struct vrdma_repl_c_config cfg = {};
	unsigned int i;

	vrdma_repl_hdr_fill(&cfg.h, a->g, a->cfg.epoch, VRDMA_REPL_R_AUTHORITY,
			    VRDMA_REPL_NO_IDX, role, idx);
	cfg.echo = cpu_to_le64(echo);
	cfg.lease_ms = cpu_to_le32(vrdma_repl_lease_ms);
	cfg.nchain = a->cfg.nchain;
	for (i = 0; i < a->cfg.nchain; i++) {
		cfg.idx[i] = a->cfg.idx[i];
		cfg.flags[i] = a->cfg.flags[i];
	}
	vrdma_ctrl_send(a->ep, dst, VRDMA_REPL_C_CONFIG, &cfg, sizeof(cfg));
}

/* Publish a new epoch: to every member, and to the recent agents. */
static void repl_auth_publish(struct repl_authority *a)
{
	struct repl_group *g = a->g;
	unsigned int i;
	char chain[VRDMA_REPL_MAX_MEMBERS * 5 + 1] = "";
	int n = 0;

	a->cfg.epoch++;
	/* New neighbours, new links: progress is judged afresh. */
	for (i = 0; i < g->nmembers; i++) {
		a->m[i].prog_applied = a->m[i].applied;
		a->m[i].prog_at = jiffies;
	}
	for (i = 0; i < a->cfg.nchain; i++)
		n += scnprintf(chain + n, sizeof(chain) - n, "%s%u%s",
			       i ? " " : "", a->cfg.idx[i],
			       a->cfg.flags[i] & VRDMA_REPL_CE_SYNC ? "+" : "");
	pr_info("repl %s: authority: epoch %u, chain [%s]\n", g->name,
		a->cfg.epoch, chain);
	for (i = 0; i < g->nmembers; i++)
		repl_auth_send(a, &g->members[i], VRDMA_REPL_R_MEMBER, i, 0);
	for (i = 0; i < REPL_AUTH_AGENTS; i++) {
		if (!a->agents[i].last)
			continue;
		repl_auth_send(a, &a->agents[i].addr, VRDMA_REPL_R_AGENT,
			       VRDMA_REPL_NO_IDX, 0);
	}
}

/* Rebuild a->cfg from the per-member flags, keeping the chain order. */
static void repl_auth_remove(struct repl_authority *a, u8 idx,
			     const char *why)
{
	unsigned int i, j;

	if (!a->m[idx].in_chain)
		return;
	a->m[idx].in_chain = false;
	a->m[idx].sync = false;
	for (i = 0, j = 0; i < a->cfg.nchain; i++) {
		if (a->cfg.idx[i] == idx)
			continue;
		a->cfg.idx[j] = a->cfg.idx[i];
		a->cfg.flags[j] = a->cfg.flags[i];
		j++;
	}
	a->cfg.nchain = j;
	pr_info("repl %s: authority: member %u (%pI6c) removed: %s\n",
		a->g->name, idx, &a->g->members[idx], why);
}

/*
 * Is member @idx the last up-to-date member of the chain?  Silence alone
 * never removes it: without it the group would be lost for good, while a
 * member that comes back (a link flap, a stalled host) resumes the chain.
 * Until then the group stalls: the member's lease runs out and it fences
 * itself.
 */
static bool repl_auth_last_up_to_date(const struct repl_authority *a, u8 idx)
{
	unsigned int i;

	for (i = 0; i < a->cfg.nchain; i++)
		if (a->cfg.idx[i] != idx &&
		    !(a->cfg.flags[i] & VRDMA_REPL_CE_SYNC))
			return false;
	return true;
}

static bool repl_auth_check_lost(struct repl_authority *a)
{
	unsigned int i;

	if (a->lost)
		return true;
	for (i = 0; i < a->cfg.nchain; i++)
		if (!(a->cfg.flags[i] & VRDMA_REPL_CE_SYNC))
			return false;
	a->lost = true;
	pr_err("repl %s: authority: no up-to-date member left, the group is lost\n",
	       a->g->name);
	return true;
}

/*
 * Progress-based failure detection (see the top of this file): update
 * each judged member's progress and return the chain position of the
 * stalled member furthest down the chain, or -1.  @stall: the bound in
 * jiffies.
 */
static int repl_auth_find_stall(struct repl_authority *a, unsigned long now,
				unsigned long stall)
{
	unsigned long recent = msecs_to_jiffies(3 * vrdma_repl_hb_ms + 100);
	unsigned long xfer = msecs_to_jiffies(div_u64(a->g->size * MSEC_PER_SEC,
						      REPL_STALL_XFER_BPS));
	int pos, found = -1;

	lockdep_assert_held(&vrdma_repl_auth_lock);
	for (pos = a->cfg.nchain - 1; pos > 0; pos--) {
		struct repl_auth_member *am = &a->m[a->cfg.idx[pos]];
		const struct repl_auth_member *pred = &a->m[a->cfg.idx[pos - 1]];
		bool sending = pos + 1 < a->cfg.nchain &&
			       (a->cfg.flags[pos + 1] & VRDMA_REPL_CE_SYNC);

		/*
		 * Progress, nothing to catch up, or nothing recent to judge
		 * by (silence has its own rule): the clock starts again.
		 */
		if (sending || am->applied != am->prog_applied ||
		    pred->applied <= am->applied ||
		    time_after(now, am->last_hb + recent) ||
		    time_after(now, pred->last_hb + recent)) {
			am->prog_applied = am->applied;
			am->prog_at = now;
			continue;
		}
		if (found < 0 &&
		    time_after(now, am->prog_at + stall +
			       (a->cfg.flags[pos] & VRDMA_REPL_CE_SYNC ? xfer : 0)))
			found = pos;
	}
	return found;
}

/* Remove the member at chain position @pos, which stalled. */
static void repl_auth_remove_stalled(struct repl_authority *a, int pos,
				     unsigned long now, unsigned long stall)
{
	u8 idx = a->cfg.idx[pos], pidx = a->cfg.idx[pos - 1];
	struct repl_auth_member *am = &a->m[idx];
	char why[128];

	lockdep_assert_held(&vrdma_repl_auth_lock);
	snprintf(why, sizeof(why),
		 "stalled (applied %llu for %u ms, member %u applied %llu)",
		 am->applied, jiffies_to_msecs(now - am->prog_at), pidx,
		 a->m[pidx].applied);
	repl_auth_remove(a, idx, why);
	am->held = true;
	am->rejoin_at = now + (stall << min(am->stalls, REPL_STALL_HOLD_SHIFT));
	am->stalls++;
}

/**
 * vrdma_repl_auth_tick() - periodic decisions
 * @a: the authority
 *
 * vrdma_repl_auth_lock held.
 */
void vrdma_repl_auth_tick(struct repl_authority *a)
{
	unsigned long now = jiffies;
	unsigned long timeout = msecs_to_jiffies(vrdma_repl_lease_ms + 2 * vrdma_repl_hb_ms);
	unsigned long recent = msecs_to_jiffies(3 * vrdma_repl_hb_ms + 100);
	struct repl_group *g = a->g;
	unsigned int stall_ms = min(READ_ONCE(vrdma_repl_stall_ms), REPL_STALL_MS_MAX);
	unsigned long stall = msecs_to_jiffies(stall_ms);
	bool changed = false, joining = false;
	unsigned int i, pos;
	int spos;

	lockdep_assert_held(&vrdma_repl_auth_lock);
	if (a->lost)
		return;

	for (i = 0; i < g->nmembers; i++) {
		if (a->m[i].in_chain &&
		    time_after(now, a->m[i].last_hb + timeout) &&
		    !repl_auth_last_up_to_date(a, i)) {
			repl_auth_remove(a, i, "no heartbeat");
			changed = true;
		}
	}
	if (changed && repl_auth_check_lost(a)) {
		repl_auth_publish(a);
		return;
	}

	/* One that heartbeats but makes no progress. */
	if (!changed && stall_ms) {
		spos = repl_auth_find_stall(a, now, stall);
		if (spos > 0 && !repl_auth_last_up_to_date(a, a->cfg.idx[spos])) {
			repl_auth_remove_stalled(a, spos, now, stall);
			changed = true;
			if (repl_auth_check_lost(a)) {
				repl_auth_publish(a);
				return;
			}
		}
	}

	/* A joining member that caught up. */
	for (pos = 0; pos < a->cfg.nchain; pos++) {
		i = a->cfg.idx[pos];
		if (!(a->cfg.flags[pos] & VRDMA_REPL_CE_SYNC))
			continue;
		/*
		 * It received the state in this join (a member stays in sync
		 * while it stays in the chain, through later epochs too).
		 */
		if ((a->m[i].flags & VRDMA_REPL_HB_IN_SYNC) &&
		    a->m[i].synced_epoch >= a->m[i].join_epoch) {
			a->cfg.flags[pos] &= ~VRDMA_REPL_CE_SYNC;
			a->m[i].sync = false;
			a->m[i].stalls = 0;
			a->m[i].held = false;
			pr_info("repl %s: authority: member %u is up to date\n",
				g->name, i);
			changed = true;
		} else {
			joining = true;
		}
	}

	/* One member joins at a time, behind an up-to-date tail. */
	if (!joining && a->cfg.nchain &&
	    a->cfg.nchain < VRDMA_REPL_MAX_MEMBERS) {
		for (i = 0; i < g->nmembers; i++) {
			if (a->m[i].in_chain || !a->m[i].seen ||
			    (a->m[i].flags & VRDMA_REPL_HB_NODEV) ||
			    time_after(now, a->m[i].last_hb + recent) ||
			    (a->m[i].held &&
			     time_before(now, a->m[i].rejoin_at)))
				continue;
			a->m[i].in_chain = true;
			a->m[i].sync = true;
			a->m[i].join_epoch = a->cfg.epoch + 1;	/* published below */
			a->cfg.idx[a->cfg.nchain] = i;
			a->cfg.flags[a->cfg.nchain] = VRDMA_REPL_CE_SYNC;
			a->cfg.nchain++;
			pr_info("repl %s: authority: member %u (%pI6c) joins at the tail\n",
				g->name, i, &g->members[i]);
			changed = true;
			break;
		}
	}
	if (changed)
		repl_auth_publish(a);
}

/**
 * vrdma_repl_auth_hb() - a heartbeat from a member or an agent
 * @a: the authority
 * @src: its address (for members, checked against the configuration)
 * @hb: the heartbeat
 *
 * Answers with the configuration and a lease.  vrdma_repl_auth_lock held.
 */
void vrdma_repl_auth_hb(struct repl_authority *a, const struct in6_addr *src,
			const struct vrdma_repl_c_hb *hb)
{
	u32 flags = le32_to_cpu(hb->flags);
	u64 nonce = le64_to_cpu(hb->nonce);
	struct repl_auth_member *am;
	unsigned int i, slot = REPL_AUTH_AGENTS;
	unsigned long oldest = jiffies;
	u8 idx = hb->h.src_idx;

	lockdep_assert_held(&vrdma_repl_auth_lock);
	if (hb->h.src_role == VRDMA_REPL_R_AGENT) {
		for (i = 0; i < REPL_AUTH_AGENTS; i++) {
			if (a->agents[i].last &&
			    ipv6_addr_equal(&a->agents[i].addr, src)) {
				slot = i;
				break;
			}
			if (!a->agents[i].last ||
			    time_before(a->agents[i].last, oldest)) {
				oldest = a->agents[i].last;
				slot = i;
			}
		}
		if (slot < REPL_AUTH_AGENTS) {
			a->agents[slot].addr = *src;
			a->agents[slot].last = jiffies ?: 1;
		}
		repl_auth_send(a, src, VRDMA_REPL_R_AGENT, VRDMA_REPL_NO_IDX,
			       le64_to_cpu(hb->echo));
		return;
	}

	am = &a->m[idx];
	if (am->seen && am->nonce != nonce && am->in_chain && !a->lost) {
		repl_auth_remove(a, idx, "restarted");
		repl_auth_publish(a);
	}
	if (am->seen && am->nonce != nonce) {
		/* A new instance: a stall of the old one is not held against it. */
		am->held = false;
		am->stalls = 0;
	}
	am->seen = true;
	am->nonce = nonce;
	am->last_hb = jiffies;
	am->flags = flags;
	/*
	 * Any value is valid: it is only compared, with the member's earlier
	 * ones and with its predecessor's (repl_auth_find_stall()).
	 */
	am->applied = le64_to_cpu(hb->applied);
	am->synced_epoch = le32_to_cpu(hb->synced_epoch);
	if (am->in_chain && !a->lost) {
		if (flags & VRDMA_REPL_HB_NODEV) {
			repl_auth_remove(a, idx, "no RDMA device");
			repl_auth_check_lost(a);
			repl_auth_publish(a);
		} else if (!am->sync && !(flags & VRDMA_REPL_HB_IN_SYNC) &&
			   le32_to_cpu(hb->h.epoch) == a->cfg.epoch) {
			repl_auth_remove(a, idx, "not up to date");
			repl_auth_check_lost(a);
			repl_auth_publish(a);
		}
	}
	repl_auth_send(a, src, VRDMA_REPL_R_MEMBER, idx,
		       le64_to_cpu(hb->echo));
}

/**
 * vrdma_repl_auth_suspect() - a member's QP to a neighbour broke
 * @a: the authority
 * @s: the report
 *
 * vrdma_repl_auth_lock held.
 */
void vrdma_repl_auth_suspect(struct repl_authority *a,
			     const struct vrdma_repl_c_suspect *s)
{
	unsigned long quiet = msecs_to_jiffies(2 * vrdma_repl_hb_ms);

	lockdep_assert_held(&vrdma_repl_auth_lock);
	if (a->lost || s->idx >= a->g->nmembers ||
	    le32_to_cpu(s->h.epoch) != a->cfg.epoch ||
	    !a->m[s->idx].in_chain ||
	    !time_after(jiffies, a->m[s->idx].last_hb + quiet) ||
	    repl_auth_last_up_to_date(a, s->idx))
		return;
	repl_auth_remove(a, s->idx, "suspected by a neighbour");
	repl_auth_check_lost(a);
	repl_auth_publish(a);
}

/**
 * vrdma_repl_auth_create() - the authority of a group (on this host)
 * @g: the group
 *
 * Called without vrdma_repl_lock (the group is not visible yet).
 *
 * Return: the authority or an ERR_PTR.
 */
struct repl_authority *vrdma_repl_auth_create(struct repl_group *g)
{
	struct repl_authority *a;
	unsigned int i;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return ERR_PTR(-ENOMEM);
	a->g = g;
	INIT_LIST_HEAD(&a->node);
	a->ep = vrdma_ctrl_ep_get(&g->authority);
	if (IS_ERR(a->ep)) {
		long ret = PTR_ERR(a->ep);

		kfree(a);
		return ERR_PTR(ret);
	}
	a->started = jiffies;
	a->cfg.epoch = 1;
	a->cfg.nchain = g->nmembers;
	for (i = 0; i < g->nmembers; i++) {
		a->cfg.idx[i] = i;
		a->m[i].in_chain = true;
		a->m[i].last_hb = jiffies;	/* grace until they appear */
		a->m[i].prog_at = jiffies;
	}
	vrdma_audit_created(VRDMA_AUDIT_REPL_AUTH);
	return a;
}

/**
 * vrdma_repl_auth_destroy() - the authority goes away with its group
 * @a: the authority, or NULL
 */
void vrdma_repl_auth_destroy(struct repl_authority *a)
{
	if (!a)
		return;
	vrdma_ctrl_ep_put(a->ep);
	kfree(a);
	vrdma_audit_destroyed(VRDMA_AUDIT_REPL_AUTH);
}
