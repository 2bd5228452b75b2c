#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# The Python side of sleep_sim.sh (the sleep-management simulation):
#
#   schedule OUT --seed S --hosts N --duration T [...]   the random schedule
#   services SCHEDULE                   TCP listeners of every host (setns)
#   drive SCHEDULE DIR OUT              runs the schedule (in the client's netns)
#   converged DIR N                     every daemon sees the N-1 others awake?
#   snapshot DIR N OUT                  daemons' counters, tc counters, CPU
#   analyze DIR N SCHEDULE              the figures, from the logs and counters
#
# Hosts are s1..sN (10.97.0.i, one vrdma-sleepd each, logs DIR/si.log,
# control sockets DIR/si.sock); the client is the namespace "cl".

import argparse
import asyncio
import ctypes
import errno
import json
import math
import os
import random
import selectors
import socket
import subprocess
import sys
import time

PORT_POOL = [22, 80, 443, 3306, 5432, 6379, 8080, 9000]
CLONE_NEWNET = 0x40000000


def addr_of(host):
    return '10.97.0.%d' % int(host[1:])


# ---- the schedule ---------------------------------------------------------

def cmd_schedule(a):
    """A random schedule with a fixed seed.

    Each host listens on 1-3 ports of PORT_POOL.  Each host asks to sleep
    after a first awake period (uniform 5 s .. first-max), and again an
    exponential awake period (mean awake-mean) after each time it is woken.
    Client connections arrive as a Poisson process (conn-rate per second):
    with probability p-sleeper to a host that, by the schedule, sleeps (at
    least settle seconds after its request), else to a random other host;
    to one of its open ports with probability p-open, else to a closed one.
    A connection to an open port of a sleeping host wakes it (in the
    schedule's own book-keeping; the daemons decide what really happens).
    """
    rng = random.Random(a.seed)
    hosts = ['s%d' % i for i in range(1, a.hosts + 1)]
    ports = {h: sorted(rng.sample(PORT_POOL, rng.randint(1, 3))) for h in hosts}
    events = []
    next_sleep = {h: rng.uniform(5, a.first_max) for h in hosts}
    asleep = {}                 # host -> time of its (scheduled) sleep request
    t = 0.0
    while True:
        t += rng.expovariate(a.conn_rate)
        # sleep requests due before t
        for h in sorted(next_sleep, key=next_sleep.get):
            ts = next_sleep[h]
            if ts > t or ts > a.duration:
                continue
            events.append({'t': round(ts, 3), 'op': 'sleep', 'host': h})
            asleep[h] = ts
            del next_sleep[h]
        if t > a.duration:
            break
        settled = sorted(h for h, ts in asleep.items() if t - ts >= a.settle)
        if settled and rng.random() < a.p_sleeper:
            h = rng.choice(settled)
        else:
            h = rng.choice([x for x in hosts if x not in asleep])
        if rng.random() < a.p_open:
            port, is_open = rng.choice(ports[h]), True
        else:
            closed = [p for p in PORT_POOL if p not in ports[h]] + [rng.randint(10000, 60000)]
            port, is_open = rng.choice(closed), False
        events.append({'t': round(t, 3), 'op': 'connect', 'host': h,
                       'port': port, 'open': is_open,
                       'planned': 'asleep' if h in asleep else 'awake'})
        if is_open and h in asleep:
            del asleep[h]
            next_sleep[h] = t + a.settle + rng.expovariate(1.0 / a.awake_mean)
    # Faults, from their own generator (the workload above stays the
    # same whatever the faults): daemons killed on live hosts and
    # restarted, clocks skewed, a partition of the last hosts.
    frng = random.Random(a.seed + 1)
    part = None
    if a.partition_len > 0 and a.partition_hosts > 0:
        p0 = round(a.duration * a.partition_at, 3)
        part = {'start': p0, 'end': round(p0 + a.partition_len, 3),
                'hosts': hosts[-a.partition_hosts:]}
        events.append({'t': part['start'], 'op': 'partition', 'hosts': part['hosts']})
        events.append({'t': part['end'], 'op': 'heal', 'hosts': part['hosts']})
    kills = []
    pool = hosts[:-a.partition_hosts] if a.partition_hosts else hosts
    for h in frng.sample(pool, min(a.kills, len(pool))):
        t = round(frng.uniform(0.1, 0.8) * a.duration, 3)
        down = round(frng.uniform(a.kill_min, a.kill_max), 3)
        kills.append({'t': t, 'host': h, 'down': down})
        events.append({'t': t, 'op': 'kill', 'host': h})
        events.append({'t': round(t + down, 3), 'op': 'restart', 'host': h})
    skew = {h: int(round(frng.choice((-1, 1)) * frng.uniform(60, a.skew_max)))
            for h in frng.sample(hosts, min(a.skew_hosts, len(hosts)))}
    events.sort(key=lambda e: e['t'])
    sched = {'seed': a.seed, 'hosts': a.hosts, 'duration': a.duration,
             'conn_rate': a.conn_rate, 'p_sleeper': a.p_sleeper,
             'p_open': a.p_open, 'awake_mean': a.awake_mean,
             'first_max': a.first_max, 'settle': a.settle,
             'open_timeout': a.open_timeout, 'closed_timeout': a.closed_timeout,
             'ports': ports, 'events': events, 'partition': part,
             'kills': kills, 'skew': skew,
             'netem': {'loss': a.loss, 'delay_ms': a.delay, 'jitter_ms': a.jitter}}
    with open(a.out, 'w') as f:
        json.dump(sched, f)
    conns = [e for e in events if e['op'] == 'connect']
    print('schedule: seed %d, %d hosts, %d s: %d sleep requests, %d connections '
          '(%d to open ports of planned sleepers, %d to closed ports of planned '
          'sleepers, %d to open and %d to closed ports of awake hosts)' % (
              a.seed, a.hosts, a.duration,
              sum(e['op'] == 'sleep' for e in events), len(conns),
              sum(e['open'] and e['planned'] == 'asleep' for e in conns),
              sum(not e['open'] and e['planned'] == 'asleep' for e in conns),
              sum(e['open'] and e['planned'] == 'awake' for e in conns),
              sum(not e['open'] and e['planned'] == 'awake' for e in conns)))
    print('faults: loss %g%% and delay %g ms +- %g ms on every link; %d daemons killed on '
          'live hosts (%s); clocks of %d daemons off by %s s; %s' % (
              a.loss, a.delay, a.jitter, len(kills),
              ', '.join('%s at +%.0f s for %.0f s' % (k['host'], k['t'], k['down']) for k in kills),
              len(skew), ', '.join('%+.0f' % v for v in sorted(skew.values())),
              'partition of %s..%s from +%.0f s to +%.0f s' % (
                  part['hosts'][0], part['hosts'][-1], part['start'], part['end'])
              if part else 'no partition'))


