#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the control-plane benchmarks (cplane_scale_bench.sh,
# bench_cluster/cplane_bench.sh).
#
#   cplane_stats.py drive SOCKDIR AGENTS PODS NETNS_PREFIX OUT
#       ask each agent (SOCKDIR/aI.sock) for PODS pods, the agents in
#       parallel, the pods of one agent in turn; OUT gets one line per
#       pod: "vni addr t_request t_answer"
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
    return 1 if errors else 0


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
                count[k] = count.get(k, 0) + 1
    conv = [(last[k] - req[k][0]) * 1000 for k in req if k in last]
    prop = [(last[k] - pub[k]) * 1000 for k in req if k in last]
    res = {
        "endpoints": len(req),
        "arrivals": sum(count.values()),
        "endpoints_everywhere": sum(1 for k in req if k in last),
        "convergence_ms": {"p50": pct(conv, 50), "p99": pct(conv, 99),
                           "max": max(conv) if conv else None},
        "propagation_ms": {"p50": pct(prop, 50), "p99": pct(prop, 99),
                           "max": max(prop) if prop else None},
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
