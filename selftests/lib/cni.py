#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# A minimal container runtime's CNI side, for the tests and the demo (no
# kubelet or containerd here): runs the plugins of a network
# configuration list as libcni does (CNI spec 1.0.0, "Execution of network
# configurations"): ADD in order, each getting the previous result as
# prevResult; DEL in reverse order with the cached result; CHECK in order
# with it.  The result of a successful ADD is cached under CACHE_DIR.
#
#   cni.py add|del|check CONFLIST CONTAINERID NETNS IFNAME [CNI_ARGS]
#
# Prints the final result (ADD) or the failing plugin's error object, and
# exits with the failing plugin's status (0 when all passed).  Plugins are
# looked up in $CNI_PATH (default /usr/lib/cni).
import json
import os
import subprocess
import sys

CACHE_DIR = os.environ.get("CNI_CACHE_DIR", "/run/cni/cache")


def cache_path(name, cid, ifname):
    return os.path.join(CACHE_DIR, f"{name}-{cid}-{ifname}.json")


def find_plugin(ptype):
    for d in os.environ.get("CNI_PATH", "/usr/lib/cni").split(":"):
        p = os.path.join(d, ptype)
        if os.access(p, os.X_OK):
            return p
    sys.exit(f"cni.py: plugin '{ptype}' not found in CNI_PATH")


def run(cmd, conf, plugin, cid, netns, ifname, args, prev):
    net = dict(plugin)
    net["name"] = conf["name"]
    net["cniVersion"] = conf["cniVersion"]
    if prev is not None:
        net["prevResult"] = prev
    env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID=cid,
               CNI_NETNS=netns, CNI_IFNAME=ifname,
               CNI_PATH=os.environ.get("CNI_PATH", "/usr/lib/cni"))
    if args:
        env["CNI_ARGS"] = args
    p = subprocess.run([find_plugin(plugin["type"])], input=json.dumps(net),
                       capture_output=True, text=True, env=env)
    if p.stderr:
        sys.stderr.write(p.stderr)
    if p.returncode:
        sys.stdout.write(p.stdout)
        sys.exit(p.returncode)
    if cmd == "ADD":
        return json.loads(p.stdout)
    return prev


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__ if __doc__ else
                 "usage: cni.py add|del|check CONFLIST CONTAINERID NETNS IFNAME [CNI_ARGS]")
    cmd, conflist, cid, netns, ifname = sys.argv[1:6]
    args = sys.argv[6] if len(sys.argv) == 7 else ""
    with open(conflist) as f:
        conf = json.load(f)
    cache = cache_path(conf["name"], cid, ifname)
    cached = None
    if os.path.exists(cache):
        with open(cache) as f:
            cached = json.load(f)
    if cmd == "add":
        prev = None
        for plugin in conf["plugins"]:
            prev = run("ADD", conf, plugin, cid, netns, ifname, args, prev)
        os.makedirs(CACHE_DIR, exist_ok=True)
        with open(cache, "w") as f:
            json.dump(prev, f)
        print(json.dumps(prev))
    elif cmd == "del":
        for plugin in reversed(conf["plugins"]):
            run("DEL", conf, plugin, cid, netns, ifname, args, cached)
        if os.path.exists(cache):
            os.unlink(cache)
    elif cmd == "check":
        if cached is None:
            sys.exit("cni.py: no cached result to check")
        for plugin in conf["plugins"]:
            run("CHECK", conf, plugin, cid, netns, ifname, args, cached)
    else:
        sys.exit(f"cni.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
