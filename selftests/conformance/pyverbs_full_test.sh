#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pyverbs_test.sh over the whole pyverbs suite, on native rxe, a shadow and a
# passthrough device (make check-full; make check runs part of it).
PYVERBS_MODULES=all exec "$(dirname "$0")/pyverbs_test.sh"
