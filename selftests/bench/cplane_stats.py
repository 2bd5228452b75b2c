#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the control-plane benchmarks (cplane_scale_bench.sh,
# bench_cluster/cplane_bench.sh).
#
#   cplane_stats.py drive SOCKDIR AGENTS PODS NETNS_PREFIX OUT
#       ask each agent (SOCKDIR/aI.sock) for PODS pods, the agents in
#       parallel, the pods of one agent in turn; OUT gets one line per
#       pod: "vni addr t_request t_answer"; fails only if no pod was
#       added (failed requests are reported: the caller counts them)
#   cplane_stats.py paced SOCKDIR AGENTS N NETNS_PREFIX SINKDIR OUT
#       N more pods, one at a time (agent 1, 2, ... in turn), each asked
#       for once the previous one is in every other agent's sink; OUT
#       as for drive
#   cplane_stats.py scale SINKDIR REQUESTS OUT.json [k=v...]
#       convergence from dry-run sinks: for each endpoint, the time from
#       its request (and from its publication) to its arrival at the last
#       of the other agents; extra k=v pairs go into the JSON
#   cplane_stats.py cdf JSON... > DATA: CDF columns for gnuplot
#   cplane_stats.py offset HOST PORT / offset-server PORT
#       clock offset of a peer (NTP-style, the sample of least delay)
import json
import os
import socket
import sys
import threading
import time


