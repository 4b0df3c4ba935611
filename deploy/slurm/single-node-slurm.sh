#!/usr/bin/env bash
# A throwaway single-node Slurm on this machine, to try cluster-top-workers.sbatch without a
# real cluster (and for the test suite, which runs it in CI). Needs root and Debian's slurm-wlm
# and munge packages. Everything lives in DIR: its own munge key and socket, its own slurm.conf
# and ports, so it neither needs nor disturbs a Slurm or munged already on the machine.
#
#   deploy/slurm/single-node-slurm.sh start DIR   # prints: export SLURM_CONF=DIR/slurm.conf
#   SLURM_CONF=DIR/slurm.conf sbatch ...          # use it
#   deploy/slurm/single-node-slurm.sh stop DIR
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 64; }
[ $# -eq 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

# True while any of these processes runs (a zombie no longer does).
any_alive() {
    for pid in "$@"; do
        grep -qs '^State:[[:space:]]*[^Z]' "/proc/$pid/status" && return 0
    done
    return 1
}

stop() {
    # Jobs first, while slurmctld can still cancel them: their tasks must not outlive it.
    if [ -s "$dir/slurmctld.pid" ] && any_alive "$(cat "$dir/slurmctld.pid")"; then
        SLURM_CONF=$dir/slurm.conf scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 1 100); do
            [ -z "$(SLURM_CONF=$dir/slurm.conf squeue -h 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    local pids=()
    for pidfile in slurmd.pid slurmctld.pid munged.pid; do
        [ -s "$dir/$pidfile" ] && pids+=("$(cat "$dir/$pidfile")")
    done
    # slurmd leaves its job steps' stepd processes to finish; end them too.
    pids+=($(pgrep -f "slurmstepd.*$dir" || true))
    [ ${#pids[@]} -gt 0 ] || return 0
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
        any_alive "${pids[@]}" || break
        sleep 0.1
    done
    kill -9 "${pids[@]}" 2>/dev/null || true
    rm -f "$dir"/*.pid
}

# A free TCP port on this machine, from the kernel.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }

case $action in
stop) stop; exit 0 ;;
start) ;;
*) usage ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "$0: the daemons must start as root" >&2; exit 77; }
for tool in munged mungekey slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found: apt-get install slurm-wlm munge" >&2; exit 69; }
done
stop

node=$(hostname -s)
cpus=$(nproc)
mkdir -p "$dir/state" "$dir/spool"
chmod 700 "$dir"

# A munge key of its own: slurmctld and slurmd trust each other through it.
[ -s "$dir/munge.key" ] || mungekey --create --keyfile="$dir/munge.key" --bits=1024
chmod 600 "$dir/munge.key"
# The daemons must not inherit what whoever started this script holds open: a pipe it reads to
# the end, or the descriptor by which it learns that this script exited, would never close.
for descriptor in /proc/$$/fd/*; do
    number=${descriptor##*/}
    [ "$number" -gt 2 ] && eval "exec $number>&-" 2>/dev/null || true
done
daemon_output="$dir/daemons.out"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
    </dev/null >>"$daemon_output" 2>&1

cat > "$dir/slurm.conf" <<CONF
ClusterName=cluster-top-test
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
# No cgroups: these plugins work in any container or VM.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
# scancel's SIGTERM, then SIGKILL after this many seconds.
KillWait=30
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF" </dev/null >>"$daemon_output" 2>&1
slurmd -f "$SLURM_CONF" </dev/null >>"$daemon_output" 2>&1

# Ready when the node is idle.
for _ in $(seq 1 120); do
    if [ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = "idle" ]; then
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 0.5
done
echo "$0: the node never became idle; see $dir/slurmctld.log and $dir/slurmd.log" >&2
sinfo >&2 || true
exit 69
