#!/bin/sh
# make check-install: the install and the package, tested (about a minute).
#  1. make install DESTDIR=... PREFIX=/usr: the tree (files and modes), the
#     units' rewritten paths, the man pages without groff warnings; make
#     uninstall leaves only the configuration.
#  2. make install PREFIX=<scratch> (real paths): systemd-analyze verify on the
#     installed units (no output allowed) and systemd-analyze security
#     (exposure at most $CW_MAX_EXPOSURE, default 2.0).
#  3. scripts/build-deb.sh, lintian (no error or warning), dpkg --root into a
#     scratch root (maintainer scripts chrootless, DPKG_ROOT): the files, the
#     causeway user in its /etc/passwd, owners and modes, the conffile, the
#     installed `causeway --check` on the shipped example; then the installed
#     units run against the test Prosody (tests/e2e/test_install.py,
#     CW_INSTALL_ROOT); then dpkg --purge.
# Work directory: build/check-install (kept for inspection, emptied each run).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
T=$ROOT/build/check-install
rm -rf "$T"
mkdir -p "$T"
MAX_EXPOSURE=${CW_MAX_EXPOSURE:-2.0}
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
step() { echo "check-install: $*"; }

# ---- 1. DESTDIR tree ----
D=$T/destdir
make -s install DESTDIR="$D" PREFIX=/usr > "$T/install.log" 2>&1 || { cat "$T/install.log"; fail "make install DESTDIR"; }
(cd "$D" && find . -mindepth 1 \( -type f -printf '%m %p\n' \) -o \( -type d -printf '%m %p/\n' \) | sort -k2) > "$T/tree"
cat > "$T/tree.want" <<'EOF'
755 ./etc/
750 ./etc/causeway/
640 ./etc/causeway/causeway.conf
755 ./lib/
755 ./lib/systemd/
755 ./lib/systemd/system/
644 ./lib/systemd/system/causeway.service
644 ./lib/systemd/system/causeway@.service
755 ./usr/
755 ./usr/bin/
755 ./usr/bin/causeway
755 ./usr/lib/
755 ./usr/lib/sysusers.d/
644 ./usr/lib/sysusers.d/causeway.conf
755 ./usr/share/
755 ./usr/share/doc/
755 ./usr/share/doc/causeway/
755 ./usr/share/doc/causeway/examples/
644 ./usr/share/doc/causeway/examples/causeway.conf
644 ./usr/share/doc/causeway/examples/ejabberd-causeway.yml
644 ./usr/share/doc/causeway/examples/grafana-causeway.json
644 ./usr/share/doc/causeway/examples/kannel.conf
644 ./usr/share/doc/causeway/examples/prosody-causeway.cfg.lua
755 ./usr/share/man/
755 ./usr/share/man/man5/
644 ./usr/share/man/man5/causeway.conf.5
755 ./usr/share/man/man8/
644 ./usr/share/man/man8/causeway.8
EOF
diff -u "$T/tree.want" "$T/tree" || fail "the DESTDIR tree differs from the expected one (- expected, + installed)"
grep -qx 'ExecStart=/usr/bin/causeway -c /etc/causeway/causeway.conf' "$D/lib/systemd/system/causeway.service" ||
    fail "causeway.service: ExecStart= not rewritten to /usr/bin"
grep -qx 'ExecStart=/usr/bin/causeway -c /etc/causeway/causeway.conf --transport %i' "$D/lib/systemd/system/causeway@.service" ||
    fail "causeway@.service: ExecStart= not rewritten to /usr/bin"
cmp -s "$D/etc/causeway/causeway.conf" conf/causeway.conf || fail "installed causeway.conf is not conf/causeway.conf"
for m in "$D/usr/share/man/man8/causeway.8" "$D/usr/share/man/man5/causeway.conf.5"; do
    grep -q '@[A-Z]*@' "$m" && fail "$m: an @VARIABLE@ left unsubstituted"
    w=$(LC_ALL=C.UTF-8 groff -t -man -ww -z -K utf8 "$m" 2>&1) || fail "groff $m: $w"
    [ -z "$w" ] || fail "groff warnings in $m: $w"
done
# A second install keeps the admin's configuration.
echo "# edited" >> "$D/etc/causeway/causeway.conf"
make -s install DESTDIR="$D" PREFIX=/usr > "$T/install2.log" 2>&1 || fail "second make install"
tail -n 1 "$D/etc/causeway/causeway.conf" | grep -qx '# edited' || fail "make install overwrote an existing causeway.conf"
make -s uninstall DESTDIR="$D" PREFIX=/usr > "$T/uninstall.log" 2>&1 || fail "make uninstall"
left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/causeway/causeway.conf " ] || fail "after make uninstall, files left: $left"
step "DESTDIR install: $(wc -l < "$T/tree") paths as expected, man pages clean, uninstall keeps only the config"

# ---- 2. real-path install: systemd-analyze ----
P=$T/prefix
make -s install PREFIX="$P" > "$T/install-prefix.log" 2>&1 || { cat "$T/install-prefix.log"; fail "make install PREFIX=$P"; }
grep -qx "ExecStart=$P/bin/causeway -c $P/etc/causeway/causeway.conf" "$P/lib/systemd/system/causeway.service" ||
    fail "PREFIX install: ExecStart= not $P/bin/causeway -c $P/etc/causeway/causeway.conf"
