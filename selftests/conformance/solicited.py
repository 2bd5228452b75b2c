#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# A CQ armed for solicited completions only (ibv_req_notify_cq(cq, 1)) must
# not signal its completion channel for a receive the sender did not mark
# solicited, and must signal it for one it did (IBV_SEND_SOLICITED).
#
#   solicited.py DEV GID_INDEX
#
# Two RC QPs of DEV connected to each other.  Prints TAP, exits 1 when a
# check failed.
import os
import select
import sys
import time

from pyverbs.addr import AHAttr, GlobalRoute
from pyverbs.cq import CQ, CompChannel
from pyverbs.device import Context
from pyverbs.mr import MR
from pyverbs.pd import PD
from pyverbs.qp import QP, QPCap, QPInitAttr, QPAttr
from pyverbs.wr import SGE, SendWR, RecvWR
import pyverbs.enums as e

from tap import Tap

dev, gid_index = sys.argv[1], int(sys.argv[2])
QUIET = 2.0	# seconds a channel must stay quiet after an unsolicited receive
tap = Tap()
check = tap.check


def event_fds():
    fds = set()
    for fd in os.listdir('/proc/self/fd'):
        try:
            if 'infinibandevent' in os.readlink('/proc/self/fd/' + fd):
                fds.add(int(fd))
        except OSError:
            pass
    return fds


ctx = Context(name=dev)
pd = PD(ctx)
before = event_fds()
cc = CompChannel(ctx)
ccfd = (event_fds() - before).pop()	# the completion channel's file
rcq = CQ(ctx, 16, None, cc, 0)
scq = CQ(ctx, 16)
gid = ctx.query_gid(1, gid_index)


def make_qp(cq):
    cap = QPCap(max_send_wr=4, max_recv_wr=4, max_send_sge=1, max_recv_sge=1)
    return QP(pd, QPInitAttr(qp_type=e.IBV_QPT_RC, scq=scq, rcq=cq, cap=cap))


sqp, rqp = make_qp(scq), make_qp(rcq)
for qp, peer in ((sqp, rqp), (rqp, sqp)):
    a = QPAttr(qp_state=e.IBV_QPS_INIT, port_num=1)
    a.qp_access_flags = e.IBV_ACCESS_REMOTE_WRITE
    qp.to_init(a)
    a = QPAttr(qp_state=e.IBV_QPS_RTR)
    a.path_mtu = e.IBV_MTU_1024
    a.dest_qp_num = peer.qp_num
    a.ah_attr = AHAttr(port_num=1, is_global=1, gr=GlobalRoute(dgid=gid, sgid_index=gid_index))
    a.min_rnr_timer = 12
    a.max_dest_rd_atomic = 1
    qp.to_rtr(a)
    a = QPAttr(qp_state=e.IBV_QPS_RTS)
    a.timeout = 14
    a.retry_cnt = 7
    a.rnr_retry = 7
    a.max_rd_atomic = 1
    qp.to_rts(a)

smr = MR(pd, 64, e.IBV_ACCESS_LOCAL_WRITE)
rmr = MR(pd, 64, e.IBV_ACCESS_LOCAL_WRITE)


def poll(cq, what):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        nc, wcs = cq.poll()
        if nc:
            if wcs[0].status != e.IBV_WC_SUCCESS:
                raise AssertionError('%s: status %d' % (what, wcs[0].status))
            return wcs[0]
        time.sleep(0.001)
    raise AssertionError('%s: no completion in 20 s' % what)


def send(flags):
    rqp.post_recv(RecvWR(num_sge=1, sg=[SGE(rmr.buf, 64, rmr.lkey)]))
    # RNR retries (rnr_retry 7: without end) cover a receive not yet seen.
    sqp.post_send(SendWR(opcode=e.IBV_WR_SEND, num_sge=1,
                         sg=[SGE(smr.buf, 8, smr.lkey)],
                         send_flags=e.IBV_SEND_SIGNALED | flags))
    poll(scq, 'send')


def readable(timeout):
    r, _, _ = select.select([ccfd], [], [], timeout)
    return bool(r)


# 1. Armed solicited-only: an unsolicited receive completes, no event.
rcq.req_notify(solicited_only=True)
send(0)
poll(rcq, 'unsolicited receive')
check('an unsolicited receive does not signal a solicited-only CQ',
      not readable(QUIET), 'the completion channel was signalled')
if readable(0):
    cc.get_cq_event(rcq)
    rcq.ack_events(1)
    rcq.req_notify(solicited_only=True)

# 2. Still armed: a solicited receive signals it.
send(e.IBV_SEND_SOLICITED)
ok = readable(20)
check('a solicited receive signals a solicited-only CQ', ok,
      'no event in 20 s')
if ok:
    cc.get_cq_event(rcq)
    rcq.ack_events(1)
poll(rcq, 'solicited receive')

# 3. Armed for any completion: an unsolicited receive signals it.
rcq.req_notify(solicited_only=False)
send(0)
ok = readable(20)
check('an unsolicited receive signals a CQ armed for any completion', ok,
      'no event in 20 s')
if ok:
    cc.get_cq_event(rcq)
    rcq.ack_events(1)
poll(rcq, 'receive')

# 4. Armed solicited-only again after events: unsolicited is quiet again.
rcq.req_notify(solicited_only=True)
send(0)
poll(rcq, 'unsolicited receive')
check('after a normal arming, solicited-only is quiet again for an unsolicited receive',
      not readable(QUIET), 'the completion channel was signalled')
if readable(0):
    cc.get_cq_event(rcq)
    rcq.ack_events(1)

# 5. Checks 3 and 4 again and again, each unsolicited receive a chance
#    for a race between it and the polling of the CQ (on a vrdma device,
#    by its timer while no arming for any completion is in force).  The
#    CQ is armed on one CPU and the messages are sent from the other.
ROUNDS, PER_ROUND = 12, 8
start = time.monotonic()
cpus = sorted(os.sched_getaffinity(0))
spurious, missing = [], []


def on_cpu(i):
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[i % len(cpus)]})


for r in range(ROUNDS):
    on_cpu(r)
    rcq.req_notify(solicited_only=False)
    on_cpu(r + 1)
    send(0)
    if readable(20):
        cc.get_cq_event(rcq)
        rcq.ack_events(1)
    else:
        missing.append(r)
    poll(rcq, 'receive')
    on_cpu(r)
    rcq.req_notify(solicited_only=True)
    on_cpu(r + 1)
    for _ in range(PER_ROUND):
        send(0)
        poll(rcq, 'unsolicited receive')
    # An event for these was queued before the last receive was in the
    # ring; 0.1 s covers the channel's wake-up.
    if readable(0.1):
        spurious.append(r)
        cc.get_cq_event(rcq)
        rcq.ack_events(1)
os.sched_setaffinity(0, cpus)
check('%d rounds: an event for a receive after arming for any completion, '
      'none for %d unsolicited ones after arming solicited-only'
      % (ROUNDS, PER_ROUND), not spurious and not missing,
      'spurious events in rounds %s; no event in rounds %s'
      % (spurious, missing))
rcq.req_notify(solicited_only=True)
send(e.IBV_SEND_SOLICITED)
check('then a solicited receive signals the CQ', readable(20),
      'no event in 20 s')
poll(rcq, 'solicited receive')
print('# check 5 took %.1f s' % (time.monotonic() - start))

tap.finish()
