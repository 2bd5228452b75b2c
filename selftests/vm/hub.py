#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# A virtual Ethernet hub for the multi-VM tests (cluster.sh): every VM's
# NIC is a qemu "-netdev dgram" backend on a unix datagram socket of its
# own, with this hub's socket as the remote end.  Each frame a VM sends is
# copied to every other VM: a wire between the VMs' NICs that stays on
# this machine (no IP traffic on the host at all).
#
#   hub.py HUB_SOCKET VM_SOCKET...
#
# Runs until killed.  Counts frames per VM in HUB_SOCKET.stats on SIGUSR1.
import os
import signal
import socket
import sys


def main():
    hub, vms = sys.argv[1], sys.argv[2:]
    if not vms:
        sys.exit("usage: hub.py HUB_SOCKET VM_SOCKET...")
    try:
        os.unlink(hub)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(hub)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    frames = {v: 0 for v in vms}

    def stats(*_):
        with open(hub + ".stats", "w") as f:
            for v, n in frames.items():
                f.write(f"{v} {n}\n")

    signal.signal(signal.SIGUSR1, stats)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        try:
            data, src = s.recvfrom(65536)
        except InterruptedError:
            continue
        if src in frames:
            frames[src] += 1
        for v in vms:
            if v == src:
                continue
            try:
                s.sendto(data, socket.MSG_DONTWAIT, v)
            except (FileNotFoundError, ConnectionRefusedError,
                    BlockingIOError):
                pass    # not up (yet), gone, or its queue is full: dropped


if __name__ == "__main__":
    main()
