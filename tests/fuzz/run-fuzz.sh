#!/bin/bash
# Run one libFuzzer harness for a fixed time on a copy of its seed corpus.
#   tests/fuzz/run-fuzz.sh AREA SECONDS BUILD_DIR    run build-fuzz/fuzz-AREA
#   tests/fuzz/run-fuzz.sh --summary BUILD_DIR       one line per harness + total;
#                                                    exit 1 if any harness failed
# The committed corpus (tests/fuzz/corpus/AREA) is copied to BUILD_DIR/corpus/AREA
# first; new inputs and crash artifacts (BUILD_DIR/artifacts/AREA/) stay in
# BUILD_DIR. The full libFuzzer output is BUILD_DIR/logs/AREA.log. Each run
# leaves "AREA STATUS EXECS SECONDS" in BUILD_DIR/results/AREA.
set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--summary" ]; then
    build=${2:?build dir}
    total=0
    failed=()
    echo "# ---- fuzz summary"
    for r in "$build"/results/*; do
        [ -e "$r" ] || continue
        read -r area status execs secs <"$r"
        printf '# %-10s %-6s %12s executions in %ss\n' "$area" "$status" "$execs" "$secs"
        total=$((total + ${execs:-0}))
        [ "$status" = ok ] || failed+=("$area")
    done
    if [ "${#failed[@]}" -ne 0 ]; then
        echo "fuzz: FAILED: ${failed[*]} ($total executions in all;" \
            "see $build/logs/ and $build/artifacts/)"
        exit 1
    fi
    echo "fuzz: all harnesses passed, $total executions in all"
    exit 0
fi

area=${1:?area}
seconds=${2:?seconds}
build=${3:?build dir}
bin=$build/fuzz-$area
corpus=$build/corpus/$area
artifacts=$build/artifacts/$area
log=$build/logs/$area.log
mkdir -p "$build/results" "$build/logs" "$artifacts"
rm -rf "$corpus"
mkdir -p "$corpus"
if [ -d "$here/corpus/$area" ]; then
    cp -R "$here/corpus/$area/." "$corpus/"
fi
opts=(-max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=4096
      -artifact_prefix="$artifacts/")
[ -f "$here/$area.dict" ] && opts+=(-dict="$here/$area.dict")
[ -f "$here/$area.options" ] && read -r -a extra <"$here/$area.options" && opts+=("${extra[@]}")

start=$(date +%s)
"$bin" "${opts[@]}" "$corpus" >"$log" 2>&1
rc=$?
secs=$(($(date +%s) - start))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
execs=${execs:-0}
if [ "$rc" -eq 0 ]; then
    status=ok
    files=$(find "$corpus" -type f | wc -l)
    printf 'fuzz-%-10s ok      %12s executions in %ss (corpus %s files)\n' "$area" "$execs" \
        "$secs" "$files"
else
    status=FAILED
    echo "fuzz-$area FAILED (exit $rc) after $execs executions; the end of $log:"
    tail -n 40 "$log" | sed 's/^/    /'
    ls "$artifacts" | sed "s|^|    artifact: $artifacts/|"
fi
echo "$area $status $execs $secs" >"$build/results/$area"
exit 0
