#!/bin/bash
# fresh-machine.sh — try make targets as a newcomer would, on a brand-new
# Debian bookworm (minbase + make + git) in a throwaway chroot.
#   sudo scripts/fresh-machine.sh [TARGET...]        default: run
# Each run starts from the same pristine minbase (debootstrap'd once and kept
# as a tarball in $FRESH_DIR, default /var/tmp/causeway-fresh), clones this
# checkout's HEAD (commits only) into /src there and runs `make TARGET...` in
# it, one after the other in the same chroot, printing the time each took.
# `run` is driven on a pseudo-terminal like a person at a terminal: it waits
# for the banner, types Ctrl-C and checks that nothing is left running; then
# it runs again to show the state is reused.
# The chroot shares the host's network: the sandbox uses SANDBOX_C2S,
# SANDBOX_COMPONENT and SANDBOX_IRC (default 45222, 45347, 46667 here).
# Needs root, debootstrap and /usr/bin/python3 on the host. Everything it
# mounts or creates is removed at the end (the tarball is kept).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
FRESH_DIR=${FRESH_DIR:-/var/tmp/causeway-fresh}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
export SANDBOX_C2S=${SANDBOX_C2S:-45222} SANDBOX_COMPONENT=${SANDBOX_COMPONENT:-45347}
export SANDBOX_IRC=${SANDBOX_IRC:-46667}
[ $# -gt 0 ] || set -- run

[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: run as root (it uses chroot and mount)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "fresh-machine: needs debootstrap: apt-get install debootstrap" >&2; exit 1; }

mkdir -p "$FRESH_DIR"
if [ ! -s "$FRESH_DIR/minbase.tar" ]; then
    echo "fresh-machine: debootstrap bookworm minbase + make + git (once; log in $FRESH_DIR/debootstrap.log)"
    rm -rf "$FRESH_DIR/base"
    debootstrap --variant=minbase --include=make,git bookworm "$FRESH_DIR/base" "$MIRROR" \
        > "$FRESH_DIR/debootstrap.log" 2>&1 || { tail "$FRESH_DIR/debootstrap.log"; exit 1; }
    tar -C "$FRESH_DIR/base" -cf "$FRESH_DIR/minbase.tar" .
    rm -rf "$FRESH_DIR/base"
fi

ROOT="$FRESH_DIR/root.$$"
cleanup() {
    umount -R "$ROOT/dev" 2>/dev/null || true
    umount "$ROOT/proc" 2>/dev/null || true
    if mountpoint -q "$ROOT/proc" || mountpoint -q "$ROOT/dev"; then
        echo "fresh-machine: $ROOT is still mounted; not removed" >&2
    else
        rm -rf "$ROOT"
    fi
}
trap cleanup EXIT
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$FRESH_DIR/minbase.tar"
mount --bind /proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
git clone -q "$HERE" "$ROOT/src"
echo "fresh-machine: $(git -C "$ROOT/src" log --oneline -1) in a fresh bookworm minbase at $ROOT"

# A terminal for `make run`: wait for the banner, Ctrl-C, report.
drive_run() {
    /usr/bin/python3 - "$ROOT" <<'PY'
import os, pty, select, signal, sys, time
root = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)   # whoever started us may ignore it
    os.execvp("chroot", ["chroot", root, "sh", "-c", "cd /src && make run"])
buf, t0 = b"", time.monotonic()
def pump(until, secs):
    global buf
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                d = os.read(fd, 65536)
            except OSError:
                return False
            if not d:
                return False
            buf += d
            sys.stdout.write(d.decode("utf-8", "replace")); sys.stdout.flush()
            if until and until in buf:
                return True
    return False
def tree(top):
    out, todo = set(), [top]
    while todo:
        p = todo.pop()
        for d in filter(str.isdigit, os.listdir("/proc")):
            try:
                st = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(st[1]) == p and st[0] != "Z" and int(d) not in out:
                out.add(int(d)); todo.append(int(d))
    return out
ok = pump(b"Ctrl-C stops everything.", 1800)
print("\nfresh-machine: %s after %.0f s" % ("banner" if ok else "NO banner", time.monotonic() - t0))
procs = tree(pid)
os.write(fd, b"\x03")
t1 = time.monotonic()
pump(None, 20)
_, st = os.waitpid(pid, 0)
left = [p for p in procs if os.path.exists("/proc/%d" % p)]
print("fresh-machine: Ctrl-C: make exited (%s) after %.1f s; of its %d processes %d left%s"
      % (os.waitstatus_to_exitcode(st), time.monotonic() - t1, len(procs), len(left),
         ": %s" % left if left else ""))
sys.exit(0 if ok and not left else 1)
PY
}

status=0
for target in "$@"; do
    start=$(date +%s)
    echo "fresh-machine: ---- make $target"
    if [ "$target" = run ]; then
        drive_run || status=1
        echo "fresh-machine: ---- make run again (reuses the state)"
        drive_run || status=1
    else
        chroot "$ROOT" sh -c "cd /src && make $target" || status=1
    fi
    echo "fresh-machine: make $target: $(( $(date +%s) - start )) s"
done
exit $status
