#!/bin/sh
# make check's only test program in a tree configured without criterion
# (configure's summary said so): the unit and integration tests need it,
# so they were neither built nor run.  This says what is missing and
# fails the run (99, a hard error), so that a make check which tested
# nothing of the daemon never reads as a pass; the tests that need no
# criterion (the man pages, the units, make install, the fuzz replays)
# still run beside it.
cat >&2 <<'MSG'
criterion-missing.sh: ERROR: criterion >= 2.4 was not found when configure
ran, so make check built and ran none of the unit tests (tests/unit) and
none of the integration tests (tests/integration).  Install it
(apt-get install libcriterion-dev), run configure again, then make check.
MSG
exit 99
