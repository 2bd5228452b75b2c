# SPDX-License-Identifier: GPL-2.0
#
# "make list" of a selftests directory: the programs the VM runner runs,
# one per line, as the kselftest runner would (TEST_PROGS and
# TEST_GEN_PROGS; TEST_GEN_PROGS_EXTENDED are helpers the tests call).
# Their time limit is the directory's kselftest "settings" file
# (timeout=SECONDS; 45 when there is none, kselftest's default).
# TEST_PROGS_FULL are the full versions of tests that make check runs
# bounded (to stay within CI's time): "make list LIST_FULL=1" adds them,
# for make check-full.  TEST_PROGS_DIAG are diagnostics, run only when
# named alone (make check T=dir/test.sh): "make list LIST_DIAG=1" adds them.

list:
	@printf '%s\n' $(TEST_GEN_PROGS) $(TEST_PROGS) $(if $(LIST_FULL),$(TEST_PROGS_FULL)) $(if $(LIST_DIAG),$(TEST_PROGS_DIAG))

.PHONY: list