# ---- services ----------------------------------------------------------------

def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e), path)
    finally:
        os.close(fd)


def cmd_services(a):
    """Every host's listening sockets, in one process: each socket is made
    in its host's namespace (setns) and belongs to it, so the host's
    daemon finds its ports in /proc/net/tcp6.  The process itself stays
    in init_net: a sleeping host's test mode does not freeze it, but
    drops every packet to and from the host, which is what matters to a
    client."""
    sched = json.load(open(a.schedule))
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    sel = selectors.DefaultSelector()
    libc = ctypes.CDLL(None, use_errno=True)
    n = 0
    for h, ports in sched['ports'].items():
        setns('/run/netns/' + h)
        for p in ports:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('::', p))
            s.listen(128)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            n += 1
        if libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), 'setns back')
    print('services: %d listening sockets on %d hosts' % (n, len(sched['ports'])),
          flush=True)
    open(a.ready, 'w').close()
    while True:
        for key, _ in sel.select():
            try:
                c, _ = key.fileobj.accept()
                c.setblocking(True)
                c.settimeout(1)
                c.sendall(b'hello\n')
                c.close()
            except OSError:
                pass


# ---- the client and the sleep requests ------------------------------------------

async def drive(a):
    sched = json.load(open(a.schedule))
    loop = asyncio.get_running_loop()
    out = open(a.out, 'w')
    lock = asyncio.Lock()

    async def log(rec):
        async with lock:
            out.write(json.dumps(rec) + '\n')
            out.flush()

    async def do_sleep(ev):
        # In a thread: the command must follow the connection at once
        # (the daemon waits 1 s for it), however busy this loop is.
        t = time.time()
        try:
            r = await loop.run_in_executor(None, status, a.dir, ev['host'], 'sleep')
            res = r.get('result') or r.get('error') or '?'
        except Exception as e:      # noqa: BLE001 - reported
            res = 'failed: %s' % e
        await log({'op': 'sleep', 'host': ev['host'], 't': t, 'reply': res})

    def pidfile(h):
        return '%s/%s.pid' % (a.dir, h)

    def wrap(h):
        off = sched.get('skew', {}).get(h)
        if off is None:
            return []
        return ['env', 'LD_PRELOAD=' + a.faketime, 'FAKETIME=%+gs' % off,
                'FAKETIME_DONT_FAKE_MONOTONIC=1']

    async def do_fault(ev):
        t = time.time()
        rec = {'op': ev['op'], 't': t}
        if ev['op'] in ('kill', 'restart'):
            h = ev['host']
            rec['host'] = h
            if ev['op'] == 'kill':
                # Only a live, awake host: the point is a live host whose
                # daemon died.
                try:
                    st = await loop.run_in_executor(None, status, a.dir, h)
                    state = st['self']['state']
                except (OSError, ValueError) as e:
                    state = 'unreachable: %s' % e
                if state != 'awake':
                    rec['skipped'] = state
                    killed.discard(h)
                else:
                    os.kill(int(open(pidfile(h)).read()), 9)
                    killed.add(h)
            elif h in killed:
                cmd = ['ip', 'netns', 'exec', h] + wrap(h) + [
                    a.sleepd, '-c', '%s/%s.conf' % (a.dir, h)]
                err = open('%s/%s.err' % (a.dir, h), 'a')
                p = subprocess.Popen(cmd, stderr=err, stdout=subprocess.DEVNULL)
                open(pidfile(h), 'w').write('%d\n' % p.pid)
                killed.discard(h)
            else:
                rec['skipped'] = 'not killed'
        else:
            rec['hosts'] = ev['hosts']
            br = 'slp-br2' if ev['op'] == 'partition' else 'slp-br'
            cmd = ['nsenter', '--net=/proc/1/ns/net', 'ip', '-batch', '-']
            inp = ''.join('link set %s-p master %s\n' % (h, br) for h in ev['hosts'])
            r = subprocess.run(cmd, input=inp, text=True, capture_output=True)
            rec['rc'] = r.returncode
        await log(rec)

    killed = set()

    async def do_connect(ev):
        tmo = sched['open_timeout'] if ev['open'] else sched['closed_timeout']
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rec = dict(ev)
        rec['t_sched'] = rec.pop('t')
        rec['t_syn'] = time.time()
        try:
            await asyncio.wait_for(
                loop.sock_connect(s, (addr_of(ev['host']), ev['port'])), tmo)
            rec['t_done'] = time.time()
            rec['result'] = 'connected'
            try:
                rec['data'] = (await asyncio.wait_for(loop.sock_recv(s, 16), 5)).decode().strip()
            except (asyncio.TimeoutError, OSError):
                rec['data'] = ''
        except asyncio.TimeoutError:
            rec['t_done'] = time.time()
            rec['result'] = 'timeout'
        except OSError as e:
            rec['t_done'] = time.time()
            rec['result'] = errno.errorcode.get(e.errno, str(e.errno))
        finally:
            s.close()
        await log(rec)

    t0 = time.time() + 1
    await log({'op': 'start', 't': t0})
    tasks = []
    for ev in sched['events']:
        delay = t0 + ev['t'] - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        late = time.time() - (t0 + ev['t'])
        if late > 1:
            await log({'op': 'late', 't': time.time(), 'by': late})
        if ev['op'] == 'sleep':
            tasks.append(asyncio.ensure_future(do_sleep(ev)))
        elif ev['op'] == 'connect':
            tasks.append(asyncio.ensure_future(do_connect(ev)))
        else:
            await do_fault(ev)
    await log({'op': 'schedule-end', 't': time.time()})
    await asyncio.gather(*tasks)
    await log({'op': 'end', 't': time.time()})


