#!/bin/sh
# Build the Debian package from a copy of this tree's files, so the package
# build (debian/rules clean runs make clean) never touches the checkout.
#   scripts/build-deb.sh [OUTDIR]        (default build/deb)
# Leaves OUTDIR/causeway_VERSION_ARCH.deb (+ .buildinfo, .changes; the source
# package causeway_VERSION.dsc + .tar.xz) and prints
# its path last. DEB_BUILD_OPTIONS is passed on (default "nocheck": the unit
# tests run in make unit already; parallel=N from the cores).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/deb}
case "$OUT" in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
VERSION=$(cat "$ROOT/VERSION")
CHANGELOG_VERSION=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
if [ "$CHANGELOG_VERSION" != "$VERSION" ]; then
    echo "build-deb: debian/changelog is at $CHANGELOG_VERSION but VERSION says $VERSION;" \
         "add a debian/changelog entry (dch -v $VERSION)" >&2
    exit 1
fi
SRC=$OUT/causeway-$VERSION
rm -rf "$OUT"
mkdir -p "$SRC"
# The tracked files (and new ones not ignored) of a git checkout, else all but build output.
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z -c -o --exclude-standard | xargs -0 sh -c \
        'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh | tar --null -T - -cf -) | tar -C "$SRC" -xf -
else
    (cd "$ROOT" && tar --exclude=./build --exclude=./build-asan --exclude=./build-fuzz \
        --exclude=./causeway --exclude=./causeway-asan --exclude=./tests/e2e/.run -cf - .) | tar -C "$SRC" -xf -
fi
# The source package too (for lintian's source checks), before the build dirties the copy.
(cd "$OUT" && dpkg-source -b "causeway-$VERSION") > "$OUT/source.log" 2>&1 || {
    cat "$OUT/source.log" >&2; echo "build-deb: dpkg-source -b failed" >&2; exit 1; }
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-nocheck parallel=$(nproc)}"
echo "build-deb: dpkg-buildpackage -us -uc -b in $SRC (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS; log: $OUT/build.log)"
if ! (cd "$SRC" && dpkg-buildpackage -us -uc -b) > "$OUT/build.log" 2>&1; then
    tail -n 30 "$OUT/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed; the whole log: $OUT/build.log" >&2
    exit 1
fi
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB=$OUT/causeway_${VERSION}_$ARCH.deb
[ -f "$DEB" ] || { echo "build-deb: no $DEB after the build" >&2; exit 1; }
echo "$DEB"
