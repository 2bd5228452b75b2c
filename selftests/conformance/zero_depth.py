#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Queue pairs with a send or a receive queue of depth 0 (max_send_wr = 0 or
# max_recv_wr = 0: receive-only and send-only QPs, as benchmark servers and
# read-only clients create them), through verbs and through rdma_cm.
#
#   zero_depth.py DEV ADDR      (ADDR: an IPv4 address of DEV, for rdma_cm)
#
# Prints TAP ("ok N ..." / "not ok N ...") and exits 1 when a check failed.
import ipaddress
import multiprocessing as mp
import sys
import time
import traceback

from pyverbs.addr import AH, AHAttr, GlobalRoute
from pyverbs.cmid import CMID, AddrInfo
from pyverbs.cq import CQ
from pyverbs.device import Context
from pyverbs.mr import MR
from pyverbs.pd import PD
from pyverbs.pyverbs_error import PyverbsRDMAError
from pyverbs.qp import QP, QPCap, QPInitAttr, QPAttr
from pyverbs.wr import SGE, SendWR, RecvWR
import pyverbs.cm_enums as ce
import pyverbs.enums as e

from tap import Tap

dev, addr = sys.argv[1], sys.argv[2]
PORT = '18599'
tap = Tap()
check = tap.check


def attempt(desc, fn):
    try:
        fn()
    except Exception:
        check(desc, False, traceback.format_exc())
    else:
        check(desc, True)


# ---- verbs ---------------------------------------------------------------
ctx = Context(name=dev)
pd = PD(ctx)
cq = CQ(ctx, 16)
mr = MR(pd, 64, e.IBV_ACCESS_LOCAL_WRITE)
sge = SGE(mr.buf, 64, mr.lkey)


def gid_index():
    """The GID table index of ADDR (its IPv4-mapped GID)."""
    want = ipaddress.IPv6Address('::ffff:' + addr)
    for i in range(ctx.query_port(1).gid_tbl_len):
        try:
            gid = ctx.query_gid(1, i)
        except PyverbsRDMAError:
            continue
        if ipaddress.IPv6Address(gid.gid) == want:
            return i, gid
    raise AssertionError('no GID of %s on %s' % (addr, dev))


ahs = []


def send_wr(qpt):
    """A send work request; a UD one needs an address (librxe reads it)."""
    wr = SendWR(opcode=e.IBV_WR_SEND, num_sge=1, sg=[sge])
    if qpt == e.IBV_QPT_UD:
        idx, gid = gid_index()
        gr = GlobalRoute(dgid=gid, sgid_index=idx)
        ah = AH(pd, attr=AHAttr(gr=gr, is_global=1, port_num=1))
        ahs.append(ah)		# alive while the WR points to it
        wr.set_wr_ud(ah, 1, 0x11111111)
    return wr


def verbs_case(qpt, s, r):
    cap = QPCap(max_send_wr=s, max_recv_wr=r, max_send_sge=1, max_recv_sge=1)
    qp = QP(pd, QPInitAttr(qp_type=qpt, scq=cq, rcq=cq, cap=cap))
    attr = QPAttr(qp_state=e.IBV_QPS_INIT, port_num=1)
    if qpt == e.IBV_QPT_UD:
        attr.qkey = 0x11111111
    else:
        attr.qp_access_flags = e.IBV_ACCESS_REMOTE_WRITE
    qp.to_init(attr)
    # The queue of depth 0 takes nothing, the other one does.
    if s == 0:
        try:
            qp.post_send(send_wr(qpt))
        except PyverbsRDMAError:
            pass
        else:
            raise AssertionError('a send was posted to a send queue of depth 0')
        qp.post_recv(RecvWR(num_sge=1, sg=[sge]))
    if r == 0:
        try:
            qp.post_recv(RecvWR(num_sge=1, sg=[sge]))
        except PyverbsRDMAError:
            pass
        else:
            raise AssertionError('a receive was posted to a receive queue of depth 0')
    qp.close()


