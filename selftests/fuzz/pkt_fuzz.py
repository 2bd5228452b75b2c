#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Spoofed and mutated packets from raw sockets, bounded and repeatable
(pkt_fuzz_test.sh): what a network attacker, or a container whose traffic
reaches the hosts' network, can send to a host running vrdma.

  pkt_fuzz.py --seed N --count N --seconds S --dev IFNAME --dst ADDR
              --srcs A,B,... [--own ADDR] [--key HEX] [--keyed-src ADDR]
              [--qpns Q,...] [--vnis V,...] [--overlays A,...]
              [--sleeper ADDR --sleeper6 ADDR6 --dmac MAC]
              [--kinds ctrl,roce,arp,nd,sleep]

Each of the --count packets is of a kind drawn from --kinds (the same
share each) and a mutation drawn per kind, from random.Random(seed):

ctrl   the channel between hosts' modules (ctrl.h, UDP --port 4793):
       announcements, tunnelled MADs, their acknowledgments and
       replication messages, unsigned, signed with another key, replayed
       (a message signed with --key for the real host --srcs[0] ->
       --dst, sent once from there, then again from any source),
       truncated, oversized (up to 65,000 bytes), with wrong magic,
       version, type, flags, reserved or length fields, a bit flipped
       after signing, another tenant's VNI and QPN; with --keyed-src,
       messages signed with --key from that address (a host the map
       does not hold) whose bodies are random: they reach the handlers.
