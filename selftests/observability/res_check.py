#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check that `rdma resource` links the objects of a virtual device to the
physical objects that carry them (Documentation/observability.rst).

    res_check.py DIR VDEV PDEV [srq]

DIR holds the JSON of `rdma -j -dd resource show TYPE` as seen by the
container (v_TYPE.json) and by the host (p_TYPE.json), TYPE qp, cq, mr, pd
(and srq).  Prints TAP-like lines ("ok"/"not ok" and a description), one
per check; exits 1 when one failed.
"""
import json
import os
import sys


def drv(e, name):
    """A driver attribute of an entry: the rdma tool prefixes their JSON
    keys with "drv_"."""
    return e.get("drv_" + name)


def load(path):
    with open(path) as f:
        text = f.read().strip()
    if not text:
        return []
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def main():
    d, vdev, pdev = sys.argv[1:4]
    types = ["qp", "cq", "mr", "pd"] + (["srq"] if "srq" in sys.argv[4:] else [])
    owner = "vrdma:" + vdev
    v = {t: [e for e in load(os.path.join(d, "v_%s.json" % t)) if e.get("ifname") == vdev]
         for t in types}
    p = {t: [e for e in load(os.path.join(d, "p_%s.json" % t)) if e.get("ifname") == pdev]
         for t in types}
    failed = False

    def check(cond, desc):
        nonlocal failed
        print(("ok " if cond else "not ok ") + desc)
        failed |= not cond

    def owned(e):
        return owner in str(e.get("comm", ""))

    def phys(t, key, num):
        return [e for e in p[t] if e.get(key) == num]

    num_key = {"qp": "lqpn", "cq": "cqn", "mr": "mrn", "pd": "pdn", "srq": "srqn"}
    pdmap = {}
    for t in ("qp", "cq", "mr", "srq"):
        if t not in types:
            continue
        user = [e for e in v[t] if e.get("pid") is not None]
        if not user:
            check(False, "%s: user objects on %s: none found in %s" % (t, vdev, v[t]))
            continue
        for e in user:
            n = e.get(num_key[t])
            pn = drv(e, "phys_" + ("qpn" if t == "qp" else num_key[t]))
            where = "%s %s %s" % (vdev, t, n)
            ok = drv(e, "phys_dev") == pdev and pn is not None
            pe = phys(t, num_key[t], pn) if ok else []
            ok = ok and len(pe) == 1 and owned(pe[0])
            if t == "qp":
                ok = ok and pn == n	# the virtual QPN is the physical one
            detail = "phys_dev %s phys %s, on %s: %s" % (
                drv(e, "phys_dev"), pn, pdev, pe[0].get("comm") if pe else "none")
            if drv(e, "phys_pdn") is not None or t != "cq":
                ppd = drv(e, "phys_pdn")
                pp = phys("pd", "pdn", ppd)
                ok = ok and len(pp) == 1 and owned(pp[0])
                # One physical PD per virtual PD.
                vpd = e.get("pdn")
                ok = ok and pdmap.setdefault(vpd, ppd) == ppd
                detail += "; pdn %s -> phys_pdn %s (%s)" % (
                    vpd, ppd, pp[0].get("comm") if pp else "none")
            check(ok, "%s -> %s %s: %s" % (where, pdev, t, detail))
    qp1 = [e for e in v["qp"] if e.get("lqpn") == 1]
    check(len(qp1) == 1 and drv(qp1[0], "phys") == "emulated",
          "%s QP1 is emulated: %s" % (vdev, qp1))
    # Every PD of the device (ib_mad's too) has its own physical PD.
    n_v = len(v["pd"])
    n_p = len([e for e in p["pd"] if owned(e)])
    check(n_v == n_p and n_v >= 1,
          "PDs: %d on %s, %d of %s on %s" % (n_v, vdev, n_p, owner, pdev))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
