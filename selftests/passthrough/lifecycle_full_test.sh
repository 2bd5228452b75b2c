#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lifecycle_test.sh with 50 processes killed mid-transfer (make check-full).
KILLS=50 exec "$(dirname "$0")/lifecycle_test.sh"
