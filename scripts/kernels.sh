#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Resolve the Debian kernel releases vrdma is built and tested against.
#
#   kernels.sh release SERIES   print the newest release of SERIES (6.12, 6.1)
#                               whose headers are installed, e.g.
#                               6.12.117+deb12-amd64
#   kernels.sh candidate SERIES print the newest release apt offers
#   kernels.sh kdir SERIES      print the headers directory of that release
#
# SERIES "debug" is the debug kernel built from source (debug-kernel.sh):
# its release and build directory follow from its config.
# The release booted by `make check` is always the one whose headers the
# module was built against: deps.sh fetches exactly that image.
set -eu

series_re() {
	case "$1" in
	6.12) echo '6\.12\.[0-9]+\+deb12-amd64' ;;
	6.1) echo '6\.1\.0-[0-9]+-amd64' ;;
	*) echo "kernels.sh: unknown kernel series '$1' (known: 6.12 6.1 debug)" >&2; exit 2 ;;
	esac
}

cmd=${1:-}
series=${2:-}
[ -n "$series" ] || { echo "usage: kernels.sh release|candidate|kdir SERIES" >&2; exit 2; }
if [ "$series" = debug ]; then
	debug=$(dirname "$0")/debug-kernel.sh
	case "$cmd" in
	release|candidate) exec "$debug" release ;;
	kdir) exec "$debug" kdir ;;
	*) echo "kernels.sh: unknown command '$cmd'" >&2; exit 2 ;;
	esac
fi
re=$(series_re "$series")

case "$cmd" in
release)
	ls -d /usr/src/linux-headers-* 2>/dev/null | sed 's|/usr/src/linux-headers-||' |
		grep -E "^${re}\$" | sort -V | tail -n 1
	;;
candidate)
	apt-cache search --names-only "^linux-headers-${re}\$" 2>/dev/null |
		sed 's/^linux-headers-\([^ ]*\) .*/\1/' | sort -V | tail -n 1
	;;
kdir)
	rel=$("$0" release "$series")
	[ -n "$rel" ] && echo "/usr/src/linux-headers-$rel"
	;;
*)
	echo "kernels.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