for u in causeway.service causeway@.service; do
    out=$(cd "$P/lib/systemd/system" && MANPATH=$P/share/man systemd-analyze verify "./$u" 2>&1) ||
        fail "systemd-analyze verify $u: $out"
    [ -z "$out" ] || fail "systemd-analyze verify $u: $out"
    systemd-analyze security --offline=yes "$P/lib/systemd/system/$u" > "$T/security-$u.txt" 2>&1 ||
        { cat "$T/security-$u.txt"; fail "systemd-analyze security $u"; }
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security-$u.txt")
    [ -n "$score" ] || { cat "$T/security-$u.txt"; fail "no exposure level in systemd-analyze security $u"; }
    awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
        fail "systemd-analyze security $u: exposure $score > $MAX_EXPOSURE ($T/security-$u.txt)"
    step "systemd-analyze verify $u: clean; security: exposure $score (at most $MAX_EXPOSURE)"
done

# ---- 3. the .deb ----
DEB=$(scripts/build-deb.sh "$T/deb" | tail -n 1)
lrc=0
lintian --fail-on error,warning "$T"/deb/causeway_*.changes "$T"/deb/causeway_*.dsc > "$T/lintian.log" 2>&1 || lrc=$?
L=$(grep -v '^running with root privileges is not recommended!$' "$T/lintian.log" || true)
[ "$lrc" = 0 ] && [ -z "$L" ] || fail "lintian (exit $lrc): $L"
step "built $(basename "$DEB"); lintian: no finding beyond the commented overrides"

R=$T/root
mkdir -p "$R/etc" "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers"
: > "$R/var/lib/dpkg/status"; : > "$R/var/lib/dpkg/available"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
printf 'root:*:19000:0:99999:7:::\n' > "$R/etc/shadow"
printf 'root:*::\n' > "$R/etc/gshadow"
# --force-depends: the scratch root's dpkg database has no libc & co. (the
# host's are used); --force-script-chrootless: the maintainer scripts run on
# the host with DPKG_ROOT=$R (no shell in the scratch root to chroot into).
DPKG="dpkg --root=$R --force-script-chrootless --force-depends --log=$T/dpkg.log"
$DPKG -i "$DEB" > "$T/dpkg-install.log" 2>&1 || { cat "$T/dpkg-install.log"; fail "dpkg --root -i"; }
dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}\n' causeway | grep -qx 'install ok installed' ||
    fail "causeway not 'install ok installed' in the scratch root"
for f in /usr/bin/causeway /lib/systemd/system/causeway.service /lib/systemd/system/causeway@.service \
         /usr/share/man/man8/causeway.8.gz /usr/share/man/man5/causeway.conf.5.gz \
         /usr/share/doc/causeway/examples/causeway.conf /etc/causeway/causeway.conf; do
    [ -f "$R$f" ] || fail "$f not installed by the package"
done
dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Conffiles}\n' causeway | grep -q '^ /etc/causeway/causeway.conf ' ||
    fail "/etc/causeway/causeway.conf is not a conffile"
pw=$(grep '^causeway:' "$R/etc/passwd") || fail "no causeway user in the scratch root's /etc/passwd"
uid=$(echo "$pw" | cut -d: -f3); gid=$(grep '^causeway:' "$R/etc/group" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "causeway is not a system user: $pw"
case "$pw" in *:/var/lib/causeway:/usr/sbin/nologin) ;; *) fail "causeway user: $pw";; esac
[ "$(stat -c '%u:%g %a' "$R/var/lib/causeway")" = "$uid:$gid 750" ] || fail "/var/lib/causeway: $(stat -c '%u:%g %a' "$R/var/lib/causeway")"
[ "$(stat -c '%u:%g %a' "$R/etc/causeway")" = "0:$gid 750" ] || fail "/etc/causeway: $(stat -c '%u:%g %a' "$R/etc/causeway")"
[ "$(stat -c '%u:%g %a' "$R/etc/causeway/causeway.conf")" = "0:$gid 640" ] ||
    fail "/etc/causeway/causeway.conf: $(stat -c '%u:%g %a' "$R/etc/causeway/causeway.conf")"
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/causeway.service" ] || fail "the package enabled causeway.service"
out=$("$R/usr/bin/causeway" --check -c "$R/etc/causeway/causeway.conf" 2>&1) || fail "installed causeway --check: $out"
[ "$out" = "$R/etc/causeway/causeway.conf: OK, 1 transport(s)" ] || fail "installed causeway --check said: $out"
step "dpkg --root: installed; user $pw; modes and owners; conffile; causeway --check: $out"

CW_INSTALL_ROOT=$R scripts/run-e2e.sh --basetemp="$T/e2e" -k test_installed_unit_runs > "$T/e2e.log" 2>&1 ||
    { tail -n 40 "$T/e2e.log"; fail "tests/e2e/test_install.py on the installed package"; }
step "installed units' ExecStart= against Prosody: $(tail -n 1 "$T/e2e.log")"

$DPKG --purge causeway > "$T/dpkg-purge.log" 2>&1 || { cat "$T/dpkg-purge.log"; fail "dpkg --root --purge"; }
left=$(cd "$R" && find . -path ./var/lib/dpkg -prune -o ! -type d -print | grep -v '^\./etc/\(passwd\|group\|shadow\|gshadow\)-\?$' || true)
[ -z "$left" ] || fail "left after dpkg --purge: $left"
step "dpkg --purge: nothing left but the user"
echo "check-install: OK"
