#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# client_server_test.sh with 200 runs (make check-full; make check runs 20).
RUNS=200 exec "$(dirname "$0")/client_server_test.sh"
