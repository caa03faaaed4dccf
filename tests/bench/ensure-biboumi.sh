#!/bin/sh
# Install biboumi (Debian package), the comparison of tests/bench, when it is
# missing. Only `make bench` needs it, so `make check` does not install it.
# The installing (no daemons started, sudo when not root) is install-deps.sh's.
set -eu
exec "$(dirname "$0")/../../scripts/install-deps.sh" biboumi
