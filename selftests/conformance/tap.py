# SPDX-License-Identifier: GPL-2.0
#
# TAP output of the conformance selftests' Python programs.
import faulthandler
import sys

# A program stuck for 240 s prints where (every thread's Python stack) and
# exits, before the caller's time limit kills it without a word.
faulthandler.dump_traceback_later(240, exit=True)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, desc, ok, diag=''):
        self.n += 1
        if not ok:
            self.failed += 1
            for line in str(diag).splitlines():
                print('# ' + line, flush=True)
        print('%s %d %s' % ('ok' if ok else 'not ok', self.n, desc), flush=True)

    def finish(self):
        print('1..%d' % self.n)
        sys.exit(1 if self.failed else 0)
