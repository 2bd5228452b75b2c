#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Capture, replay and forge control messages of the replication engine
(ctrl.h's datagrams carrying repl_wire.h's bodies), as an attacker or a
misconfigured host on the simulated network of selftests/lib/topo.sh.

  repl_ctrl.py capture --dev IF --src ADDR --dst ADDR --count N
                       [--timeout S] FILE
      save N heartbeats (IPv4, UDP port 4793) from ADDR to ADDR seen on
      IF, as whole Ethernet frames
  repl_ctrl.py replay --dev IF [--seconds S] [--interval S] FILE
      send the saved frames again, in a loop, out of IF (a veth: they
      arrive on its peer as if from the network)
  repl_ctrl.py forge-hb --src ADDR --dev IF --dst ADDR [--key HEX|none]
                        [--nodev] [--cfg SPEC] FILE
      send the last saved heartbeat again as a new message (a fresh
      sequence number, signed with --key), with VRDMA_REPL_HB_NODEV set
      with --nodev, and, when the heartbeat carries a configuration hash,
      the hash of the configuration SPEC (see cfg_hash())
  repl_ctrl.py hash SPEC
      print the configuration hash of SPEC

SPEC: name=G,size=N,hb_ms=N,lease_ms=N,authority=ADDR,members=ADDR+ADDR...
"""

import argparse
import hashlib
import hmac
import ipaddress
import socket
import struct
import sys
import time

PORT = 4793
CTRL_HDR = ">IBBHIIQ"		# struct vrdma_ctrl_hdr
CTRL_HDR_LEN = struct.calcsize(CTRL_HDR)
CTRL_MAGIC = 0x56524354
F_MAC = 0x0001
MAC_LEN = 32
REPL_C_HB = 1
NAME_LEN = 32
HB_NODEV = 0x01
# struct vrdma_repl_c_hb without and with the configuration hash
HB_LEN_V1 = NAME_LEN + 16 + 32
HB_LEN_V2 = HB_LEN_V1 + 16
HASH_OFF = NAME_LEN + 16	# cfg_hash in struct vrdma_repl_c_hdr


def gid(a):
    ip = ipaddress.ip_address(a)
    if ip.version == 4:
        return ipaddress.IPv6Address("::ffff:" + str(ip)).packed
    return ip.packed


def cfg_hash(spec):
    """The configuration hash (Documentation/replication.rst,
    "Configuration hash"): the first 16 bytes of the SHA-256 of
    "vrdma-repl-cfg-1", the name (32 bytes, NUL-padded), the size (le64),
    repl_hb_ms and repl_lease_ms (le32 each), the authority (16 bytes,
    IPv4-mapped), the number of members (le32) and the members in order
    (16 bytes each)."""
    f = dict(kv.split("=", 1) for kv in spec.split(","))
    members = f["members"].split("+")
    d = b"vrdma-repl-cfg-1" + f["name"].encode().ljust(NAME_LEN, b"\0")
    d += struct.pack("<QII", int(f["size"]), int(f["hb_ms"]),
                     int(f["lease_ms"]))
    d += gid(f["authority"]) + struct.pack("<I", len(members))
    for m in members:
        d += gid(m)
    return hashlib.sha256(d).digest()[:16]


def frames_load(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    while data:
        n = struct.unpack("<I", data[:4])[0]
        out.append(data[4:4 + n])
        data = data[4 + n:]
    return out


def udp_payload(frame):
    """The UDP payload of an Ethernet/IPv4 frame, with its addresses."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0f) * 4
    if ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    sport, dport = struct.unpack(">HH", ip[ihl:ihl + 4])
    return src, dst, dport, ip[ihl + 8:]


def capture(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((a.dev, 0))
    s.settimeout(0.5)
    got = []
    end = time.monotonic() + a.timeout
    while len(got) < a.count and time.monotonic() < end:
        try:
            frame = s.recv(65536)
        except socket.timeout:
            continue
        p = udp_payload(frame)
        if not p or p[0] != a.src or p[1] != a.dst or p[2] != PORT:
            continue
        pay = p[3]
        if len(pay) < CTRL_HDR_LEN:
            continue
        magic, _, mtype = struct.unpack(">IBB", pay[:6])
        if magic == CTRL_MAGIC and mtype == REPL_C_HB:
            got.append(frame)
    with open(a.file, "wb") as f:
        for fr in got:
            f.write(struct.pack("<I", len(fr)) + fr)
    print("captured %d heartbeats" % len(got))
    return 0 if len(got) == a.count else 1


def no_udp_csum(frame):
    """The frame with a UDP checksum of 0 (none, for IPv4): a frame seen
    on a veth may carry a partial checksum (offloaded), which a frame sent
    from a packet socket does not get completed."""
    ihl = (frame[14] & 0x0f) * 4
    off = 14 + ihl + 6
    return frame[:off] + b"\0\0" + frame[off + 2:]


def replay(a):
    frames = [no_udp_csum(f) for f in frames_load(a.file)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    end = time.monotonic() + a.seconds
    n = 0
    print("replaying", flush=True)
    while time.monotonic() < end:
        s.send(frames[n % len(frames)])
        n += 1
        time.sleep(a.interval)
    print("replayed %d frames" % n)
    return 0


def forge_hb(a):
    pay = udp_payload(frames_load(a.file)[-1])[3]
    magic, ver, mtype, flags, blen, res, seq = \
        struct.unpack(CTRL_HDR, pay[:CTRL_HDR_LEN])
    body = bytearray(pay[CTRL_HDR_LEN:CTRL_HDR_LEN + blen])
    if len(body) not in (HB_LEN_V1, HB_LEN_V2):
        print("unknown heartbeat length %d" % len(body))
        return 1
    if len(body) == HB_LEN_V2 and a.cfg:
        body[HASH_OFF:HASH_OFF + 16] = cfg_hash(a.cfg)
    if a.nodev:
        off = len(body) - 4
        hbf = struct.unpack("<I", body[off:])[0] | HB_NODEV
        body[off:] = struct.pack("<I", hbf)
    signed = a.key != "none"
    # A sequence number 20 ms ahead: the host of --src keeps sending (its
    # numbers are its clock in ns), and a receiver drops a number older
    # than the 64 newest it accepted from that address.
    pkt = struct.pack(CTRL_HDR, magic, ver, mtype, F_MAC if signed else 0,
                      len(body), 0, time.time_ns() + 20 * 10**6) + bytes(body)
    if signed:
        pkt += hmac.new(bytes.fromhex(a.key), gid(a.src) + gid(a.dst) + pkt,
                        hashlib.sha256).digest()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.dev.encode())
    s.bind((a.src, 0))
    s.sendto(pkt, (a.dst, PORT))
    print("sent a %d-byte heartbeat body%s" %
          (len(body), " (configuration hash " + cfg_hash(a.cfg).hex() + ")"
           if len(body) == HB_LEN_V2 and a.cfg else ""))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["capture", "replay", "forge-hb", "hash"])
    ap.add_argument("--dev")
    ap.add_argument("--src")
    ap.add_argument("--dst")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--key", default="none")
    ap.add_argument("--nodev", action="store_true")
    ap.add_argument("--cfg")
    ap.add_argument("file")
    a = ap.parse_args()
    if a.what == "hash":
        print(cfg_hash(a.file).hex())
        return 0
    return {"capture": capture, "replay": replay,
            "forge-hb": forge_hb}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