roce   RoCEv2 (UDP 4791) UD SEND, RC and random opcodes to the QPNs of
       --qpns (other tenants' QPs) and random ones, with a valid ICRC and
       the test's Q_Key or with a wrong one, truncated and oversized.
arp    ARP requests and replies (AF_PACKET) about --sleeper and random
       addresses with valid and mutated fields, truncated and padded.
nd     IPv6 neighbour solicitations and advertisements for --sleeper6.
sleep  IPv4 packets to --sleeper (a host the module watches while it
       sleeps): TCP SYNs, UDP to the RoCE and channel ports with MADs and
       tunnel headers, fragments, mutated and cut headers.
sleepd vrdma-sleepd's group protocol (UDP --group:--gport): messages
       captured from the group for --capture seconds first (from --own)
       and replayed, re-signed with another key, truncated, oversized,
       with wrong header fields or flipped bits; forged messages of the
       daemons' --ids with another key; with --gkey, MAC-valid messages
       whose last TLV overruns the message (malformed).

Sources (the IP source address) are drawn from --srcs: spoofed addresses
need no local address (IP_HDRINCL); oversized datagrams, which must be
fragmented, go from --own (a UDP socket).  The run stops after --count
packets or --seconds.  Prints "seed N", then per kind and mutation the
packets sent, then "sent N" and "errors N" (send errors other than
EMSGSIZE and ENOBUFS, which a fuzzer meets on purpose).
"""

import argparse
import errno
import hashlib
import hmac
import ipaddress
import random
import socket
import struct
import sys
import time
import zlib

CTRL_MAGIC = 0x56524354
CTRL_VERSION = 2
F_MAC = 0x0001
GSI_MAGIC = 0x76524d31
UDA_MAGIC = 0x76524431
T_MAD, T_UDA, T_UDA_ACK = 32, 33, 34
SLEEPD_MAGIC = 0x56534c31	# vrdma-sleepd's messages (sleepd.h)
QKEY = 0x11111111		# selftests/vdev/vdev_tool.c's UD_QKEY
ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 = 0x0806, 0x0800, 0x86dd


def gid(a):
    ip = ipaddress.ip_address(a)
    if ip.version == 4:
        return ipaddress.IPv6Address("::ffff:" + str(ip)).packed
    return ip.packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(src, dst, proto, payload, ident, frag=0x4000, tos=0, ttl=64):
    return struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), ident,
                       frag, ttl, proto, 0, socket.inet_aton(src),
                       socket.inet_aton(dst)) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


class Fuzzer:
    def __init__(self, a):
        self.a = a
        self.r = random.Random(a.seed)
        self.key = bytes.fromhex(a.key) if a.key else None
        self.counts = {}
        self.errors = 0
        self.sent = 0
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                 socket.IPPROTO_RAW)
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                            a.dev.encode())
        self.big = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.big.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                            a.dev.encode())
        self.big.bind((a.own or a.srcs[0], 0))
        self.pkt = None
        if set(a.kinds) & {"arp", "nd"}:
            self.pkt = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            self.pkt.bind((a.dev, 0))
            self.smac = self.pkt.getsockname()[4]
        self.captures = []	# genuine channel messages, sent once
        self.sleepd_caps = []	# genuine group messages, captured
        self.ctrl_seq = time.time_ns()

    # -- sending ---------------------------------------------------------
    def count(self, kind, mut):
        k = kind + "." + mut
        self.counts[k] = self.counts.get(k, 0) + 1

    def send_ip(self, pkt, dst):
        try:
            self.raw.sendto(pkt, (dst, 0))
        except OSError as e:
            if e.errno not in (errno.EMSGSIZE, errno.ENOBUFS, errno.EINVAL):
                self.errors += 1
                print("# send: %s" % e, file=sys.stderr)

    def send_udp(self, src, dst, dport, payload):
        """Spoofed from src when it fits, else fragmented from --own."""
        if len(payload) <= 1400:
            sport = self.r.choice([dport, self.r.randrange(1024, 65536)])
            self.send_ip(ip4(src, dst, 17, udp(sport, dport, payload),
                             self.r.randrange(1, 65536)), dst)
            return
        try:
            self.big.sendto(payload[:65507], (dst, dport))
        except OSError as e:
            if e.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                self.errors += 1
                print("# send: %s" % e, file=sys.stderr)

    def send_eth(self, frame):
        try:
            self.pkt.send(frame)
        except OSError as e:
            if e.errno not in (errno.EMSGSIZE, errno.ENOBUFS, errno.EINVAL):
                self.errors += 1
                print("# send: %s" % e, file=sys.stderr)

    # -- the channel between hosts' modules --------------------------------
    def rbytes(self, n):
        return self.r.randbytes(n)

    def ctrl_body(self, mtype):
        r = self.r
        a = self.a
        if mtype == T_UDA:
            return struct.pack(">IIII16s16s", UDA_MAGIC, r.choice(a.vnis),
                               r.choice(a.qpns + [r.randrange(1 << 24)]), 0,
                               gid(r.choice(a.srcs)),
                               gid(r.choice(a.overlays)))
        if mtype == T_MAD:
            mad = struct.pack(">BBBBHHQHHI", 1, 7, r.choice([2, 3, 7]), 3,
                              0, 0, r.getrandbits(64),
                              r.choice([0x10, 0x11, 0x12, 0x13, 0x14, 0x15]),
                              0, 0) + self.rbytes(232)
            return struct.pack(">IIIIIIHH16s16s", GSI_MAGIC, len(mad),
                               r.choice(a.vnis), r.choice([1, 2, 3]), 1,
                               0x80010000, 0xffff, 0,
                               gid(r.choice(a.overlays)),
                               gid(r.choice(a.overlays))) + mad
        return self.rbytes(r.choice([0, 4, 16, 40, 64, 128, 300]))

    def ctrl_msg(self, src, dst, mtype, body, key, version=CTRL_VERSION,
                 flags=None, magic=CTRL_MAGIC, blen=None, reserved=0,
                 seq=None):
        if seq is None:	# as ctrl.c: within the receiver's clock skew
            self.ctrl_seq = max(self.ctrl_seq + 1, time.time_ns())
            seq = self.ctrl_seq
        if flags is None:
            flags = F_MAC if key else 0
        hdr = struct.pack(">IBBHIIQ", magic, version, mtype, flags,
                          len(body) if blen is None else blen, reserved,
                          seq)
        pkt = hdr + body
        if key:
            pkt += hmac.new(key, gid(src) + gid(dst) + pkt,
                            hashlib.sha256).digest()
        return pkt

    def ctrl(self):
        r = self.r
        a = self.a
        src = r.choice(a.srcs)
        mtype = r.choice([T_UDA, T_UDA, T_MAD, T_MAD, T_UDA_ACK,
                          r.randrange(1, 32), r.randrange(35, 256)])
        body = self.ctrl_body(mtype)
        wrong = self.rbytes(32)
        muts = ["nomac", "wrongkey", "truncated", "oversized", "fields",
                "tenant"]
        if self.key:
            muts += ["replay", "flip"]
        if self.key and a.keyed_src:
            muts += ["keyed"]
        mut = r.choice(muts)
        if mut == "nomac":
            pkt = self.ctrl_msg(src, a.dst, mtype, body, None)
        elif mut == "wrongkey":
            pkt = self.ctrl_msg(src, a.dst, mtype, body, wrong)
        elif mut == "tenant":
            # another tenant's VNI and QPN, as a UD announcement
            body = struct.pack(">IIII16s16s", UDA_MAGIC, r.choice(a.vnis),
                               r.choice(a.qpns), 0, gid(r.choice(a.srcs)),
                               gid(r.choice(a.overlays)))
            pkt = self.ctrl_msg(src, a.dst, T_UDA, body,
                                r.choice([None, wrong]))
        elif mut == "truncated":
            pkt = self.ctrl_msg(src, a.dst, mtype, body,
                                r.choice([None, wrong, self.key]))
            pkt = pkt[:r.randrange(len(pkt))]
        elif mut == "oversized":
            pkt = self.ctrl_msg(src, a.dst, mtype, body,
                                r.choice([None, wrong, self.key]))
            pkt += self.rbytes(r.choice([1, 32, 1000])) if r.random() < 0.7 \
                else bytes(r.randrange(16353, 65000))
        elif mut == "fields":
            f = r.choice(["magic", "version", "flags", "len", "reserved"])
            kw = {}
            if f == "magic":
                kw["magic"] = r.getrandbits(32)
            elif f == "version":
                kw["version"] = r.choice([0, 1, 3, 255])
            elif f == "flags":
                kw["flags"] = r.getrandbits(16) | r.choice([2, 0x8000])
            elif f == "len":
                kw["blen"] = r.choice([0, len(body) + 1, max(len(body) - 1, 0),
                                       16352, 16353, 0xffffffff,
                                       r.getrandbits(32)])
            else:
                kw["reserved"] = r.getrandbits(32) | 1
            pkt = self.ctrl_msg(src, a.dst, mtype, body,
                                r.choice([None, wrong, self.key]), **kw)
        elif mut == "flip":
            pkt = bytearray(self.ctrl_msg(src, a.dst, mtype, body, self.key))
            for _ in range(r.randrange(1, 9)):
                pkt[r.randrange(len(pkt))] ^= 1 << r.randrange(8)
            pkt = bytes(pkt)
        elif mut == "keyed":
            # MAC-valid from a host of the cluster the map does not hold:
            # the body reaches the handler; random bytes in it
            src = a.keyed_src
            body = bytearray(body)
            for _ in range(r.randrange(0, 9)):
                if body:
                    body[r.randrange(len(body))] = r.getrandbits(8)
            pkt = self.ctrl_msg(src, a.dst, mtype, bytes(body), self.key)
        else:	# replay
            if len(self.captures) < 32 or r.random() < 0.05:
                # a genuine message of the real host srcs[0], harmless
                # (an announcement in a VNI nobody uses): sent once
                body = struct.pack(">IIII16s16s", UDA_MAGIC, 999999,
                                   r.randrange(1 << 24), 0, gid(a.srcs[0]),
                                   gid(r.choice(a.overlays)))
                cap = self.ctrl_msg(a.srcs[0], a.dst, T_UDA, body, self.key)
                self.send_udp(a.srcs[0], a.dst, a.port, cap)
                self.count("ctrl", "genuine")
                self.captures.append(cap)
            pkt = r.choice(self.captures)
        self.count("ctrl", mut)
        self.send_udp(src, a.dst, a.port, pkt)

    # -- RoCEv2 ----------------------------------------------------------
    def roce_pkt(self, src, dst, opcode, dqpn, qkey, sqpn, payload,
                 good_icrc=True, psn=0):
        pad = -len(payload) % 4
        bth = struct.pack(">BBHII", opcode, pad << 4, 0xffff,
                          dqpn & 0xffffff, psn & 0xffffff)
        ext = b""
        if opcode & 0xe0 == 0x60:		# UD: DETH
            ext = struct.pack(">II", qkey, sqpn & 0xffffff)
        elif opcode & 0x1f in (0x06, 0x0a, 0x0b, 0x0c):	# RETH
            ext = struct.pack(">QII", self.r.getrandbits(64),
                              self.r.getrandbits(32), len(payload))
        body = ext + payload + bytes(pad)
        sport = self.r.randrange(49152, 65536)
        ident = self.r.randrange(1, 65536)
        total = bth + body + b"\0\0\0\0"
        pkt = ip4(src, dst, 17, udp(sport, 4791, total), ident)
        # ICRC (rxe_icrc.c): IP and UDP headers with TOS, TTL and both
        # checksums masked to ones, BTH with resv8a masked, then the rest
        ps = bytearray(pkt[:28] + bth)
        ps[1] = 0xff
        ps[8] = 0xff
        ps[10:12] = b"\xff\xff"
        ps[26:28] = b"\xff\xff"
        ps[28 + 4] = 0xff
        crc = zlib.crc32(bytes(ps) + body, 0xdebb20e3 ^ 0xffffffff)
        if not good_icrc:
            crc ^= 1 << self.r.randrange(32)
        return pkt[:-4] + struct.pack("<I", crc)

    def roce(self):
        r = self.r
        a = self.a
        src = r.choice(a.srcs)
        mut = r.choice(["ud", "ud", "badqkey", "badicrc", "opcode",
                        "randqpn", "truncated", "oversized"])
        dqpn = r.choice(a.qpns) if a.qpns else r.randrange(2, 1 << 24)
        opcode, qkey = 0x64, QKEY		# UD SEND only
        sqpn = r.randrange(2, 1 << 24)
        payload = self.rbytes(r.choice([0, 1, 8, 64, 256, 1000]))
        good = True
        if mut == "badqkey":
            qkey = r.getrandbits(32)
        elif mut == "badicrc":
            good = False
        elif mut == "opcode":
            opcode = r.choice([0x00, 0x04, 0x06, 0x0a, 0x0c, 0x10, 0x11,
                               0x65, r.getrandbits(8)])
        elif mut == "randqpn":
            dqpn = r.choice([0, 1, r.randrange(1 << 24)])
        pkt = self.roce_pkt(src, a.dst, opcode, dqpn, qkey, sqpn, payload,
                            good, psn=r.getrandbits(24))
        if mut == "truncated":
            pkt = pkt[:r.randrange(28, len(pkt))]
            pkt = pkt[:2] + struct.pack("!H", len(pkt)) + pkt[4:24] + \
                struct.pack("!H", len(pkt) - 20) + pkt[26:]
        elif mut == "oversized":
            # more than rxe's MTU (1024 for a 1500 netdev): one datagram
            # as large as the netdev takes, or fragmented from --own
            big = self.roce_pkt(src, a.dst, opcode, dqpn, qkey, sqpn,
                                self.rbytes(r.choice([1100, 1400, 4000])),
                                good)
            if len(big) <= 1500:
                pkt = big
            else:
                self.count("roce", mut)
                self.send_udp(a.own or src, a.dst, 4791,
                              big[36:] + bytes(16))
                return
        self.count("roce", mut)
        self.send_ip(pkt, a.dst)

    # -- ARP and ND ------------------------------------------------------
    def mac(self, s):
        return bytes.fromhex(s.replace(":", ""))

    def arp(self):
        r = self.r
        a = self.a
        mut = r.choice(["request", "reply", "gratuitous", "fields",
                        "truncated", "padded"])
        tip = r.choice([a.sleeper, a.sleeper, a.dst,
                        str(ipaddress.IPv4Address(r.getrandbits(32)))])
        sip = r.choice(a.srcs)
        hrd, pro, hln, pln = 1, ETH_P_IP, 6, 4
        op = 2 if mut == "reply" else 1
        if mut == "gratuitous":
            sip = tip
        if mut == "fields":
            f = r.randrange(5)
            hrd = r.getrandbits(16) if f == 0 else hrd
            pro = r.getrandbits(16) if f == 1 else pro
            hln = r.getrandbits(8) if f == 2 else hln
            pln = r.getrandbits(8) if f == 3 else pln
            op = r.getrandbits(16) if f == 4 else op
        body = struct.pack("!HHBBH6s4s6s4s", hrd, pro, hln, pln, op,
                           self.smac, socket.inet_aton(sip),
                           self.mac(a.dmac) if op == 2 else bytes(6),
                           socket.inet_aton(tip))
        if mut == "truncated":
            body = body[:r.randrange(len(body))]
        elif mut == "padded":
            body += self.rbytes(r.randrange(1, 1400))
        dmac = b"\xff" * 6 if r.random() < 0.6 else self.mac(a.dmac)
        self.count("arp", mut)
        self.send_eth(dmac + self.smac + struct.pack("!H", ETH_P_ARP) + body)

    def nd(self):
        r = self.r
        a = self.a
        mut = r.choice(["ns", "na", "badsum", "options", "truncated",
                        "hoplimit"])
        tgt = ipaddress.IPv6Address(r.choice([a.sleeper6, a.sleeper6,
                                              "fd00:99::%x" % r.getrandbits(16)]))
        src = ipaddress.IPv6Address(r.choice(["::", "fe80::66",
                                              "fd00:99::66"]))
        typ = 136 if mut == "na" else 135
        opts = b""
        if typ == 135 and not src.is_unspecified:
            opts = struct.pack("!BB6s", 1, 1, self.smac)
        if mut == "options":
            opts += struct.pack("!BB", r.getrandbits(8),
                                r.choice([0, 1, 2, 255])) + self.rbytes(6)
        icmp = struct.pack("!BBHI16s", typ, 0, 0,
                           0x60000000 if typ == 136 else 0, tgt.packed) + opts
        if typ == 135:
            dst = ipaddress.IPv6Address("ff02::1:ff00:0") + \
                (int(tgt) & 0xffffff)
            dmac = b"\x33\x33\xff" + tgt.packed[13:]
        else:
            dst = ipaddress.IPv6Address("ff02::1")
            dmac = b"\x33\x33\0\0\0\1"
        ps = src.packed + dst.packed + struct.pack("!IxxxB", len(icmp), 58)
        s = csum(ps + icmp)
        if mut == "badsum":
            s ^= 0x5a5a
        icmp = icmp[:2] + struct.pack("!H", s) + icmp[4:]
        hl = 1 if mut == "hoplimit" else 255
        ip6 = struct.pack("!IHBB16s16s", 0x60000000, len(icmp), 58, hl,
                          src.packed, dst.packed) + icmp
        if mut == "truncated":
            ip6 = ip6[:r.randrange(len(ip6))]
        self.count("nd", mut)
        self.send_eth(dmac + self.smac + struct.pack("!H", ETH_P_IPV6) + ip6)

    # -- packets to a sleeping host --------------------------------------
    def sleep(self):
        r = self.r
        a = self.a
        src = r.choice(a.srcs)
        dst = a.sleeper
        mut = r.choice(["syn", "tcp", "roce_mad", "roce", "ctrl_mad",
                        "ctrl", "udp", "frag", "badhdr"])
        ident = r.randrange(1, 65536)
        if mut in ("syn", "tcp"):
            flags = 0x02 if mut == "syn" else r.getrandbits(8)
            off = 5 if r.random() < 0.8 else r.randrange(16)
            seg = struct.pack("!HHIIBBHHH", r.randrange(1024, 65536),
                              r.choice([22, 80, 8080, 7471, 4791,
                                        r.randrange(65536)]),
                              r.getrandbits(32), 0, off << 4, flags, 65535,
                              0, 0) + self.rbytes(r.choice([0, 0, 4, 40]))
            pkt = ip4(src, dst, 6, seg, ident)
        elif mut in ("roce_mad", "roce"):
            dqpn = 1 if mut == "roce_mad" else r.randrange(1 << 24)
            mad = struct.pack(">BBBBHHQHHI", 1, 7, 3, 3, 0, 0,
                              r.getrandbits(64), 0x10, 0, 0) + \
                self.rbytes(r.choice([0, 24, 232]))
            pkt = self.roce_pkt(src, dst, r.choice([0x64, 0x64, 0x04,
                                                    r.getrandbits(8)]),
                                dqpn, 0x80010000, 1, mad,
                                r.random() < 0.8)
            pkt = pkt[:r.randrange(28, len(pkt) + 1)]
        elif mut in ("ctrl_mad", "ctrl"):
            mtype = T_MAD if mut == "ctrl_mad" else r.getrandbits(8)
            body = self.ctrl_body(mtype)
            m = self.ctrl_msg(src, dst, mtype, body, r.choice([None, b"x"]))
            m = m[:r.randrange(0, len(m) + 1)]
            pkt = ip4(src, dst, 17, udp(r.randrange(1024, 65536), a.port, m),
                      ident)
        elif mut == "udp":
            pkt = ip4(src, dst, 17, udp(r.randrange(65536),
                                        r.randrange(65536),
                                        self.rbytes(r.randrange(64))), ident)
        elif mut == "frag":
            seg = udp(r.randrange(65536), r.choice([4791, a.port]),
                      self.rbytes(64))
            pkt = ip4(src, dst, r.choice([6, 17]), seg, ident,
                      frag=r.choice([0x2000, 0x0001, 0x2005, 0x1fff]))
        else:
            pkt = ip4(src, dst, r.choice([6, 17, 58, r.getrandbits(8)]),
                      self.rbytes(r.randrange(0, 8)), ident)
        self.count("sleep", mut)
        self.send_ip(pkt, dst)

    # -- vrdma-sleepd's group protocol -----------------------------------
    def sleepd_capture(self):
        """Record the group's genuine messages for --capture seconds."""
        a = self.a
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", a.gport))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(a.group) + socket.inet_aton(a.own))
        s.settimeout(0.2)
        end = time.monotonic() + a.capture
        while time.monotonic() < end:
            try:
                d, src = s.recvfrom(2048)
            except socket.timeout:
                continue
            if src[0] != a.own:
                self.sleepd_caps.append(d)
        s.close()
        print("captured %d" % len(self.sleepd_caps), flush=True)

    def sleepd_msg(self, key, typ, sender, body, seq):
        hdr = struct.pack("!IBBHIIQQ", SLEEPD_MAGIC, 2, typ,
                          32 + len(body) + 32, sender, self.r.getrandbits(32),
                          self.r.getrandbits(64), seq)
        return hdr + body + hmac.new(key, hdr + body,
                                     hashlib.sha512).digest()[:32]

    def sleepd_tlvs(self):
        r = self.r
        out = b""
        for _ in range(r.randrange(0, 5)):
            v = self.rbytes(r.choice([0, 1, 4, 6, 16, 31, 40]))
            out += struct.pack("!HH", r.randrange(0, 20), len(v)) + v + \
                bytes(-len(v) % 4)
        return out

    def sleepd(self):
        r = self.r
        a = self.a
        src = r.choice(a.srcs)
        muts = ["forge", "wrongkey", "truncated", "oversized", "fields",
                "flip"]
        if self.sleepd_caps:
            muts += ["replay", "replay"]
        if a.gkey:
            muts += ["malformed"]
        mut = r.choice(muts)
        cap = bytearray(r.choice(self.sleepd_caps)) if self.sleepd_caps \
            else bytearray(self.sleepd_msg(self.rbytes(32), 1, 1, b"", 1))
        if mut == "replay":
            pkt = bytes(cap)
        elif mut == "forge":
            pkt = self.sleepd_msg(self.rbytes(32), r.randrange(1, 10),
                                  r.choice(a.ids + [r.getrandbits(32)]),
                                  self.sleepd_tlvs(), r.getrandbits(64))
        elif mut == "wrongkey":
            pkt = bytes(cap[:-32]) + hmac.new(self.rbytes(32), cap[:-32],
                                              hashlib.sha512).digest()[:32]
        elif mut == "truncated":
            pkt = bytes(cap[:r.randrange(len(cap))])
        elif mut == "oversized":
            pkt = bytes(cap) + (self.rbytes(r.choice([1, 4, 100])) if
                                r.random() < 0.7 else
                                bytes(r.randrange(1401, 9000)))
        elif mut == "fields":
            f = r.randrange(5)
            if f == 0:
                cap[0:4] = struct.pack("!I", r.getrandbits(32))
            elif f == 1:
                cap[4] = r.choice([0, 1, 3, 255])
            elif f == 2:
                cap[5] = r.choice([0, 10, 255])
            elif f == 3:
                cap[6:8] = struct.pack("!H", r.getrandbits(16))
            else:
                cap[8:12] = bytes(4)
            pkt = bytes(cap)
        elif mut == "flip":
            for _ in range(r.randrange(1, 9)):
                cap[r.randrange(len(cap))] ^= 1 << r.randrange(8)
            pkt = bytes(cap)
        else:	# malformed: MAC-valid, its last TLV overruns the message
            body = self.sleepd_tlvs() + struct.pack(
                "!HH", r.randrange(0, 20), r.randrange(200, 65536)) + \
                self.rbytes(r.choice([0, 4, 8]))
            pkt = self.sleepd_msg(bytes.fromhex(a.gkey), r.randrange(1, 10),
                                  r.choice(a.ids), body, r.getrandbits(64))
        self.count("sleepd", mut)
        self.send_udp(src, a.group, a.gport, pkt)

    def run(self):
        a = self.a
        fns = {"ctrl": self.ctrl, "roce": self.roce, "arp": self.arp,
               "nd": self.nd, "sleep": self.sleep, "sleepd": self.sleepd}
        kinds = [fns[k] for k in a.kinds]
        end = time.monotonic() + a.seconds
        print("seed %d" % a.seed, flush=True)
        if "sleepd" in a.kinds and a.capture:
            self.sleepd_capture()
        while self.sent < a.count and time.monotonic() < end:
            self.r.choice(kinds)()
            self.sent += 1
            if self.sent % 64 == 0:
                time.sleep(0.002)	# the receivers' queues are not flooded
        for k in sorted(self.counts):
            print("%s %d" % (k, self.counts[k]))
        for kind in a.kinds:
            n = sum(v for k, v in self.counts.items()
                    if k.startswith(kind + ".") and k != "ctrl.genuine")
            print("kind %s %d" % (kind, n))
        print("sent %d" % self.sent)
        print("errors %d" % self.errors)
        return 0 if self.errors == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, default=4793)
    ap.add_argument("--srcs", required=True)
    ap.add_argument("--own")
    ap.add_argument("--key")
    ap.add_argument("--keyed-src")
    ap.add_argument("--qpns", default="")
    ap.add_argument("--vnis", default="0")
    ap.add_argument("--overlays", default="10.244.1.1")
    ap.add_argument("--sleeper", default="10.99.0.9")
    ap.add_argument("--sleeper6", default="fd00:99::9")
    ap.add_argument("--dmac", default="ff:ff:ff:ff:ff:ff")
    ap.add_argument("--group", default="239.255.77.77")
    ap.add_argument("--gport", type=int, default=7789)
    ap.add_argument("--gkey")
    ap.add_argument("--ids", default="")
    ap.add_argument("--capture", type=float, default=0)
    ap.add_argument("--kinds", default="ctrl,roce")
    a = ap.parse_args()
    a.srcs = a.srcs.split(",")
    a.qpns = [int(q, 0) for q in a.qpns.split(",") if q]
    a.vnis = [int(v) for v in a.vnis.split(",")]
    a.overlays = a.overlays.split(",")
    a.kinds = a.kinds.split(",")
    a.ids = [int(i, 0) for i in a.ids.split(",") if i]
    return Fuzzer(a).run()


if __name__ == "__main__":
    sys.exit(main())
