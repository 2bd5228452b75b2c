#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pingpong_test.sh on the hosts' native soft-RoCE devices: proves that
# test's mechanics (and the programs' options) on plain rxe.
exec env PINGPONG_NATIVE=1 "$(dirname "$0")/pingpong_test.sh"
