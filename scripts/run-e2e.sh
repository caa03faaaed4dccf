#!/bin/sh
# Run the end-to-end tests (real Prosody, real XMPP clients, ./causeway).
#   scripts/run-e2e.sh [PYTEST-ARGS...]     e.g. -k registration -x -v
# CAUSEWAY_BIN selects the binary under test (default: ./causeway of this
# checkout); CAUSEWAY_WRAPPER (e.g. "valgrind -q --error-exitcode=99") runs it
# under a wrapper. Run directories are kept in tests/e2e/.run for inspection
# (emptied at the next run) unless a --basetemp is given.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAUSEWAY_BIN=${CAUSEWAY_BIN:-$ROOT/causeway}
case "$CAUSEWAY_BIN" in
    /*) ;;
    *) CAUSEWAY_BIN=$(pwd)/$CAUSEWAY_BIN ;;   # relative to where we were called
esac
export CAUSEWAY_BIN
cd "$ROOT"
basetemp="--basetemp=$ROOT/tests/e2e/.run"
for a in "$@"; do
    case "$a" in --basetemp*) basetemp="" ;; esac
done
# shellcheck disable=SC2086  # $basetemp is one word or empty
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider $basetemp tests/e2e "$@"
