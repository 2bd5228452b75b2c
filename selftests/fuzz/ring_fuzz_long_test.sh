#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# security/ring_fuzz_test.sh with two runs of 120 s (the physical device
# removed after 60 s in the second), each of at least 10000 corrupted
# WQEs, instead of make check's 20 s and 1000.  FUZZ_SEED=N replays a run.
export RING_FUZZ_SECONDS=${RING_FUZZ_SECONDS:-120} RING_FUZZ_WQES=${RING_FUZZ_WQES:-10000}
exec "$(dirname "$0")/../security/ring_fuzz_test.sh"