def cmd_drive(a):
    asyncio.run(drive(a))


# ---- daemons' status ------------------------------------------------------------

def status(d, h, cmd='status'):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect('%s/%s.sock' % (d, h))
        s.sendall(cmd.encode() + b'\n')     # one write, the whole line
        buf = b''
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
        return json.loads(buf.decode())
    finally:
        s.close()


def cmd_converged(a):
    short = []
    for i in range(1, a.n + 1):
        h = 's%d' % i
        try:
            j = status(a.dir, h)
        except (OSError, ValueError) as e:
            short.append('%s (%s)' % (h, e))
            continue
        awake = sum(1 for p in j['peers'] if p['state'] == 'awake')
        ports = [p for p in j['peers'] if p['state'] == 'awake' and not p['ports']]
        if awake != a.n - 1 or ports:
            short.append('%s:%d/%d%s' % (h, awake, a.n - 1,
                                         ' (%d without ports)' % len(ports) if ports else ''))
    if short:
        print('not converged: %s%s' % (' '.join(short[:10]), ' ...' if len(short) > 10 else ''))
        sys.exit(1)
    print('converged: %d daemons, each sees %d peers awake' % (a.n, a.n - 1))


def tc_counts(dev, direction):
    """Bytes and packets of the peer-protocol filter on DEV (ingress or egress)."""
    out = subprocess.run(['tc', '-s', '-j', 'filter', 'show', 'dev', dev, direction],
                         capture_output=True, text=True).stdout
    b = p = 0
    try:
        for f in json.loads(out or '[]'):
            for act in f.get('options', {}).get('actions', []):
                st = act.get('stats', {})
                b += st.get('bytes', 0)
                p += st.get('packets', 0)
    except ValueError:
        pass
    return b, p


def tc_all(hosts):
    """tc_counts of every host's bridge port, in one tc process (tc -batch
    prints one JSON array per command); falls back to one per call."""
    path = '/tmp/sleep_sim_tc.%d' % os.getpid()
    with open(path, 'w') as f:
        for h in hosts:
            f.write('filter show dev %s-p ingress\nfilter show dev %s-p egress\n' % (h, h))
    out = subprocess.run(['tc', '-s', '-j', '-batch', path], capture_output=True,
                         text=True).stdout
    os.unlink(path)
    arrays, dec, i = [], json.JSONDecoder(), 0
    try:
        while True:
            while i < len(out) and out[i].isspace():
                i += 1
            if i >= len(out):
                break
            v, i = dec.raw_decode(out, i)
            arrays.append(v)
    except ValueError:
        arrays = []
    if len(arrays) != 2 * len(hosts):
        return {h: {'tx': tc_counts('%s-p' % h, 'ingress'),
                    'rx': tc_counts('%s-p' % h, 'egress')} for h in hosts}

    def count(arr):
        b = p = 0
        for f in arr:
            for act in f.get('options', {}).get('actions', []):
                b += act.get('stats', {}).get('bytes', 0)
                p += act.get('stats', {}).get('packets', 0)
        return b, p
    return {h: {'tx': count(arrays[2 * k]), 'rx': count(arrays[2 * k + 1])}
            for k, h in enumerate(hosts)}


def daemon_pids():
    pids = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            if open('/proc/%s/comm' % d).read().strip() == 'vrdma-sleepd':
                pids.append(int(d))
        except OSError:
            pass
    return pids


def proc_cpu(pid):
    f = open('/proc/%d/stat' % pid).read()
    f = f[f.rindex(')') + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK'), int(f[21]) * os.sysconf('SC_PAGE_SIZE')


def cmd_snapshot(a):
    hosts = ['s%d' % i for i in range(1, a.n + 1)]
    snap = {'stats': {}, 'cpu': {}}
    t0 = time.time()
    snap['tc'] = tc_all(hosts)
    snap['t'] = (t0 + time.time()) / 2
    snap['tc_secs'] = time.time() - t0
    for h in hosts:
        try:
            j = status(a.dir, h)
            snap['stats'][h] = dict(j['stats'], state=j['self']['state'],
                                    manages=j['self']['manages'])
        except (OSError, ValueError) as e:
            snap['stats'][h] = {'error': str(e)}
    cpu = open('/proc/stat').readline().split()[1:]
    snap['proc_stat'] = [int(x) for x in cpu]
    snap['ncpu'] = os.cpu_count()
    dcpu, rss = 0.0, []
    pids = daemon_pids()
    for pid in pids:
        try:
            c, r = proc_cpu(pid)
            dcpu += c
            rss.append(r)
        except OSError:
            pass
    udp = {}
    for pid in pids:
        try:
            lines = [x.split() for x in open('/proc/%d/net/snmp' % pid) if x.startswith('Udp:')]
            for k, v in zip(lines[0][1:], lines[1][1:]):
                udp[k] = udp.get(k, 0) + int(v)
        except (OSError, IndexError, ValueError):
            pass
    snap['daemons'] = {'count': len(pids), 'cpu_s': dcpu, 'udp': udp,
                       'rss_mean': sum(rss) / len(rss) if rss else 0}
    for line in open('/proc/meminfo'):
        k, v = line.split(':')
        if k in ('MemTotal', 'MemAvailable'):
            snap[k] = int(v.split()[0]) * 1024
    with open(a.out, 'w') as f:
        json.dump(snap, f)


def cmd_diag(a):
    """The machine's load over a few seconds, and why daemons think peers sleep."""
    def sample():
        st = [int(x) for x in open('/proc/stat').readline().split()[1:]]
        c = 0.0
        for pid in daemon_pids():
            try:
                c += proc_cpu(pid)[0]
            except OSError:
                pass
        return time.time(), st, c
    t0, st0, c0 = sample()
    time.sleep(a.secs)
    t1, st1, c1 = sample()
    d = [y - x for x, y in zip(st0, st1)]
    tot, idle = sum(d[:8]), d[3] + d[4]
    print('load over %.0f s: CPU %.0f%% busy (%d CPUs, loadavg %s); daemons %.2f CPU-s/s' % (
        t1 - t0, 100.0 * (tot - idle) / max(1, tot), os.cpu_count(),
        open('/proc/loadavg').read().split()[0], (c1 - c0) / (t1 - t0)))
    logs = load_logs(a.dir, a.n)
    why = {}
    for recs in logs.values():
        for r in recs:
            if r['event'] in ('peer-asleep', 'peer-awake', 'manager-lost', 'takeover',
                              'wake', 'replay', 'sleep-refused'):
                k = '%s/%s' % (r['event'], r.get('reason', ''))
                why[k] = why.get(k, 0) + 1
    print('log events: ' + (', '.join('%s %d' % kv for kv in sorted(why.items())) or 'none'))
    dm = subprocess.run(['dmesg'], capture_output=True, text=True).stdout
    print('kernel: %d "neighbor table overflow" messages' % dm.count('table overflow'))


# ---- analysis -----------------------------------------------------------------

def pct(xs, p):
    """Nearest-rank percentile."""
    if not xs:
        return float('nan')
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(math.ceil(p / 100.0 * len(xs))) - 1))
    return xs[k]


