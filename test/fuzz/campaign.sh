#!/bin/bash
# Long fuzz campaign: every fuzz_* target of a fuzz build for N seconds each
# (or until it has run R inputs), J at a time (default 1); prints
# executions, corpus size and crashes per target.
#
#   test/fuzz/campaign.sh [-b BUILD] [-t SECONDS] [-n RUNS] [-j J] [-o OUTDIR] [TARGET...]
#
# A 30-minute campaign on 2 cores, equal time: -j 2 -t 300. Every target to
# 10 M executions, the fast ones handing their time to the slow ones:
# -j 2 -n 10000000 -t 1800 (a new target starts whenever one finishes).
# BUILD is a tree configured with -DDUNDID_FUZZ=ON -DCMAKE_C_COMPILER=clang
# (default build-fuzz). New inputs go to BUILD/test/fuzz/corpus-NAME (the
# checked-in seeds under test/fuzz/corpus/NAME are only read); crash, leak,
# timeout and OOM inputs go to OUTDIR/NAME-TIME/ (default BUILD/fuzz-campaign).
# libFuzzer stops a target at its first finding, so "crashes" is 0 or 1 per
# target. Exit status 1 if any target found something, 2 on usage errors.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=build-fuzz
secs=60
runs=
jobs=1
out=
while getopts b:t:n:j:o:h opt; do
    case $opt in
    b) build=$OPTARG ;;
    t) secs=$OPTARG ;;
    n) runs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,18p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
case $secs in '' | *[!0-9]*) echo "campaign.sh: -t needs whole seconds" >&2; exit 2 ;; esac
case $jobs in '' | 0 | *[!0-9]*) echo "campaign.sh: -j needs a whole number > 0" >&2; exit 2 ;; esac
case $runs in *[!0-9]*) echo "campaign.sh: -n needs a whole number" >&2; exit 2 ;; esac
bin=$build/test/fuzz
[ -d "$bin" ] || { echo "campaign.sh: no $bin (configure with -DDUNDID_FUZZ=ON)" >&2; exit 2; }
out=${out:-$build/fuzz-campaign}
mkdir -p "$out"

targets=$*
if [ -z "$targets" ]; then
    for f in "$bin"/fuzz_*; do
        [ -x "$f" ] && targets="$targets $(basename "$f")"
    done
fi
[ -n "$targets" ] || { echo "campaign.sh: no fuzz_* targets in $bin" >&2; exit 2; }

# One target; its summary row goes to $out/NAME.row.
run_one() {
    t=$1
    name=${t#fuzz_}
    work=$bin/corpus-$name
    seeds=$here/corpus/$name
    arts=$out/$name-$(date +%Y%m%d-%H%M%S)
    mkdir -p "$work" "$arts"
    log=$out/$name.log
    start=$(date +%s)
    # -timeout: one input may take at most 10 s; -rss_limit_mb: a 2 GB input is a finding.
    set +e
    "$bin/$t" -max_total_time="$secs" ${runs:+-runs=$runs} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$arts/" "$work" $( [ -d "$seeds" ] && echo "$seeds" ) >"$log" 2>&1
    rc=$?
    set -e
    took=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    corpus=$(find "$work" -type f | wc -l)
    crashes=$(find "$arts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes="rc=$rc"
    printf '%-18s %8s %12s %10s %8s %8s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" "$corpus" "$crashes" >"$out/$name.row"
}

# J targets at a time: the next starts as soon as one finishes.
running=0
for t in $targets; do
    rm -f "$out/${t#fuzz_}.row"
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

found=0
table=$out/summary.txt
printf '%-18s %8s %12s %10s %8s %8s\n' target seconds execs execs/s corpus crashes >"$table"
for t in $targets; do
    row=$out/${t#fuzz_}.row
    if [ -f "$row" ]; then
        cat "$row" >>"$table"
        [ "$(awk '{print $6}' "$row")" != 0 ] && found=1
    else
        printf '%-18s %8s\n' "$t" "no result" >>"$table"
        found=1
    fi
done
cat "$table"
[ "$found" -eq 0 ] || { echo "findings: see $out/*/ and $out/*.log" >&2; exit 1; }
