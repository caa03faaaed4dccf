#!/bin/sh
# Install biboumi (Debian package), the comparison of tests/bench, when it is
# missing. Only `make bench` needs it, so scripts/install-deps.sh (and with it
# `make check`) does not install it. No daemon is started by the install: a
# policy-rc.d that refuses (exit 101) is put in place for the duration and
# removed afterwards if this script created it. Uses sudo only when not root.
set -eu

if [ "$(dpkg-query -W -f='${Status}' biboumi 2>/dev/null || true)" = "install ok installed" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [ "$created_policy" = 1 ]; then
        $SUDO rm -f "$POLICY"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary, from causeway tests/bench/ensure-biboumi.sh: start no daemons\nexit 101\n' \
        | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 0755 "$POLICY"
    created_policy=1
fi

echo "bench: installing biboumi (the comparison)"
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        --no-install-recommends -y install biboumi; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        --no-install-recommends -y install biboumi
fi
