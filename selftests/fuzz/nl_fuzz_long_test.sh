#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# security/nl_fuzz_test.sh with 30000 messages (24000 from root, 3000
# unprivileged, 3000 from another namespace) instead of make check's 3000.
# FUZZ_SEED=N replays a run.
export NL_FUZZ_COUNT=${NL_FUZZ_COUNT:-30000} NL_FUZZ_SECONDS=${NL_FUZZ_SECONDS:-900}
exec "$(dirname "$0")/../security/nl_fuzz_test.sh"
