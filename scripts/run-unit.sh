#!/bin/bash
# Run GTest unit-test binaries with TAP output and summarise.
#   scripts/run-unit.sh BIN...
# Shows each binary's output, counts "ok" / "not ok" lines, and prints a final
# line "N passed, N failed". Exits non-zero if any test failed, or any binary
# crashed, exited non-zero or printed no TAP plan/results.
set -u

if [ $# -eq 0 ]; then
    echo "usage: $0 TEST-BINARY..." >&2
    exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
broken=()

for bin in "$@"; do
    echo "# ---- $bin"
    if [ ! -x "$bin" ]; then
        echo "# $bin: not an executable file"
        broken+=("$bin (missing)")
        continue
    fi
    case "$bin" in */*) run=$bin ;; *) run=./$bin ;; esac
    # libpurple leaks at init by design (tests/lsan-purple.supp says what);
    # its frames need the slow unwinder. Only for the purple tests.
    env=()
    case "$bin" in
        *test-purple-*) env=(ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
                            LSAN_OPTIONS="suppressions=$ROOT/tests/lsan-purple.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}") ;;
    esac
    out=$(mktemp)
    env "${env[@]+"${env[@]}"}" "$run" --tap 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    # "ok N ..." (including "ok N # SKIP") and "not ok N ..." (including TODO)
    p=$(grep -cE '^ok( |$)' "$out" || true)
    f=$(grep -E '^not ok( |$)' "$out" | grep -vcE '#[[:space:]]*TODO' || true)
    plan=$(grep -cE '^1\.\.[0-9]+' "$out" || true)
    planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$out" | head -n 1)
    ran=$(grep -cE '^(not )?ok( |$)' "$out" || true)
    rm -f "$out"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ]; then
        if [ "$rc" -gt 128 ]; then
            sig=$((rc - 128))
            echo "# $bin: killed by signal $sig ($(kill -l "$sig" 2>/dev/null || echo '?'))"
            broken+=("$bin (signal $sig)")
        elif [ "$f" -eq 0 ]; then
            echo "# $bin: exit status $rc"
            broken+=("$bin (exit $rc)")
        fi
    elif [ "$plan" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "# $bin: no TAP output"
        broken+=("$bin (no TAP output)")
    elif [ -n "$planned" ] && [ "$ran" -lt "$planned" ]; then
        echo "# $bin: planned $planned tests, ran $ran"
        broken+=("$bin (ran $ran of $planned)")
    fi
done

for b in "${broken[@]+"${broken[@]}"}"; do
    echo "# broken: $b"
done
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "${#broken[@]}" -ne 0 ]; then
    exit 1
fi
exit 0