def fmt_s(x):
    return 'n/a' if x is None or x != x else '%.2f s' % x


def dist(xs):
    if not xs:
        return 'n=0'
    return 'n=%d median %s p99 %s max %s' % (len(xs), fmt_s(pct(xs, 50)),
                                            fmt_s(pct(xs, 99)), fmt_s(max(xs)))


def gini(xs):
    n = len(xs)
    s = sum(xs)
    if n == 0 or s == 0:
        return 0.0
    xs = sorted(xs)
    return sum((2 * (i + 1) - n - 1) * x for i, x in enumerate(xs)) / (n * s)


def spread(counts):
    """max/mean, coefficient of variation, Gini of a list of loads."""
    n = len(counts)
    mean = sum(counts) / n
    sd = math.sqrt(sum((c - mean) ** 2 for c in counts) / n)
    return max(counts) / mean, sd / mean, gini(counts)


def load_logs(d, n, skew=None):
    """Every daemon's log records; times of a skewed daemon's clock are
    brought back to the machine's (its offset is in the schedule)."""
    logs = {}
    for i in range(1, n + 1):
        h = 's%d' % i
        off = (skew or {}).get(h, 0.0)
        recs = []
        try:
            for line in open('%s/%s.log' % (d, h)):
                try:
                    r = json.loads(line)
                    r['ts'] -= off
                    recs.append(r)
                except ValueError:
                    pass
        except OSError:
            pass
        logs[h] = recs
    return logs


