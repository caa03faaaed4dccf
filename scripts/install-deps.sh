#!/bin/sh
# Install the Debian packages Causeway needs to build and test, only those
# missing. Idempotent: prints one line and does nothing when all are present.
# Uses sudo only when not root. No daemon is started by the install: a
# policy-rc.d that refuses (exit 101) is put in place for the duration, and
# removed afterwards if this script created it.
#   scripts/install-deps.sh [PACKAGE...]   extra packages (e.g. biboumi for make bench)
set -eu

PKGS="build-essential pkg-config libstrophe-dev libglib2.0-dev libsqlite3-dev sqlite3
libsodium-dev libgnutls28-dev libsoup-3.0-dev prosody prosody-modules python3-slixmpp python3-pytest
ngircd inspircd atheme-services kannel kannel-extras openssl valgrind clang libclang-rt-14-dev libexpat1-dev $*"

POLICY=/usr/sbin/policy-rc.d

missing=""
count=0
for p in $PKGS; do
    count=$((count + 1))
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        "install ok installed") ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "install-deps: all $count packages are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

created_policy=0
cleanup() {
    if [ "$created_policy" = 1 ]; then
        $SUDO rm -f "$POLICY"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary, from causeway scripts/install-deps.sh: start no daemons\nexit 101\n' \
        | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 0755 "$POLICY"
    created_policy=1
fi

echo "install-deps: installing:$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update
# shellcheck disable=SC2086  # word splitting of the package list is intended
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    --no-install-recommends -y install $missing