for qpt, name in ((e.IBV_QPT_RC, 'RC'), (e.IBV_QPT_UD, 'UD')):
    for s, r in ((0, 4), (4, 0)):
        attempt('verbs: %s QP with max_send_wr=%d max_recv_wr=%d' % (name, s, r),
                lambda: verbs_case(qpt, s, r))


# ---- rdma_cm: a receive-only server, a send-only client -------------------
# librdmacm creates no CQ for a queue of depth 0 (its own CQs are sized by
# the depths): a program with such a QP brings its CQ, as here.
def cm_qp(cid, s, r):
    cq = CQ(cid.context, 4)
    cid.create_qp(QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cq, rcq=cq,
                             cap=QPCap(max_send_wr=s, max_recv_wr=r,
                                       max_send_sge=1, max_recv_sge=1)))
    return cq


def cm_poll(cq, what):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        n, wcs = cq.poll()
        if n:
            if wcs[0].status != e.IBV_WC_SUCCESS:
                raise AssertionError('%s: completion status %d' % (what, wcs[0].status))
            return wcs[0]
        time.sleep(0.001)
    raise AssertionError('%s: no completion in 20 s' % what)


def server(conn):
    try:
        ai = AddrInfo(src=addr, src_service=PORT, port_space=ce.RDMA_PS_TCP,
                      flags=ce.RAI_PASSIVE)
        lid = CMID(creator=ai)
        lid.listen()
        conn.send('listening')
        cid = lid.get_request()
        cq = cm_qp(cid, 0, 2)
        mr = cid.reg_msgs(64)
        cid.post_recv(mr)
        cid.accept()
        cm_poll(cq, 'receive')
        got = mr.read(5, 0)
        if got not in (b'hello', 'hello'):
            raise AssertionError('received %r' % got)
        conn.send('ok')
        conn.recv()		# the client is done and disconnects
        # rdma_disconnect() of a synchronous ID returns on the
        # DISCONNECTED event: the client's DREQ, or its DREP to ours.
        cid.disconnect()
        cid.close()		# the QP first: it holds the CQ
        cq.close()
        conn.send('closed')
    except Exception:
        conn.send(traceback.format_exc())


def client():
    ai = AddrInfo(src=addr, dst=addr, dst_service=PORT, port_space=ce.RDMA_PS_TCP)
    cid = CMID(creator=ai)
    cq = cm_qp(cid, 2, 0)
    cid.connect()
    mr = cid.reg_msgs(64)
    mr.write('hello', 5)
    cid.post_send(mr, flags=e.IBV_SEND_SIGNALED, length=5)
    cm_poll(cq, 'send')
    return cid, cq


def disconnect(cid, cq):
    cid.disconnect()
    cid.close()		# the QP first: it holds the CQ
    cq.close()
    res = parent.recv() if parent.poll(60) else 'server: no answer'
    if res != 'closed':
        raise AssertionError('server: %s' % res)


parent, child = mp.Pipe()
p = mp.Process(target=server, args=(child,), daemon=True)
p.start()
state = parent.recv() if parent.poll(60) else 'server: no answer'
if state == 'listening':
    try:
        cid = client()
    except Exception:
        check('rdma_cm: send-only client (max_recv_wr=0) connects and sends',
              False, traceback.format_exc())
        cid = None
    else:
        check('rdma_cm: send-only client (max_recv_wr=0) connects and sends', True)
    res = parent.recv() if parent.poll(60) else 'server: no answer'
    check('rdma_cm: receive-only server (max_send_wr=0) receives', res == 'ok', res)
    try:
        parent.send('done')
    except OSError:
        pass		# the server is gone (and said so above)
    # Both sides disconnect: a side that never does leaves the other's
    # rdma_disconnect() waiting until its DREQ times out (the DREP is
    # the peer's to send, when it disconnects or destroys its ID).
    if cid is not None and res == 'ok':
        attempt('rdma_cm: both sides disconnect and close', lambda: disconnect(*cid))
else:
    check('rdma_cm: receive-only server (max_send_wr=0) listens', False, state)
p.join(30)
if p.is_alive():
    p.kill()
tap.finish()