def cmd_analyze(a):
    sched = json.load(open(a.schedule))
    n = a.n
    hosts = ['s%d' % i for i in range(1, n + 1)]
    ports = sched['ports']
    resume_delay = a.resume_delay
    drv = [json.loads(line) for line in open(a.driver)]
    t_start = next(r['t'] for r in drv if r['op'] == 'start')
    t_end = next((r['t'] for r in drv if r['op'] == 'end'), None)
    s0 = json.load(open(a.snap0))
    s1 = json.load(open(a.snap1))
    if t_end is None:
        t_end = s1['t']
    logs = load_logs(a.dir, n, sched.get('skew'))
    out = []
    kills = [r for r in drv if r['op'] == 'kill' and 'skipped' not in r]
    part_rec = next((r for r in drv if r['op'] == 'partition'), None)
    heal_rec = next((r for r in drv if r['op'] == 'heal'), None)
    part = None
    if part_rec:
        part = {'start': part_rec['t'], 'end': heal_rec['t'] if heal_rec else t_end,
                'hosts': set(part_rec['hosts'])}

    def say(*args):
        out.append(' '.join(str(x) for x in args))

    # -- every host's own sleep episodes: [sleep, magic packet, resume]
    episodes = {h: [] for h in hosts}
    levels = {'error': 0, 'warning': 0}
    warn_kinds = {}
    refused = {}
    intents = 0
    for h, recs in logs.items():
        cur = None
        for r in recs:
            lv = r.get('level')
            if lv in levels and r['ts'] <= t_end:
                levels[lv] += 1
                warn_kinds[r['event']] = warn_kinds.get(r['event'], 0) + 1
            if r['ts'] < t_start or r['ts'] > t_end:
                continue
            ev = r['event']
            if ev == 'sleep':
                cur = {'host': h, 'sleep': r['ts'], 'magic': None, 'resume': None}
                episodes[h].append(cur)
            elif ev == 'magic-packet' and cur:
                cur['magic'] = cur['magic'] or r['ts']
            elif ev == 'resume' and cur:
                cur['resume'] = r['ts']
                cur = None
            elif ev == 'sleep-refused':
                refused[r.get('reason', '?')] = refused.get(r.get('reason', '?'), 0) + 1
            elif ev == 'sleep-intent':
                intents += 1
    all_eps = [e for h in hosts for e in episodes[h]]
    for e in all_eps:
        e['end'] = e['resume'] or t_end

    def asleep_at(h, t):
        for e in episodes[h]:
            if e['sleep'] <= t < e['end']:
                return e
        return None

    # -- management intervals, from the managers' logs
    ivals = {h: [] for h in hosts}     # sleeper -> [manager, start, end]
    wakes = []                         # manager's wake events
    requests = []
    dup_events = 0
    for m, recs in logs.items():
        open_iv = {}
        for r in recs:
            ev = r['event']
            if ev == 'takeover':
                s = r['peer']
                if s in open_iv:        # should not happen: count from the first
                    continue
                iv = [m, r['ts'], None]
                open_iv[s] = iv
                ivals.setdefault(s, []).append(iv)
            elif ev == 'release' and r['peer'] in open_iv:
                open_iv.pop(r['peer'])[2] = r['ts']
            elif ev in ('stop', 'start'):
                for iv in open_iv.values():
                    iv[2] = r['ts']
                open_iv = {}
            elif t_start <= r['ts'] <= t_end:
                if ev == 'wake':
                    wakes.append(dict(r, manager=m))
                elif ev == 'request':
                    requests.append(dict(r, manager=m))
                elif ev == 'duplicate':
                    dup_events += 1
    # A killed daemon's module drops its interception at once.
    for k in kills:
        for s in ivals:
            for iv in ivals[s]:
                if iv[0] == k['host'] and iv[1] <= k['t'] and (iv[2] is None or iv[2] > k['t']):
                    iv[2] = k['t']
    for s in ivals:
        for iv in ivals[s]:
            if iv[2] is None or iv[2] > t_end:
                iv[2] = t_end

    # -- sleeps
    sleep_reqs = [r for r in drv if r['op'] == 'sleep']
    say('sleep requests: %d sent (%d accepted by the daemon), %d intents, %d sleeps, '
        '%d refusals%s' % (
            len(sleep_reqs), sum(r['reply'] == 'sleep requested' for r in sleep_reqs),
            intents, len(all_eps), sum(refused.values()),
            (' (' + ', '.join('%s: %d' % kv for kv in sorted(refused.items())) + ')') if refused else ''))

    # -- time until managed, orphan time
    t_managed, never, orphan, orphan_eps, gaps = [], 0, 0.0, 0, []
    dup_time, dup_eps, dup_longest = 0.0, 0, 0.0
    for e in all_eps:
        s = e['host']
        ivs = [iv for iv in ivals.get(s, []) if iv[2] > e['sleep'] - 0.5 and iv[1] < e['end']]
        starts = [iv[1] for iv in ivs]
        if not starts:
            if e['end'] - e['sleep'] > 5 or e['resume'] is None:
                never += 1
            e['managed'] = None
            continue
        first = max(e['sleep'], min(starts))
        e['managed'] = first
        t_managed.append(first - e['sleep'])
        # sweep: time with 0 managers after the first, and with >= 2
        pts = []
        for iv in ivs:
            a0, a1 = max(iv[1], first), min(iv[2], e['end'])
            if a1 > a0:
                pts += [(a0, 1), (a1, -1)]
        pts.sort()
        cnt, last, zero, dup = 0, first, 0.0, 0.0
        for t, d in pts:
            if cnt == 0:
                zero += t - last
                if t - last > 0.05:
                    gaps.append(t - last)
            elif cnt >= 2:
                dup += t - last
            cnt += d
            last = t
        if cnt == 0:
            zero += max(0.0, e['end'] - last)
            if e['end'] - last > 0.05:
                gaps.append(e['end'] - last)
        # a sleeper woken up is no longer asleep once its magic packet came
        if zero > 0.05:
            orphan_eps += 1
        orphan += zero
        if dup > 0:
            dup_eps += 1
            dup_longest = max(dup_longest, dup)
        dup_time += dup
    say('time until a sleeper is managed (its sleep -> first takeover): %s; '
        'never managed: %d of %d sleeps' % (dist(t_managed), never, len(all_eps)))
    say('sleepers left without a manager after their first takeover (handovers): %.1f s in all, '
        'in %d sleeps; gaps %s' % (orphan, orphan_eps, dist(gaps)))
    false_to = 0
    false_list = []
    handovers = 0
    for s in hosts:
        for iv in ivals.get(s, []):
            if not (t_start <= iv[1] <= t_end):
                continue
            e = asleep_at(s, iv[1])
            if e is None:
                false_to += 1
                false_list.append('%s took %s over at +%.1f s%s' % (
                    iv[0], s, iv[1] - t_start,
                    ' (its daemon killed)' if any(k['host'] == s and k['t'] <= iv[1] for k in kills)
                    else ''))
            elif e.get('managed') is not None and iv[1] > e['managed'] + 0.01:
                handovers += 1
    say('takeovers: %d of awake hosts (false suspicion: probes unanswered; released when the '
        'host answers), %d later takeovers of sleepers already managed once (their manager '
        'went to sleep, lost a duplicate, or was suspected)' % (false_to, handovers))
    for x in false_list[:10]:
        say('  false takeover: ' + x)
    say('duplicate managers: %.2f s in all (%d of %d sleeps, longest %.2f s); '
        '%d duplicate claims logged' % (dup_time, dup_eps, len(all_eps), dup_longest, dup_events))

    # -- connections
    conns = [r for r in drv if r['op'] == 'connect']
    for c in conns:
        c['ep'] = asleep_at(c['host'], c['t_syn'])
        # an awake host may fall asleep while the client still tries
        c['slept'] = any(c['t_syn'] < x['sleep'] < c['t_done'] for x in episodes[c['host']])
    def cut_off(c):
        """The partition separated the client from the host, or from the
        sleeper's manager at the SYN (the network took up to 30 s after
        the heal to settle)."""
        if not part or not (c['t_syn'] < part['end'] + 30 and c['t_done'] > part['start']):
            return False
        if c['host'] in part['hosts']:
            return True
        ms = {iv[0] for iv in ivals.get(c['host'], []) if iv[1] <= c['t_syn'] < iv[2]}
        return bool(ms & part['hosts'])
    cut = [c for c in conns if cut_off(c)]
    conns = [c for c in conns if not cut_off(c)]
    to_sleep_open = [c for c in conns if c['open'] and c['ep']]
    to_awake_open = [c for c in conns if c['open'] and not c['ep']]
    to_sleep_closed = [c for c in conns if not c['open'] and c['ep']]
    to_awake_closed = [c for c in conns if not c['open'] and not c['ep']]

    def results(cs):
        d = {}
        for c in cs:
            d[c['result']] = d.get(c['result'], 0) + 1
        return ', '.join('%s %d' % kv for kv in sorted(d.items()))

    lat = [c['t_done'] - c['t_syn'] - resume_delay for c in to_sleep_open
           if c['result'] == 'connected']
    missed = [c for c in to_sleep_open if c['result'] != 'connected']
    say('connections across the partition (to its hosts, or to sleepers managed there, while cut off; '
        'left out): %d (%s)' % (
        len(cut), results(cut) or 'none'))
    say('connections: %d (%d to open ports of sleepers, %d to closed ports of sleepers, '
        '%d to open and %d to closed ports of awake hosts)' % (
            len(conns), len(to_sleep_open), len(to_sleep_closed), len(to_awake_open),
            len(to_awake_closed)))
    say('wake latency, SYN -> connection established, minus the %.1f s resume delay: %s'
        % (resume_delay, dist(lat)))
    say('missed wakes (SYN to a sleeper\'s open port never connected, limit %g s): %d of %d%s'
        % (sched['open_timeout'], len(missed), len(to_sleep_open),
           (' (' + results(missed) + ')') if missed else ''))
    def managers_at(host, t):
        return sorted({iv[0] for iv in ivals.get(host, []) if iv[1] <= t < iv[2]})

    def gap_around(host, t):
        """The span without a manager around t: (from, to)."""
        ivs = ivals.get(host, [])
        before = [iv[2] for iv in ivs if iv[2] <= t]
        after = [iv[1] for iv in ivs if iv[1] > t]
        return (max(before) if before else None, min(after) if after else None)

    for c in missed[:10]:
        ms = managers_at(c['host'], c['t_syn'])
        if ms:
            why = 'managed by %s at the SYN' % ','.join(ms)
        else:
            g0, g1 = gap_around(c['host'], c['t_syn'])
            why = 'no manager at the SYN (from %s to %s)' % (
                '+%.1f s' % (g0 - t_start) if g0 else '?', '+%.1f s' % (g1 - t_start) if g1 else '?')
        say('  missed: %s:%d SYN at +%.1f s, %s after %.1f s; slept at +%.1f s; %s' % (
            c['host'], c['port'], c['t_syn'] - t_start, c['result'], c['t_done'] - c['t_syn'],
            c['ep']['sleep'] - t_start, why))
    lat_awake = [c['t_done'] - c['t_syn'] for c in to_awake_open if c['result'] == 'connected']
    failed_awake = [c for c in to_awake_open if c['result'] != 'connected']
    say('open ports of awake hosts: %s (%d of the failed fell asleep meanwhile); connect time %s' % (
        results(to_awake_open), sum(c['slept'] for c in failed_awake), dist(lat_awake)))
    slow = sorted((c for c in to_awake_open if c['result'] == 'connected' and
                   c['t_done'] - c['t_syn'] > 5), key=lambda c: c['t_syn'])
    for c in (failed_awake + slow)[:8]:
        say('  awake host: %s:%d SYN at +%.1f s, %s after %.1f s%s' % (
            c['host'], c['port'], c['t_syn'] - t_start, c['result'], c['t_done'] - c['t_syn'],
            ', fell asleep meanwhile' if c['slept'] else ''))
    say('closed ports: of sleepers %s; of awake hosts %s' % (
        results(to_sleep_closed) or 'none', results(to_awake_closed) or 'none'))

    # -- the wakes: which SYN triggered each, and was there one at all?
    first_wake = {}
    for w in sorted(wakes, key=lambda w: w['ts']):
        e = asleep_at(w['peer'], w['ts']) if w['peer'] in episodes else None
        if e is not None and id(e) not in first_wake:
            first_wake[id(e)] = w
    woken = [e for e in all_eps if e['magic']]
    false_w, guard_w, breakdown = [], [], []
    for e in woken:
        w = first_wake.get(id(e))
        if w and w.get('reason') == 'guardians':
            guard_w.append(e)
            continue
        valid = [c for c in conns if c['open'] and c['host'] == e['host']
                 and c['t_syn'] <= e['magic'] and c.get('t_done', t_end) >= e['sleep']]
        if not valid:
            false_w.append((e, w))
            continue
        trig = min(valid, key=lambda c: c['t_syn'])
        if w and trig['result'] == 'connected' and trig['t_syn'] >= e['sleep']:
            req = [r['ts'] for r in requests if r['peer'] == e['host'] and
                   trig['t_syn'] <= r['ts'] <= w['ts'] + 0.01]
            breakdown.append({
                'req': (min(req) - trig['t_syn']) if req else None,
                'wol': w['ts'] - trig['t_syn'],
                'magic': e['magic'] - trig['t_syn'],
                'resume': (e['resume'] - e['magic']) if e['resume'] else None,
                'conn': (trig['t_done'] - e['resume']) if e['resume'] else None,
                'managed_before': e.get('managed') is not None and e['managed'] <= trig['t_syn']})
    reasons = {}
    for w in wakes:
        reasons[w.get('reason', '?')] = reasons.get(w.get('reason', '?'), 0) + 1
    say('wakes: %d sleepers woken (magic packets sent: %s)' % (
        len(woken), ', '.join('%s %d' % kv for kv in sorted(reasons.items())) or 'none'))
    say('false wakes (woken with no valid request): %d; guardian wakes (policy): %d' % (
        len(false_w), len(guard_w)))
    for e, w in false_w[:10]:
        say('  false wake: %s slept at +%.1f s, magic packet at +%.1f s, by %s (%s)' % (
            e['host'], e['sleep'] - t_start, e['magic'] - t_start,
            w['manager'] if w else '?', w.get('reason') if w else '?'))
    if breakdown:
        def med(k, cond=lambda b: True):
            xs = [b[k] for b in breakdown if b[k] is not None and cond(b)]
            return fmt_s(pct(xs, 50)) if xs else 'n/a'
        say('  the %d SYNs that woke a sleeper, median: SYN -> the manager\'s module reports it %s, '
            '-> magic packet sent (logged) %s, -> received by the sleeper %s; then resumed %s '
            'later (resume delay, tc, thaw), connected %s after that (the client\'s next SYN '
            'retransmission)' % (len(breakdown), med('req'), med('wol'), med('magic'),
                                 med('resume'), med('conn')))
        say('  SYN -> magic packet when the sleeper was already managed: %s; '
            'when not yet: %s (%d)' % (
                med('wol', lambda b: b['managed_before']),
                med('wol', lambda b: not b['managed_before']),
                sum(not b['managed_before'] for b in breakdown)))

    # -- control traffic
    dt = s1['t'] - s0['t']
    tx = rx = txp = rxp = 0
    ptx = prx = pkt_tx = pkt_rx = 0
    per_host = []
    for h in hosts:
        a0, a1 = s0['tc'][h], s1['tc'][h]
        htx = a1['tx'][0] - a0['tx'][0]
        hrx = a1['rx'][0] - a0['rx'][0]
        tx += htx
        rx += hrx
        txp += a1['tx'][1] - a0['tx'][1]
        rxp += a1['rx'][1] - a0['rx'][1]
        per_host.append((htx + hrx) / dt)
        d0, d1 = s0['stats'].get(h, {}), s1['stats'].get(h, {})
        if 'tx_bytes' in d0 and 'tx_bytes' in d1 and d1['uptime_ms'] > d0['uptime_ms']:
            up = (d1['uptime_ms'] - d0['uptime_ms']) / 1000.0
            ptx += (d1['tx_bytes'] - d0['tx_bytes']) / up
            prx += (d1['rx_bytes'] - d0['rx_bytes']) / up
            pkt_tx += (d1['tx'] - d0['tx']) / up
            pkt_rx += (d1['rx'] - d0['rx']) / up
    asleep_time = sum(min(e['end'], s1['t']) - max(e['sleep'], s0['t']) for e in all_eps
                      if e['end'] > s0['t'] and e['sleep'] < s1['t'])
    awake_frac = 1 - asleep_time / (n * dt)
    say('control traffic (UDP port 7789 on each host\'s link, tc counters, %d s): per host '
        'sent %.0f B/s (%.2f pkt/s), received %.0f B/s (%.1f pkt/s); '
        'per awake host sent %.0f B/s; busiest host %.0f B/s in+out' % (
            dt, tx / n / dt, txp / n / dt, rx / n / dt, rxp / n / dt,
            tx / (n * dt * awake_frac) if awake_frac > 0 else 0, max(per_host)))
    say('  daemons\' own counters (UDP payload): sent %.0f B/s in %.2f msg/s, received %.0f B/s '
        'in %.1f msg/s per host; hosts awake %.0f%% of the time' % (
            ptx / n, pkt_tx / n, prx / n, pkt_rx / n, 100 * awake_frac))

    # -- spread of sleepers over managers, sampled every second
    samples = []
    uni = []
    rng = random.Random(1)
    t = t_start + 1
    while t < t_end:
        awake = [h for h in hosts if asleep_at(h, t) is None]
        load = {h: 0 for h in awake}
        managed = 0
        for s in hosts:
            ms = {iv[0] for iv in ivals.get(s, []) if iv[1] <= t < iv[2]}
            if ms and asleep_at(s, t):
                managed += 1
                for m in ms:
                    if m in load:
                        load[m] += 1
        if managed >= 5 and awake:
            samples.append((t, len(awake), managed) + spread(list(load.values())))
            u = [0] * len(awake)
            for _ in range(managed):
                u[rng.randrange(len(awake))] += 1
            uni.append(spread(u))
        t += 1.0
    if samples:
        k = len(samples)
        avg = lambda i: sum(s[i] for s in samples) / k     # noqa: E731
        uavg = lambda i: sum(s[i] for s in uni) / k        # noqa: E731
        say('spread of sleepers over awake managers (%d samples, 1/s): on average %.0f awake, '
            '%.0f managed sleepers; max/mean %.2f, coefficient of variation %.2f, Gini %.2f '
            '(a uniformly random assignment: %.2f, %.2f, %.2f); worst sample max/mean %.2f' % (
                k, avg(1), avg(2), avg(3), avg(4), avg(5), uavg(0), uavg(1), uavg(2),
                max(s[3] for s in samples)))
        top = max(samples, key=lambda s: s[2])
        say('  at the most sleepers (+%.0f s): %d awake, %d managed, max/mean %.2f, CV %.2f, '
            'Gini %.2f' % (top[0] - t_start, top[1], top[2], top[3], top[4], top[5]))
    else:
        say('spread of sleepers over managers: no sample with 5 or more managed sleepers')

    # -- the machine
    busy = [x1 - x0 for x0, x1 in zip(s0['proc_stat'], s1['proc_stat'])]
    idle = busy[3] + busy[4]
    tot = sum(busy[:8])
    say('VM load over the run: CPU %.0f%% busy (%d CPUs); the %d daemons used %.3f CPU-s/s '
        '(%.1f ms/s each), %.1f MB RSS each; memory available %.0f of %.0f MB' % (
            100.0 * (tot - idle) / tot if tot else 0, s1['ncpu'], s1['daemons']['count'],
            (s1['daemons']['cpu_s'] - s0['daemons']['cpu_s']) / dt,
            1000 * (s1['daemons']['cpu_s'] - s0['daemons']['cpu_s']) / dt / max(1, s1['daemons']['count']),
            s1['daemons']['rss_mean'] / 2**20, s1.get('MemAvailable', 0) / 2**20,
            s1.get('MemTotal', 0) / 2**20))
    u0, u1 = s0['daemons'].get('udp', {}), s1['daemons'].get('udp', {})
    say('UDP in the hosts\' namespaces during the run: %d datagrams received, %d dropped '
        '(receive buffer full %d)' % (
            u1.get('InDatagrams', 0) - u0.get('InDatagrams', 0),
            u1.get('InErrors', 0) - u0.get('InErrors', 0),
            u1.get('RcvbufErrors', 0) - u0.get('RcvbufErrors', 0)))
    late = [r for r in drv if r['op'] == 'late']
    say('daemon logs: %d errors, %d warnings%s; the driver ran %d events more than 1 s late' % (
        levels['error'], levels['warning'],
        (' (' + ', '.join('%s %d' % kv for kv in sorted(warn_kinds.items())) + ')') if warn_kinds else '',
        len(late)))
    print('\n'.join(out))
    summary = {'seed': sched['seed'], 'hosts': n, 'duration': sched['duration'],
               'faults': {'netem': sched.get('netem'), 'kills': len(kills),
                          'skew': sched.get('skew'),
                          'partition': {'start': part['start'] - t_start,
                                        'end': part['end'] - t_start,
                                        'hosts': sorted(part['hosts'])} if part else None},
               'sleeps': len(all_eps), 'false_takeovers': false_to,
               'false_takeover_list': false_list,
               'managed_median': pct(t_managed, 50),
               'managed_p99': pct(t_managed, 99), 'never_managed': never,
               'wake_median': pct(lat, 50), 'wake_p99': pct(lat, 99),
               'missed': len(missed), 'to_sleepers': len(to_sleep_open),
               'cut_off': len(cut),
               'false_wakes': len(false_w), 'dup_time': dup_time,
               'control_bytes_per_host_s': (tx + rx) / n / dt if dt else None,
               'control_sent_bytes_per_host_s': tx / n / dt if dt else None,
               'control_sent_pkts_per_host_s': txp / n / dt if dt else None}
    with open(a.summary, 'w') as f:
        json.dump(summary, f, indent=1)
    if a.plot:
        plot(a.plot, t_start, t_end, hosts, asleep_at, ivals, t_managed, lat,
             part, kills, summary)


