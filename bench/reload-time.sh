#!/usr/bin/env bash
# Benchmark (issue 18 item 3): SIGHUP -> the new configuration running, on the
# generated 1,000-instance configuration (bench/gen-big-config.sh), keepalived
# 2.2.7 and keepalived-rs one after the other in the same run, each in its own
# network namespace with eth0..eth3 (veths, up, with an IPv4 address so the
# instances come up in BACKUP, not FAULT).
#
# VRRP only (-P): the configuration's 10,000 real servers need IPVS, which
# this host's kernel lacks; the checker's reload is not measured here.
#
# The time of a reload is from `kill -HUP` on the parent to the VRRP child's
# log line saying the reload is done: keepalived 2.2.7 logs "Reload complete"
# (vrrp_daemon.c, after the new configuration is running), keepalived-rs
# "VRRP reload applied". Every log line is time-stamped as it is read from the
# daemon's console output. RUNS reloads each (default 5); median and range.
#
# use_vmac is taken out of the configuration unless VMAC=1: its 400 VMAC
# instances share each VRID on four interfaces, and keepalived-rs still names
# all four VMACs vrrp.<VRID> (2.2.7 makes vrrp1.<VRID>, vrrp2.<VRID>...), so
# each is deleted and re-created and its reload takes minutes, not the parse.
#
# Usage: [RUNS=5] [VMAC=1] [OURS=path] [KEEP=dir] bench/reload-time.sh
# Asserts nothing; prints both implementations' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
. bench/lib.sh
bench_prologue python3
tmp=${KEEP:-$(mktemp -d /tmp/bench-reload-time.XXXXXX)}
mkdir -p "$tmp"
P=rlt$$
cleanup() {
    bench_kill_runs
    bench_del_runs 2
}
trap cleanup EXIT
if [ "${VMAC:-0}" = 1 ]; then
    bash bench/gen-big-config.sh > "$tmp/big.conf"
else
    bash bench/gen-big-config.sh | sed 's/^\tuse_vmac$//' > "$tmp/big.conf"
fi
cat > "$tmp/stamp.py" <<'PY'
import sys, time
for line in sys.stdin:
    sys.stdout.write("%.6f %s" % (time.time(), line))
    sys.stdout.flush()
PY

lines() { wc -l < "$1"; }
quiet() {   # quiet LOG SECS: wait (at most 300 s) until LOG has not grown for SECS seconds
    local n m i
    n=$(lines "$1")
    for i in $(seq 1 600); do
        sleep "$2"; m=$(lines "$1")
        [ "$m" = "$n" ] && return 0
        n=$m
    done
}

run() {   # run TAG LABEL BINARY MARKER
    local tag=$1 label=$2 bin=$3 marker=$4 ns=$P$1 dir=$tmp/$1 i r n t0 t1
    mkdir -p "$dir"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    for i in 0 1 2 3; do
        ip -n "$ns" link add "eth$i" type veth peer name "peth$i"
        ip -n "$ns" addr add "192.0.2.$((i * 16 + 1))/28" dev "eth$i"
        ip -n "$ns" link set "eth$i" up; ip -n "$ns" link set "peth$i" up
    done
    # Line-buffered: 2.2.7's console log is stdio, block-buffered into a pipe.
    ip netns exec "$ns" stdbuf -oL -eL "$bin" -n -l -P -f "$tmp/big.conf" -p "$dir/k.pid" -r "$dir/v.pid" \
        -c "$dir/c.pid" -b "$dir/b.pid" 2>&1 | python3 -u "$tmp/stamp.py" > "$dir/log" &
    sleep 1
    quiet "$dir/log" 3
    for r in $(seq 1 "$RUNS"); do
        n=$(lines "$dir/log")
        t0=$(date +%s.%N)
        kill -HUP "$(cat "$dir/k.pid")"
        t1=
        for i in $(seq 1 1200); do
            t1=$(tail -n +"$((n + 1))" "$dir/log" | grep -m1 -F "$marker" | awk '{print $1}') || true
            [ -n "$t1" ] && break
            sleep 0.1
        done
        [ -n "$t1" ] || { echo "$label: no '$marker' within 120 s" >&2; break; }
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >> "$dir/times"
        quiet "$dir/log" 2
    done
    printf '%-18s %10s %18s %5s\n' "$label" \
        "$(sort -n "$dir/times" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')" \
        "$(sort -n "$dir/times" | awk 'NR==1 {a=$1} {b=$1} END {print a "-" b}')" "$(lines "$dir/times")"
    kill "$(cat "$dir/k.pid")" 2>/dev/null || true
    sleep 3
}

echo "reload time: $(grep -c '^vrrp_instance' "$tmp/big.conf") vrrp_instances, $(grep -c 'use_vmac' "$tmp/big.conf") with use_vmac (VRRP only, -P), $RUNS SIGHUPs each; ours: $OURS"
printf '%-18s %10s %18s %5s\n' implementation "median ms" "range ms" runs
run ka "keepalived 2.2.7" "$KA" "Reload complete"
run rs keepalived-rs "$OURS" "VRRP reload applied"
