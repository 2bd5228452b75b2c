#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Bounded, repeatable fuzzer of the vrdma generic netlink family.

The operations, their attribute sets and the attributes' types come from
the family's YAML specification (read with the kernel's YNL spec library,
tools/net/ynl/lib/nlspec.py of LINUX_SRC).  Each message is generated for a
random operation, from plausible values (names of the test's devices and
namespaces, addresses of its hosts) and random ones, then mutated: wrong
lengths, wrong types, missing and extra attributes, duplicates, garbage
nesting, the NLA_F_NESTED flag flipped, truncated or oversized messages,
random bytes.  Requests carry NLM_F_ACK (and NLM_F_DUMP for dumps); every
one must be answered (an error or an acknowledgment, or a dump's end)
within a second or two: a request left unanswered is a failure.

  nl_fuzz.py --spec SPEC --ynl DIR --seed N --count N [--seconds S]
             [--names a,b] [--netdevs a,b] [--pids 1,2] [--addrs a,b]
             [--user]

--user drops to uid/gid 65534 without capabilities first (an
unprivileged caller); run it under "ip netns exec" for a caller of
another namespace.  Prints the seed, then a summary: messages sent,
answers by errno, and "unanswered N" (the exit status is 1 when N > 0).
"""

import argparse
import errno
import ipaddress
import os
import random
import select
import socket
import struct
import sys
import time

NETLINK_GENERIC = 16
NETLINK_EXT_ACK = 11
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLA_F_NESTED = 0x8000
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2


def nla(atype, payload):
    hdr = struct.pack("=HH", 4 + len(payload), atype)
    pad = (-len(payload)) % 4
    return hdr + payload + b"\0" * pad


def nlmsg(mtype, flags, seq, cmd, body, version=1):
    genl = struct.pack("=BBH", cmd, version, 0)
    return struct.pack("=IHHII", 16 + len(genl) + len(body), mtype, flags,
                       seq, 0) + genl + body


class Sock:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.setsockopt(270, NETLINK_EXT_ACK, 1)
        self.s.bind((0, 0))
        self.seq = 1

    def family(self, name):
        body = nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")
        self.s.send(nlmsg(GENL_ID_CTRL, NLM_F_REQUEST, 1, CTRL_CMD_GETFAMILY,
                          body))
        data = self.s.recv(65536)
        off = 20
        while off + 4 <= len(data):
            alen, atype = struct.unpack_from("=HH", data, off)
            if atype == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", data, off + 4)[0]
            off += (alen + 3) & ~3
        raise OSError(errno.ENOENT, "family %s not found" % name)

    def request(self, raw, timeout):
        """Send one message; its errno (0 for success), or None if it was
        not answered within @timeout seconds."""
        seq = struct.unpack_from("=I", raw, 8)[0] if len(raw) >= 12 else 0
        try:
            self.s.send(raw)
        except OSError as e:
            return -e.errno
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            if not select.select([self.s], [], [], left)[0]:
                return None
            try:
                data = self.s.recv(1 << 20)
            except OSError as e:
                return -e.errno
            off = 0
            while off + 16 <= len(data):
                mlen, mtype, _, mseq, _ = struct.unpack_from("=IHHII", data,
                                                              off)
                if mlen < 16:
                    break
                if mseq == seq and mtype == NLMSG_ERROR:
                    return struct.unpack_from("=i", data, off + 16)[0]
                if mseq == seq and mtype == NLMSG_DONE:
                    return 0
                off += (mlen + 3) & ~3


class Gen:
    def __init__(self, spec, rng, vocab):
        self.spec = spec
        self.rng = rng
        self.v = vocab

    def gid(self):
        r = self.rng.random()
        if r < 0.5 and self.v["addrs"]:
            a = ipaddress.ip_address(self.rng.choice(self.v["addrs"]))
        elif r < 0.8:
            a = ipaddress.ip_address("10.244.%d.%d" %
                                     (self.rng.randrange(256),
                                      self.rng.randrange(256)))
        else:
            return bytes(self.rng.randrange(256) for _ in range(16))
        if a.version == 4:
            return ipaddress.IPv6Address("::ffff:" + str(a)).packed
        return a.packed

    def string(self, attr):
        r = self.rng.random()
        pool = []
        if attr.name in ("name", "phys", "phys-default"):
            pool = self.v["names"]
        elif attr.name == "netdev":
            pool = self.v["netdevs"]
        elif attr.name == "file":
            pool = ["/nonexistent/fz-%a-%i.img", "fz-relative", "/%x",
                    "/proc/fz-%a", "/" + "a" * 250]
        if r < 0.5 and pool:
            s = self.rng.choice(pool)
        elif r < 0.6:
            s = ""
        elif r < 0.7:
            s = "x" * self.rng.choice([63, 64, 255, 256, 1000])
        else:
            s = "".join(self.rng.choice("abc%d/._-\x01\xff")
                        for _ in range(self.rng.randrange(1, 20)))
        b = s.encode("utf-8", "surrogateescape")
        if self.rng.random() < 0.9:
            b += b"\0"
        return b

    def scalar(self, attr):
        width = {"u8": 1, "u16": 2, "u32": 4, "s32": 4, "u64": 8,
                 "s64": 8, "uint": 8, "sint": 8}.get(attr.type, 4)
        r = self.rng.random()
        if attr.name in ("netns-pid",) and self.v["pids"] and r < 0.6:
            val = self.rng.choice(self.v["pids"])
        elif r < 0.4:
            val = self.rng.choice([0, 1, 2, 7, 4096, 65536, 1 << 20,
                                   16777215, 16777216])
        elif r < 0.6:
            val = (1 << (8 * width)) - 1
        else:
            val = self.rng.getrandbits(8 * width)
        val &= (1 << (8 * width)) - 1
        return val.to_bytes(width, "little")

    def value(self, attr, depth):
        t = attr.type
        if t == "string":
            return self.string(attr)
        if t == "binary":
            if self.rng.random() < 0.8:
                return self.gid()
            return bytes(self.rng.randrange(256)
                         for _ in range(self.rng.choice([0, 1, 4, 15, 17,
                                                         64, 70000 % 4096])))
        if t == "flag":
            return b""
        if t == "nest":
            sub = self.spec.attr_sets[attr.yaml["nested-attributes"]]
            return self.attrs(sub, list(sub.attrs), depth + 1)
        if t == "pad":
            return b""
        return self.scalar(attr)

    def one(self, attr, depth):
        payload = self.value(attr, depth)
        atype = attr.value
        if attr.type == "nest":
            atype |= NLA_F_NESTED
        return nla(atype, payload)

    def attrs(self, aset, names, depth=0):
        body = b""
        if depth > 2:
            return body
        for name in names:
            if self.rng.random() < 0.25:
                continue		# missing
            attr = aset[name]
            n = 1 + (self.rng.random() < 0.05)	# duplicated
            for _ in range(n):
                body += self.one(attr, depth)
        return body

    def mutate(self, body, aset):
        r = self.rng.random()
        b = bytearray(body)
        if r < 0.1 and len(b) >= 4:
            # A wrong attribute length.
            off = 0
            struct.pack_into("=H", b, off, self.rng.randrange(0, 65536))
        elif r < 0.2 and len(b) >= 4:
            # A wrong (or unknown) attribute type.
            struct.pack_into("=H", b, 2, self.rng.randrange(0, 64))
        elif r < 0.3:
            # An extra attribute of any id and size.
            b += nla(self.rng.randrange(0, 64),
                     bytes(self.rng.randrange(256)
                           for _ in range(self.rng.randrange(0, 40))))
        elif r < 0.35 and len(b) >= 4:
            # NLA_F_NESTED flipped.
            t = struct.unpack_from("=H", b, 2)[0]
            struct.pack_into("=H", b, 2, t ^ NLA_F_NESTED)
        elif r < 0.45 and len(b) > 1:
            # Truncated.
            del b[self.rng.randrange(1, len(b)):]
        elif r < 0.5:
            # Garbage nesting: an attribute of the set, made of attributes.
            attr = self.rng.choice(list(aset.attrs.values()))
            inner = nla(1, b"\x01\x02") + nla(99, b"")
            b += nla(attr.value | NLA_F_NESTED, inner)
        elif r < 0.55:
            # Random bytes.
            b = bytearray(self.rng.randrange(256)
                          for _ in range(self.rng.randrange(0, 200)))
        elif r < 0.57:
            # Oversized.
            b += nla(1, b"\xaa" * 30000)
        return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--ynl", required=True)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--names", default="")
    ap.add_argument("--netdevs", default="")
    ap.add_argument("--pids", default="")
    ap.add_argument("--addrs", default="")
    ap.add_argument("--user", action="store_true")
    a = ap.parse_args()

    sys.path.insert(0, a.ynl)
    import nlspec
    spec = nlspec.SpecFamily(a.spec, schema_path="")

    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4),
                                                              "little")
    print("seed %d" % seed, flush=True)
    rng = random.Random(seed)
    split = lambda s: [x for x in s.split(",") if x]
    vocab = {"names": split(a.names), "netdevs": split(a.netdevs),
             "pids": [int(x) for x in split(a.pids)],
             "addrs": split(a.addrs)}
    if a.user:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    sk = Sock()
    fam = sk.family(spec.name)
    gen = Gen(spec, rng, vocab)
    ops = [op for op in spec.ops.values() if op.is_call]
    answers = {}
    unanswered = 0
    sent = 0
    end = time.monotonic() + a.seconds
    while sent < a.count and time.monotonic() < end:
        op = rng.choice(ops)
        mode = rng.choice(sorted(op.modes & {"do", "dump"}))
        names = op.yaml[mode].get("request", {}).get("attributes", [])
        if rng.random() < 0.1:
            names = list(op.attr_set.attrs)	# every attribute of the set
        body = gen.attrs(op.attr_set, names)
        if rng.random() < 0.6:
            body = gen.mutate(body, op.attr_set)
        flags = NLM_F_REQUEST | NLM_F_ACK
        if mode == "dump":
            flags |= NLM_F_DUMP
        cmd = op.req_value if rng.random() < 0.97 else rng.randrange(0, 40)
        sk.seq += 1
        raw = nlmsg(fam, flags, sk.seq, cmd, body,
                    version=1 if rng.random() < 0.95 else rng.randrange(256))
        silent = False
        if rng.random() < 0.02:
            # A header whose length says more or less than was sent.  The
            # kernel ignores, without an answer, a message it cannot hold.
            raw = bytearray(raw)
            hlen = rng.randrange(0, len(raw) + 64)
            struct.pack_into("=I", raw, 0, hlen)
            raw = bytes(raw)
            silent = hlen < 16 or hlen > len(raw)
        err = sk.request(raw, 0.2 if silent else 5.0)
        sent += 1
        if err is None and silent:
            answers["ignored"] = answers.get("ignored", 0) + 1
            continue
        if err is None:
            unanswered += 1
            print("unanswered: %s %s (%d bytes)" % (op.name, mode, len(raw)),
                  flush=True)
            sk = Sock()		# the old one may hold stale answers
            continue
        answers[err] = answers.get(err, 0) + 1
    print("sent %d" % sent)
    for e in sorted(answers, key=str):
        if isinstance(e, str):
            name = e
        else:
            name = errno.errorcode.get(-e, str(e)) if e else "ok"
        print("answer %s %d" % (name, answers[e]))
    print("unanswered %d" % unanswered)
    return 1 if unanswered else 0


if __name__ == "__main__":
    sys.exit(main())
