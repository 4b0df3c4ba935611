#!/usr/bin/env bash
# BENCHMARKS.md's network fault figures: one job over fault-link.py under each fault, its time
# against the same job over a clean link, rounds interleaved. Root; release build first.
#   Tests/Tools/fault-figures.sh [ROUNDS] [RANGE]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
range=${2:-1...1_000_000_000}
binary=.build/release/cluster-top
token=fault-figures-0123456789
cases=(${FAULT_CASES_OVERRIDE:+"${FAULT_CASES_OVERRIDE}"} "clean|" "20 ms RTT|--delay-ms 10" "100 ms RTT ±20 ms|--delay-ms 50 --jitter-ms 10"
       "10% loss|--loss 0.1" "5% duplicated, 25% reordered|--duplicate 0.05 --reorder 0.25")

# Seconds of one job: serve on side a, two worker processes of one thread on side b.
run_case() {
    local faults=$1 log
    log=$(mktemp)
    # shellcheck disable=SC2086
    python3 Tests/Tools/fault-link.py --name ctfig $faults > "$log.link" 2>&1 &
    local link=$!
    until grep -q ready "$log.link"; do sleep 0.05; done
    local address
    address=$(awk '/ready/ {print $2}' "$log.link")
    ip netns exec ctfig-a "$binary" serve --listen "$address:7070" --token "$token" --workers 0 --headless \
        --await-workers 2 --range "$range" > "$log" 2>&1 &
    local serve=$!
    until grep -q 'TLS certificate' "$log"; do sleep 0.05; done
    local fingerprint
    fingerprint=$(grep -o 'sha256:[0-9a-f]*' "$log" | head -1)
    local workers=()
    for _ in 1 2; do
        ip netns exec ctfig-b "$binary" worker --connect "$address:7070" --fingerprint "$fingerprint" \
            --token "$token" --threads 1 > /dev/null 2>&1 &
        workers+=($!)
    done
    wait "$serve" "${workers[@]}"
    grep -q '\[verified\]' "$log" || { echo "not verified: $(cat "$log")" >&2; exit 1; }
    # "N elements in S s (...)": the job's own time, from start to the last result.
    grep -o 'elements in [0-9.]* s' "$log" | awk '{print $3}'
    kill "$link" 2>/dev/null || true
    wait "$link" 2>/dev/null || true
    rm -f "$log" "$log.link"
}

declare -A times
for ((round = 0; round < rounds; round++)); do
    for entry in "${cases[@]}"; do
        name=${entry%%|*}
        times[$name]+="$(run_case "${entry#*|}") "
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
clean=$(echo "${times[clean]}" | median)
echo "| link | job time (median of $rounds) | against clean |"
echo "| --- | --- | --- |"
for entry in "${cases[@]}"; do
    name=${entry%%|*}
    seconds=$(echo "${times[$name]}" | median)
    echo "| $name | $seconds s | $(awk -v s="$seconds" -v c="$clean" 'BEGIN {printf "%.2f×", s / c}') |"
done
