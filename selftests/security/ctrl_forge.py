#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send a forged message of vrdma's control channel (ctrl.h) from a raw UDP
socket: a UD sender announcement (gsi.c's struct vrdma_uda_msg) or a
tunnelled MAD (struct vrdma_gsi_hdr and a 256-byte CM MAD), signed with a
key, with a wrong key, or not signed.

  ctrl_forge.py uda --key HEX|none --src ADDR --dev IFNAME --dst ADDR
                [--port N] [--seq N|now|old] [--repeat N] [--save FILE]
                VNI QPN HOST OVERLAY
  ctrl_forge.py mad --key ... VNI SGID DGID
  ctrl_forge.py replay --src ADDR --dev IFNAME --dst ADDR [--port N] FILE

HOST and OVERLAY are IPv4 or IPv6 addresses (the announced QP's host and
overlay address).  --save keeps the datagram's bytes, which "replay"
sends again, as they were.
"""

import argparse
import hashlib
import hmac
import ipaddress
import socket
import struct
import sys
import time

CTRL_MAGIC = 0x56524354
CTRL_VERSION = 2
CTRL_GSI_MAD = 32
CTRL_GSI_UDA = 33
GSI_MAGIC = 0x76524d31
F_MAC = 0x0001
UDA_MAGIC = 0x76524431


def gid(a):
    ip = ipaddress.ip_address(a)
    if ip.version == 4:
        return ipaddress.IPv6Address("::ffff:" + str(ip)).packed
    return ip.packed


def sock(src, dev):
    fam = socket.AF_INET if ipaddress.ip_address(src).version == 4 \
        else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    s.bind((src, 0))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["uda", "mad", "replay"])
    ap.add_argument("--key", default="none")
    ap.add_argument("--src", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, default=4793)
    ap.add_argument("--seq", default="now")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--save")
    ap.add_argument("args", nargs="*")
    a = ap.parse_intermixed_args()
    s = sock(a.src, a.dev)

    if a.what == "replay":
        with open(a.args[0], "rb") as f:
            pkt = f.read()
        for _ in range(a.repeat):
            s.sendto(pkt, (a.dst, a.port))
        return 0

    if a.what == "mad":
        # A CM REQ's MAD header (class 7, method SEND, attribute 0x0010).
        mad = struct.pack(">BBBBHHQHHI", 1, 7, 2, 3, 0, 0, 0x1234, 0x10, 0,
                          0) + bytes(232)
        mtype = CTRL_GSI_MAD
        body = struct.pack(">IIIIIIHH16s16s", GSI_MAGIC, len(mad),
                           int(a.args[0]), 1, 1, 0x80010000, 0xffff, 0,
                           gid(a.args[1]), gid(a.args[2])) + mad
    else:
        vni, qpn, host, overlay = int(a.args[0]), int(a.args[1]), \
            a.args[2], a.args[3]
        mtype = CTRL_GSI_UDA
        body = struct.pack(">IIII16s16s", UDA_MAGIC, vni, qpn, 0, gid(host),
                           gid(overlay))
    for i in range(a.repeat):
        if a.seq == "now":
            seq = time.time_ns() + i
        elif a.seq == "old":
            seq = time.time_ns() - 3600 * 10**9
        else:
            seq = int(a.seq) + i
        signed = a.key != "none"
        hdr = struct.pack(">IBBHIIQ", CTRL_MAGIC, CTRL_VERSION, mtype,
                          F_MAC if signed else 0, len(body), 0, seq)
        pkt = hdr + body
        if signed:
            # The MAC covers both addresses, then header and body.
            pkt += hmac.new(bytes.fromhex(a.key),
                            gid(a.src) + gid(a.dst) + pkt,
                            hashlib.sha256).digest()
        s.sendto(pkt, (a.dst, a.port))
        if a.save:
            with open(a.save, "wb") as f:
                f.write(pkt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
