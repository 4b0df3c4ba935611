#!/usr/bin/env bash
# Regenerates the screenshots in this folder from the real dashboard: each scenario runs the
# release binary in tmux, shown by a real xterm on a virtual X display (Xvfb), and the xterm
# window is captured as a PNG. Usage: screenshots/capture.sh [NAME...]   (from anywhere; needs
# root for apt). With names, only those screenshots are taken again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

need=()
for tool in Xvfb:xvfb xterm:xterm xdotool:xdotool import:imagemagick tmux:tmux; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

(cd "$root" && swift build -c release >/dev/null)
binary="$root/.build/release/cluster-top"

display=:77
Xvfb "$display" -screen 0 1920x1200x24 >/dev/null 2>&1 &
xvfb=$!
socket="cluster-top-shots-$$"
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true; }
trap cleanup EXIT
# Killing a scenario's session must not stop the tmux server under the next one.
tmux -L "$socket" -f /dev/null new-session -d -s keeper "sleep 3600"
sleep 1

# capture NAME COLS ROWS ENV COMMAND KEYS...
# KEYS are tmux key names, "sleep:SECONDS", or "spawn:ARGS" to start the binary with ARGS in
# the background (a remote worker process); spawned processes are stopped after the capture.
only=("$@")
spawned=()
# The xterm's colours: a dark terminal, unless a scenario sets a light one.
background='#1d1f21' foreground='#d8d8d8'
capture() {
    local name=$1 cols=$2 rows=$3 env=$4 command=$5
    shift 5
    if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then return; fi
    tmux -L "$socket" -f /dev/null new-session -d -s "$name" -x "$cols" -y "$rows" \
        "env $env $binary $command; sleep 600"
    tmux -L "$socket" set-option -t "$name" status off
    DISPLAY=$display xterm -geometry "${cols}x${rows}+0+0" -fa 'DejaVu Sans Mono' -fs 11 \
        -bg "$background" -fg "$foreground" -bc -title "cluster-top" \
        -e tmux -L "$socket" attach -t "$name" &
    local xterm_pid=$!
    sleep 2
    for key in "$@"; do
        case $key in
            sleep:*) sleep "${key#sleep:}" ;;
            # @JOIN@ becomes the join code (HOST:PORT/CODE) serve shows in its caption.
            spawn:*)
                local join
                join=$(tmux -L "$socket" capture-pane -p -t "$name" | grep -o '127\.0\.0\.1:[0-9]*/[0-9a-z-]\{34\}' | head -1)
                local arguments=${key#spawn:}
                $binary ${arguments//@JOIN@/$join} >/dev/null 2>&1 & spawned+=($!) ;;
            *) tmux -L "$socket" send-keys -t "$name" "$key"; sleep 0.3 ;;
        esac
    done
    local window
    window=$(DISPLAY=$display xdotool search --sync --pid "$xterm_pid" | head -1)
    DISPLAY=$display import -window "$window" "$here/$name.png"
    kill "$xterm_pid" 2>/dev/null || true
    tmux -L "$socket" kill-session -t "$name"
    for pid in "${spawned[@]}"; do kill "$pid" 2>/dev/null || true; done
    spawned=()
    echo "wrote screenshots/$name.png"
}

utf8="TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8"

# A busy cluster: 6 workers on 2 cores, one of them a throttled straggler.
capture busy 110 32 "$utf8" "--workers 6 --throttle 3:25%" sleep:4 Down Down sleep:2

# A kill: worker 2 crashes mid-chunk and the log shows where its chunk went.
capture kill 110 32 "$utf8" "--workers 4" sleep:3 Down k sleep:1 Down Down P sleep:0.5 P sleep:1.5

# The help overlay, listing every key.
capture help 110 32 "$utf8" "--workers 4" sleep:2 "?" sleep:1

# A finished job, verified against the closed form.
capture verified 110 28 "$utf8" "--range -4_000_000_000...6_000_000_000 --workers 4" sleep:6

# ASCII and monochrome: LANG=C and --no-color.
capture ascii-mono 100 28 "TERM=xterm LANG=C LC_ALL=C" "--workers 4 --no-color" sleep:3 Down k sleep:2

# The whole job's timeline: work stealing with a straggler (worker 1 at 25%), worker 2 paused
# for a while, worker 3 killed and restarted.
capture timeline 110 24 "$utf8" "--schedule stealing --workers 3 --throttle 1:25% --range 1...300_000_000_000 --chunk-size 2_000_000_000" \
    v v sleep:3 Down p sleep:2 p sleep:1 Down k sleep:1.5 r sleep:4

# Backups at the tail: worker 1 crawls at 2%; once the queue is empty an idle worker copies its
# chunk, finishes first, and worker 1's attempt is fenced off.
capture backup 110 24 "$utf8" "--workers 4 --throttle 1:2% --range 1...96_000_000_000 --chunk-size 8_000_000_000" \
    v v sleep:22

# The jobs compared: the same job under each schedule with a straggler, from a user's script.
jobs_script=$(mktemp --suffix=.script)
cat > "$jobs_script" <<'SCRIPT'
workers 2
throttle 1 25%
chunk-size 500_000_000
schedule static
submit 1...40_000_000_000
wait
schedule dynamic
submit 1...40_000_000_000
wait
schedule stealing
submit 1...40_000_000_000
wait
view jobs
caption The same job three times, worker 1 at 25%: static waited for it.
SCRIPT
capture jobs 110 24 "$utf8" "--script $jobs_script" sleep:25
rm -f "$jobs_script"

