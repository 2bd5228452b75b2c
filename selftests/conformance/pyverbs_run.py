#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Runs rdma-core's pyverbs test suite (what its run_tests.py runs) and writes
# one line per test to RESULTS: "STATUS TEST_ID SECONDS [REASON]", STATUS one
# of pass, fail, error, skip, xfail, xpass; REASON is a skip's.  Used by pyverbs_test.sh, which compares a
# native run with a vrdma run.
#
#   pyverbs_run.py TESTS_DIR RESULTS [run_tests.py arguments...]
#
# TESTS_DIR is an unpacked copy of /usr/share/doc/rdma-core/tests.  Test
# ids given after the arguments (unittest names, "tests.test_mr.MRTest")
# select tests, as with run_tests.py.
import os
import sys
import time
import unittest
from importlib.machinery import SourceFileLoader

tests_dir, results = sys.argv[1], sys.argv[2]
sys.argv = [os.path.join(tests_dir, 'run_tests.py')] + sys.argv[3:]
sys.path.insert(0, tests_dir)

from args_parser import parser  # noqa: E402  (from TESTS_DIR)

out = open(results, 'w', buffering=1)


class Recorder(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def _rec(self, status, test, reason=''):
        secs = time.monotonic() - getattr(self, '_t0', time.monotonic())
        reason = ' '.join(str(reason).split())
        out.write(('%s %s %.1f %s' % (status, test.id(), secs, reason)).rstrip() + '\n')

    def addSuccess(self, test):
        super().addSuccess(test)
        self._rec('pass', test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._rec('fail', test)

    def addError(self, test, err):
        super().addError(test, err)
        # setUpClass failures and the like come as a _ErrorHolder
        self._rec('error', test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._rec('skip', test, reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._rec('xfail', test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._rec('xpass', test)


parser.parse_args()
tests = SourceFileLoader('tests', os.path.join(tests_dir, '__init__.py')).load_module()
runner = unittest.TextTestRunner(resultclass=Recorder, verbosity=2, stream=sys.stdout)
unittest.main(module=tests, testRunner=runner, exit=False)
out.close()
