#!/bin/sh
# Install the Debian (bookworm) packages of one profile, only those missing.
#   scripts/install-deps.sh [PROFILE] [PACKAGE...]
# Profiles, each a superset of the one before (the Makefile picks one per goal):
#   build  compiler, pkg-config and the -dev libraries of the Makefile's PKGS  (make)
#   run    + the servers the sandbox starts (Prosody, prosody-modules, ngIRCd;
#          its IRC bot runs on Prosody's Lua; Kannel with fakesmsc) and nc to
#          join from the IRC side  (make run); the purple component's runtime,
#          libpurple0 with prpl-jabber, comes with build's libpurple-dev, and
#          its legacy network is that Prosody (scripts/mod_sandbox_buddy.lua)
#   test   + the test tools: slixmpp, pytest, InspIRCd + atheme, ejabberd (the
#          shipped conf/ejabberd-causeway.yml is tested against it; python3-yaml
#          merges it),
#          openssl, valgrind, clang/libFuzzer, libexpat1-dev  (make check, unit, e2e, fuzz)
#   bench  + biboumi, the comparison of make bench; python3-matplotlib (make bench-e2e plots)
# Without a profile name the arguments are extra packages on top of `test`.
# Idempotent: one line and nothing else when everything is installed.
# Progress is a few lines; apt's full output goes to $CW_DEPS_LOG (default
# build/install-deps.log). Uses sudo when not root; with neither, prints one
# line naming the missing packages and the command to install them, and fails.
# No daemon is started by the install: a policy-rc.d that refuses (exit 101)
# is put in place for the duration, and removed afterwards if this script
# created it (Debian's prosody and ngircd packages would otherwise start
# system instances on 5222/6667, the sandbox's ports).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOG=${CW_DEPS_LOG:-$ROOT/build/install-deps.log}
POLICY=/usr/sbin/policy-rc.d

# libsoup-3.0-dev (the SMS transport's HTTP client and server) is the heaviest:
# through libsysprof-4-dev it pulls in ~240 packages (107 MB download).
BUILD_PKGS="build-essential pkg-config libstrophe-dev libglib2.0-dev libsqlite3-dev libsodium-dev libgnutls28-dev libsoup-3.0-dev libpurple-dev"
RUN_PKGS="$BUILD_PKGS prosody prosody-modules lua5.4 lua-socket ngircd netcat-openbsd kannel kannel-extras"
TEST_PKGS="$RUN_PKGS purple-discord purple-rocketchat python3 python3-slixmpp python3-pytest sqlite3 inspircd atheme-services
openssl valgrind clang libclang-rt-14-dev libexpat1-dev ejabberd python3-yaml"
BENCH_PKGS="$TEST_PKGS biboumi python3-matplotlib"

profile="test"
case "${1:-}" in
    build) PKGS=$BUILD_PKGS; profile=$1; shift ;;
    run)   PKGS=$RUN_PKGS; profile=$1; shift ;;
    test)  PKGS=$TEST_PKGS; profile=$1; shift ;;
    bench) PKGS=$BENCH_PKGS; profile=$1; shift ;;
    *)     PKGS=$TEST_PKGS ;;
esac
PKGS="$PKGS $*"

missing=""
count=0
nmissing=0
for p in $PKGS; do
    count=$((count + 1))
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        "install ok installed") ;;
        *) missing="$missing $p"; nmissing=$((nmissing + 1)) ;;
    esac
done

if [ -z "$missing" ]; then
    echo "install-deps: the $count packages of profile '$profile' are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
    SUDO="sudo"
else
    echo "install-deps: missing $nmissing Debian packages (profile '$profile'):$missing; as root run: apt-get update && apt-get install --no-install-recommends$missing" >&2
    exit 1
fi

created_policy=0
cleanup() {
    if [ "$created_policy" = 1 ]; then
        $SUDO rm -f "$POLICY"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$(dirname "$LOG")"
: > "$LOG"
fail() {
    echo "install-deps: $1 failed; the last lines of $LOG:" >&2
    tail -n 15 "$LOG" >&2
    exit 1
}
apt() {
    # shellcheck disable=SC2086  # $SUDO is one word or empty
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary, from causeway scripts/install-deps.sh: start no daemons\nexit 101\n' \
        | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 0755 "$POLICY"
    created_policy=1
fi

start=$(date +%s)
[ -n "$SUDO" ] && echo "install-deps: using sudo for apt-get"
echo "install-deps: profile '$profile' needs $nmissing more package(s):$missing"
echo "install-deps: updating the package lists (full apt log: $LOG)"
apt update >>"$LOG" 2>&1 || fail "apt-get update"
# The summary apt prints before it asks ("N newly installed", "Need to get")
# tells how much is coming, dependencies included.
# shellcheck disable=SC2086  # word splitting of the package list is intended
summary=$(apt --no-install-recommends --assume-no install $missing 2>&1 || true)
echo "$summary" >>"$LOG"
total=$(echo "$summary" | sed -n 's/.* \([0-9][0-9]*\) newly installed.*/\1/p')
get=$(echo "$summary" | sed -n 's/^Need to get \([^ ]* [kMG]*B\).*/\1/p')
disk=$(echo "$summary" | sed -n 's/^After this operation, \([^ ]* [kMG]*B\).*/\1/p')
echo "install-deps: installing ${total:-?} packages with their dependencies (${get:-?} to download, ${disk:-?} on disk)..."
# shellcheck disable=SC2086
apt --no-install-recommends -y install $missing >>"$LOG" 2>&1 || fail "apt-get install"
echo "install-deps: done in $(( $(date +%s) - start )) s"