GNUPLOT = """set terminal pngcairo size 1200,500 font ",10"
set output "%(png)s"
set multiplot layout 1,2 title "sleep simulation: %(n)d hosts, seed %(seed)d: false takeovers %(ft)d, missed wakes %(mw)d"
set title "over time (shaded: partition; dashed: a daemon killed on a live host)"
set xlabel "s"
set ylabel "hosts"
set key top left
%(objs)s
plot "%(base)s.timeline.dat" using 1:2 with steps title "asleep", \\
     "%(base)s.timeline.dat" using 1:3 with steps title "asleep and managed"
unset object 1
unset arrow
set title "CDF"
set xlabel "s"
set ylabel "fraction"
set key bottom right
set logscale x
plot "%(base)s.managed.dat" using 1:2 with steps title "sleep -> managed", \\
     "%(base)s.wake.dat" using 1:2 with steps title "wake latency (SYN -> connected, minus resume delay)"
unset multiplot
"""


def plot(png, t_start, t_end, hosts, asleep_at, ivals, t_managed, lat, part, kills,
         summary):
    """Two panels (gnuplot): hosts asleep and sleepers managed over time,
    with the faults marked; CDFs of time-to-managed and wake latency."""
    base = png[:-4] if png.endswith('.png') else png
    with open(base + '.timeline.dat', 'w') as f:
        t = t_start
        while t < t_end:
            sl = [h for h in hosts if asleep_at(h, t)]
            man = sum(1 for h in sl if any(iv[1] <= t < iv[2] for iv in ivals.get(h, [])))
            f.write('%.1f %d %d\n' % (t - t_start, len(sl), man))
            t += 1.0
    for name, xs in (('managed', t_managed), ('wake', lat)):
        with open('%s.%s.dat' % (base, name), 'w') as f:
            xs = sorted(max(x, 0.001) for x in xs)
            for i, x in enumerate(xs):
                f.write('%.3f %.4f\n' % (x, (i + 1) / len(xs)))
            if not xs:
                f.write('0.001 0\n')
    objs = []
    if part:
        objs.append('set object 1 rect from %.1f, graph 0 to %.1f, graph 1 '
                    'fc rgb "#ffdddd" fs solid 0.5 behind' % (
                        part['start'] - t_start, part['end'] - t_start))
    for i, k in enumerate(kills):
        objs.append('set arrow %d from %.1f, graph 0 to %.1f, graph 1 nohead '
                    'lc rgb "#888888" dt 2' % (i + 1, k['t'] - t_start, k['t'] - t_start))
    with open(base + '.gp', 'w') as f:
        f.write(GNUPLOT % {'png': png, 'n': len(hosts), 'seed': summary['seed'],
                           'ft': summary['false_takeovers'], 'mw': summary['missed'],
                           'objs': '\n'.join(objs), 'base': base})
    r = subprocess.run(['gnuplot', base + '.gp'], capture_output=True, text=True)
    if r.returncode:
        print('gnuplot failed: %s' % r.stderr.strip())


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('schedule')
    p.add_argument('out')
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--hosts', type=int, required=True)
    p.add_argument('--duration', type=float, required=True)
    p.add_argument('--conn-rate', type=float, default=2.0)
    p.add_argument('--p-sleeper', type=float, default=0.5)
    p.add_argument('--p-open', type=float, default=0.7)
    p.add_argument('--awake-mean', type=float, default=60)
    p.add_argument('--first-max', type=float, default=60)
    p.add_argument('--settle', type=float, default=4)
    p.add_argument('--open-timeout', type=float, default=30)
    p.add_argument('--closed-timeout', type=float, default=8)
    p.add_argument('--loss', type=float, default=2.0, help='%% on each end of every link')
    p.add_argument('--delay', type=float, default=10.0, help='ms')
    p.add_argument('--jitter', type=float, default=5.0, help='ms')
    p.add_argument('--kills', type=int, default=6)
    p.add_argument('--kill-min', type=float, default=30)
    p.add_argument('--kill-max', type=float, default=60)
    p.add_argument('--skew-hosts', type=int, default=10)
    p.add_argument('--skew-max', type=float, default=900)
    p.add_argument('--partition-hosts', type=int, default=20)
    p.add_argument('--partition-at', type=float, default=0.45)
    p.add_argument('--partition-len', type=float, default=60)
    p = sub.add_parser('services')
    p.add_argument('schedule')
    p.add_argument('ready')
    p = sub.add_parser('drive')
    p.add_argument('schedule')
    p.add_argument('dir')
    p.add_argument('out')
    p.add_argument('--sleepd', required=True)
    p.add_argument('--faketime', default='')
    p = sub.add_parser('converged')
    p.add_argument('dir')
    p.add_argument('n', type=int)
    p = sub.add_parser('diag')
    p.add_argument('dir')
    p.add_argument('n', type=int)
    p.add_argument('--secs', type=float, default=10)
    p = sub.add_parser('snapshot')
    p.add_argument('dir')
    p.add_argument('n', type=int)
    p.add_argument('out')
    p = sub.add_parser('analyze')
    p.add_argument('dir')
    p.add_argument('n', type=int)
    p.add_argument('schedule')
    p.add_argument('driver')
    p.add_argument('snap0')
    p.add_argument('snap1')
    p.add_argument('summary')
    p.add_argument('--resume-delay', type=float, default=1.0)
    p.add_argument('--plot', default='')
    a = ap.parse_args()
    globals()['cmd_' + a.cmd](a)


if __name__ == '__main__':
    main()