def pct(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def call(path, req, timeout=60):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return json.loads(buf)


def drive(sockdir, agents, pods, nsprefix, out):
    agents, pods = int(agents), int(pods)
    lines, errors = [], []
    lock = threading.Lock()

    def one(i):
        for j in range(pods):
            addr = f"10.{100 + i // 250}.{i % 250}.{j + 1}"
            req = {"cmd": "add", "container_id": f"p{i}x{j}", "ifname": "eth0",
                   "netns": f"/run/netns/{nsprefix}{i}", "vni": 100,
                   "addrs": [addr]}
            t0 = time.time()
            try:
                ans = call(os.path.join(sockdir, f"a{i}.sock"), req)
            except OSError as e:
                ans = {"ok": False, "msg": str(e)}
            t1 = time.time()
            with lock:
                if ans.get("ok"):
                    lines.append(f"100 {addr} {t0:.6f} {t1:.6f}\n")
                else:
                    errors.append(f"agent {i} pod {j}: {ans.get('msg')}")

    ts = [threading.Thread(target=one, args=(i,)) for i in range(1, agents + 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(out, "w") as f:
        f.writelines(lines)
    for e in errors[:10]:
        print("#", e)
    print(f"# {len(lines)} pods added, {len(errors)} failed")
    return 0 if lines else 1


def paced(sockdir, agents, n, nsprefix, sinkdir, out, timeout=60):
    """One pod at a time, each once every other agent's sink has the
    previous one: the convergence of a change on a quiet cluster."""
    agents, n = int(agents), int(n)
    sinks = {name: os.path.join(sinkdir, name) for name in os.listdir(sinkdir)}
    offs = {name: os.path.getsize(path) for name, path in sinks.items()}
    lines, errors = [], []
    for k in range(n):
        i, j = k % agents + 1, k // agents
        addr = f"10.{150 + i // 250}.{i % 250}.{j + 1}"
        req = {"cmd": "add", "container_id": f"s{i}x{j}", "ifname": "eth0",
               "netns": f"/run/netns/{nsprefix}{i}", "vni": 100,
               "addrs": [addr]}
        t0 = time.time()
        try:
            ans = call(os.path.join(sockdir, f"a{i}.sock"), req)
        except OSError as e:
            ans = {"ok": False, "msg": str(e)}
        t1 = time.time()
        if not ans.get("ok"):
            errors.append(f"agent {i} pod s{i}x{j}: {ans.get('msg')}")
            continue
        lines.append(f"100 {addr} {t0:.6f} {t1:.6f}\n")
        # Wait for it in every other agent's sink (new bytes only).
        needle = f" add 100 {addr} ".encode()
        pending = {name for name in sinks if name != f"a{i}"}
        carry = {name: b"" for name in pending}
        end = time.time() + timeout
        while pending and time.time() < end:
            for name in list(pending):
                with open(sinks[name], "rb") as f:
                    f.seek(offs[name])
                    data = f.read()
                offs[name] += len(data)
                buf = carry[name] + data
                if needle in buf:
                    pending.discard(name)
                else:
                    carry[name] = buf[buf.rfind(b"\n") + 1:]
            if pending:
                time.sleep(0.005)
        if pending:
            errors.append(f"pod s{i}x{j}: not in {len(pending)} sinks after {timeout} s")
    with open(out, "w") as f:
        f.writelines(lines)
    for e in errors[:10]:
        print("#", e)
    print(f"# {len(lines)} pods added one at a time, {len(errors)} failed")
    return 0 if lines else 1


def scale(sinkdir, requests, out, extra):
    req = {}
    with open(requests) as f:
        for line in f:
            vni, addr, t0, t1 = line.split()
            req[(vni, addr)] = (float(t0), float(t1))
    last, pub, count = {}, {}, {}
    for name in os.listdir(sinkdir):
        with open(os.path.join(sinkdir, name)) as f:
            for line in f:
                p = line.split()
                if len(p) != 6 or p[1] != "add":
                    continue
                k = (p[2], p[3])
                t = float(p[0])
                last[k] = max(last.get(k, 0), t)
                pub[k] = float(p[5])
                count.setdefault(k, set()).add(name)
    conv = [(last[k] - req[k][0]) * 1000 for k in req if k in last]
    prop = [(last[k] - pub[k]) * 1000 for k in req if k in last]
    ans = [(t1 - t0) * 1000 for t0, t1 in req.values()]
    # Everywhere: in as many sinks as the best-travelled endpoint.
    most = max((len(v) for v in count.values()), default=0)
    res = {
        "endpoints": len(req),
        "arrivals": sum(len(count[k]) for k in req if k in count),
        "endpoints_everywhere": sum(1 for k in req
                                    if len(count.get(k, ())) == most),
        "convergence_ms": {"p50": pct(conv, 50), "p99": pct(conv, 99),
                           "max": max(conv) if conv else None},
        "propagation_ms": {"p50": pct(prop, 50), "p99": pct(prop, 99),
                           "max": max(prop) if prop else None},
        # The request itself: asked -> answered.
        "request_ms": {"p50": pct(ans, 50), "p99": pct(ans, 99),
                       "max": max(ans) if ans else None},
        "samples": sorted(conv),
    }
    for kv in extra:
        k, v = kv.split("=", 1)
        try:
            v = float(v)
        except ValueError:
            pass
        res[k] = v
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    r = dict(res)
    del r["samples"]
    print(json.dumps(r, indent=1))


def cdf(files):
    cols = []
    for fn in files:
        with open(fn) as f:
            cols.append(json.load(f)["samples"])
    n = max(len(c) for c in cols)
    for i in range(n):
        row = []
        for c in cols:
            if i < len(c):
                row += [f"{c[i]:.3f}", f"{(i + 1) / len(c):.5f}"]
            else:
                row += ["?", "?"]
        print(" ".join(row))


def offset_server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    while True:
        d, a = s.recvfrom(64)
        t = time.time()
        if d == b"quit":
            break
        s.sendto(d + b" %.9f %.9f" % (t, time.time()), a)


def offset(host, port):
    """Peer clock minus ours, from the sample with the least delay."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    best = None
    for i in range(40):
        t1 = time.time()
        try:
            s.sendto(b"%d" % i, (host, int(port)))
            d, _ = s.recvfrom(128)
        except socket.timeout:
            continue
        t4 = time.time()
        p = d.split()
        t2, t3 = float(p[1]), float(p[2])
        delay = (t4 - t1) - (t3 - t2)
        off = ((t2 - t1) + (t3 - t4)) / 2
        if best is None or delay < best[0]:
            best = (delay, off)
        time.sleep(0.02)
    if best is None:
        sys.exit("offset: no answer")
    print(f"{best[1]:.6f} {best[0]:.6f}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "drive":
        sys.exit(drive(*args))
    elif cmd == "paced":
        sys.exit(paced(*args))
    elif cmd == "scale":
        scale(args[0], args[1], args[2], args[3:])
    elif cmd == "cdf":
        cdf(args)
    elif cmd == "offset":
        offset(*args)
    elif cmd == "offset-server":
        offset_server(*args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
