#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pingpong_test.sh with every program, across hosts and on one host
# (make check-full).
PT_FULL=1 exec "$(dirname "$0")/pingpong_test.sh"