# Threads against vectors, as the demo's lesson 5 plays it: one job with the scalar kernel on one
# worker and on both cores, then with each vector kernel (this machine's: SSE2, AVX2, AVX-512,
# and auto, the fastest); the jobs view compares them. kernels-workers is captured during one
# of the vector jobs, with PEAK showing each worker against one core's peak.
kernels_script=$(mktemp --suffix=.script)
cat > "$kernels_script" <<'SCRIPT'
workers 1
kernel scalar
chunk-size 250_000_000
caption Threads and vectors: the scalar kernel on one worker.
submit 1...16_000_000_000
wait
workers cores
caption Threads: the same job on every core.
submit 1...16_000_000_000
wait
kernel sse2
caption Vectors: the same job and workers, each core summing 2 elements a step (SSE2).
submit 1...16_000_000_000
wait
kernel avx2
caption AVX2: 4 elements a step.
submit 1...16_000_000_000
wait
kernel avx512
caption AVX-512: 8 elements a step.
submit 1...16_000_000_000
wait
kernel auto
caption The fastest kernel this CPU runs.
submit 1...16_000_000_000
wait
view jobs
caption Threads multiplied by cores, vectors by lanes: the jobs compared.
SCRIPT
capture kernels-workers 110 24 "$utf8" "--script $kernels_script" sleep:12
capture kernels 110 24 "$utf8" "--script $kernels_script" sleep:24
rm -f "$kernels_script"

# The demo's first lesson on the speedup panel, after one, two and four workers.
capture speedup 110 28 "$utf8" "--demo" sleep:14.5

# The demo's second lesson: static slices wait for the straggler, on the timeline.
capture demo 110 28 "$utf8" "--demo" sleep:35

# The end of the demo at --pace 3: lesson 6's two crashes of the coordinator, without and with a
# journal, in the jobs view beside the other lessons' jobs (the demo stays open when it ends).
capture journal 110 28 "$utf8" "--demo --pace 3" sleep:60

# A coordinator with two local threads and three remote ones from two worker processes; the
# caption says how to join, and remote worker 4 is paused.
capture remote 110 30 "$utf8" "serve --listen 127.0.0.1:7171 --token lecture-hall-42 --workers 2 --range 1...2_000_000_000_000" \
    sleep:1 "spawn:worker --join @JOIN@ --threads 2 --retry-for 1" \
    "spawn:worker --join @JOIN@ --threads 1 --retry-for 1" \
    sleep:3 Down Down Down p sleep:2.5

# The cluster grid: 300 workers on one 80x24 screen, a few paused, one killed, one throttled.
capture grid 80 24 "$utf8" "--workers 300 --range 1...2_000_000_000_000 --throttle 7:10%" \
    sleep:3 v sleep:1 Down Down Down p Down Down Down Down Down Down Down Down Down k \
    Down Down Down Down Down Down Down Down Down Down Down Down Down Down Down Down p sleep:2

# A classroom: twenty laptops of two threads each join a coordinator with none of its own (one
# with a 62-character name), with the join code the caption shows whole; the grid shows every
# thread under its laptop's name, on one 80x24 screen. One thread is paused.
students=(ada alan barbara claude donald edsger frances grace john ken leslie linus margaret niklaus radia robin tim tony vint
          yukihiro-matsumoto-s-laptop-in-the-back-row-of-lecture-hall-42)
keys=()
for student in "${students[@]}"; do
    keys+=("spawn:worker --join @JOIN@ --threads 2 --retry-for 1 --name $student")
done
capture classroom 80 24 "$utf8" "serve --listen 127.0.0.1:7172 --token lecture-hall-42 --workers 0 --range 1...2_000_000_000_000" \
    sleep:1 "${keys[@]}" sleep:4 v sleep:1 Down Down Down Down Down Down Down Down Down Down Down Down p sleep:2

# Hosts as groups in the table: twelve laptops beside this machine's two threads, each laptop one
# folded row (they would not fit unfolded); one laptop paused as a whole from its row, another
# unfolded to its threads, sorted by rate.
keys=()
for student in "${students[@]:0:12}"; do
    keys+=("spawn:worker --join @JOIN@ --threads 2 --retry-for 1 --name $student")
done
capture hosts 110 30 "$utf8" "serve --listen 127.0.0.1:7173 --token lecture-hall-42 --workers 2 --range 1...2_000_000_000_000" \
    sleep:1 "${keys[@]}" sleep:4 Down Down p Down Down Right o o sleep:3

# The light theme on a white terminal, as on a projector: the busy scene of the first shot.
background='#ffffff' foreground='#1d1f21'
capture light 110 32 "$utf8" "--workers 6 --throttle 3:25% --theme light" sleep:4 Down Down p Down k sleep:2
background='#1d1f21' foreground='#d8d8d8'

# A replay paused on a kill: a run with three workers (one throttled) recorded with --record, in
# which worker 2 is killed at 40%; played back, End then [ jumps from the job's end to the kill.
recording=$(mktemp --suffix=.rec)
replay_script=$(mktemp)
cat > "$replay_script" <<'SCRIPT'
workers 3
throttle 3 50%
submit 1...200_000_000_000
wait 40%
kill 2
caption worker 2 crashed mid-chunk: its chunk goes back to the queue
wait 60%
restart 2
wait
SCRIPT
if [ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" replay "* ]]; then
    "$binary" --script "$replay_script" --headless --record "$recording" >/dev/null
fi
capture replay 110 30 "$utf8" "replay $recording --paused" sleep:1 End sleep:0.5 "[" sleep:1
rm -f "$recording" "$replay_script"
