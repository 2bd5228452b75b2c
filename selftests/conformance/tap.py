# SPDX-License-Identifier: GPL-2.0
#
# TAP output of the conformance selftests' Python programs.
import sys


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, desc, ok, diag=''):
        self.n += 1
        if not ok:
            self.failed += 1
            for line in str(diag).splitlines():
                print('# ' + line)
        print('%s %d %s' % ('ok' if ok else 'not ok', self.n, desc), flush=True)

    def finish(self):
        print('1..%d' % self.n)
        sys.exit(1 if self.failed else 0)
