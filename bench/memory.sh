#!/usr/bin/env bash
# Benchmark: memory of each process (parent, VRRP child, BFD child),
# keepalived 2.2.7 and keepalived-rs side by side in one run, medians over
# RUNS runs (default 3) of each scenario:
#   vrrp1000  1,000 VRRPv3 instances, all MASTER (bench/gen-vrrp-scale.sh,
#             4 veths as in bench/vrrp-scale.sh), with -P, once every VIP is
#             installed
#   bfd100    100 BFD sessions at 50 ms x 3 (as bench/bfd-scale.sh; no VRRP
#             or checker configuration, so only the BFD child runs), against
#             a keepalived 2.2.7 peer in a second namespace, once every
#             session is Up
#   idle      keepalived.conf.example with -P
# Each is sampled in its steady state: AT s (default 15) after the daemon
# started, and not before every VIP or session is up. (Our children unmap
# the code of their start-up and first state changes 10 s after start.)
# The checker child is not measured here: this host kernel has no IPVS and
# keepalived 2.2.7's checker exits without it; bench/check-scale.sh measures
# it in the IPVS guest.
#
# Per process: VmRSS, RssAnon, RssFile (/proc/PID/status), Pss
# (/proc/PID/smaps_rollup) and Rss/Pss per kind of mapping (program text,
# program read-only data, program data, libraries, heap, stack; see
# bench/mem_stats.py). Parent and children share pages (the program's and
# libraries' file pages, and pages inherited at fork until written), so the
# VmRSS total counts them once per process; the Pss total is the honest one.
#
# Page cache: Linux 6.18 maps a whole large folio of a file at a fault, so
# the text RSS depends on how the binary got into the page cache (see
# bench/mem_stats.py). keepalived 2.2.7's binary and libraries sit here in
# 4 KiB pages; a freshly built or copied binary may sit in folios of up to
# 128 KiB, which adds megabytes of text RSS. RECACHE=1 (the default) reads
# ours back into the page cache in 4 KiB pages first, as keepalived's are;
# the script prints both binaries' page-cache state either way.
#
# Usage: [RUNS=3] [AT=15] [ONLY="vrrp1000 bfd100 idle"] [OURS=path]
#        [RECACHE=1] [KEEP=dir] bench/memory.sh
# Prints figures; asserts nothing. Removes its namespaces (prefix mem) and
# daemons on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD
. bench/lib.sh
bench_prologue python3
RUNS=${RUNS:-3}
AT=${AT:-15}
ONLY=${ONLY:-vrrp1000 bfd100 idle}
NS_A=memb$$-a NS_B=memb$$-b
tmp=$(mktemp -d /tmp/bench-memory.XXXXXX)
daemons=()

teardown() { bench_netns_del "$NS_A" "$NS_B"; }   # our namespaces only
stop_daemons() {   # the daemons we started, by pid
    bench_stop_pids "${daemons[@]}"
    daemons=()
}
cleanup() {
    stop_daemons
    teardown
    bench_drop_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_pair() {   # NS_A and NS_B joined by veths eth0..eth$1-1, IPv6 off
    teardown
    ip netns add "$NS_A"; ip netns add "$NS_B"
    local ns i
    for ns in "$NS_A" "$NS_B"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    for ((i = 0; i < $1; i++)); do
        ip -n "$NS_A" link add "eth$i" type veth peer name "p$i" netns "$NS_B"
        ip -n "$NS_B" link set "p$i" name "eth$i"
        ip -n "$NS_A" link set "eth$i" up
        ip -n "$NS_B" link set "eth$i" up
    done
}

start() {   # start NS BIN DIR CONF [OPTION...]: a daemon; its pid files in DIR
    local ns=$1 bin=$2 d=$3 conf=$4; shift 4
    mkdir -p "$d"
    ip netns exec "$ns" "$bin" -n -l -G "$@" -f "$conf" -p "$d/k.pid" -r "$d/v.pid" \
        -c "$d/c.pid" -b "$d/b.pid" >"$d/log" 2>&1 </dev/null &
    daemons+=($!)
    started=$(date +%s%N)
}
settle() {   # wait until AT s after the last start
    local left=$(( started / 1000000 + AT * 1000 - $(date +%s%N) / 1000000 ))
    [ "$left" -le 0 ] || sleep "$(awk -v ms="$left" 'BEGIN {print ms / 1000}')"
}

wait_for() {   # wait_for SECONDS COMMAND...: until COMMAND succeeds
    local end=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || { echo "  timed out waiting for: $*" >&2; return 1; }
        sleep 0.2
    done
}

sample() {   # sample IMPL SCENARIO DIR: parent and children of the daemon in DIR
    local proc f pid
    for proc in parent:k vrrp:v bfd:b; do
        f=$3/${proc#*:}.pid
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        [ -d "/proc/$pid" ] || continue
        python3 "$HERE/bench/mem_stats.py" sample "$1/$2/${proc%:*}" "$pid" >>"$tmp/samples"
    done
}

binary() { if [ "$1" = ours ]; then echo "$OURS"; else echo "$KA"; fi; }

all_vips() { [ "$(ip -n "$NS_A" -o -4 addr show | grep -c ' inet 10\.[0-9]*\.[0-9]*\.1/')" -ge 1000 ]; }
run_vrrp1000() {   # run_vrrp1000 IMPL RUN
    local d=$tmp/vrrp-$1-$2 i
    [ -f "$tmp/scale.conf" ] || VRIDS=250 IFACES=4 ADVERT=1 bash bench/gen-vrrp-scale.sh >"$tmp/scale.conf"
    netns_pair 4
    for i in 0 1 2 3; do ip -n "$NS_A" addr add "10.$i.255.254/16" dev "eth$i"; done
    start "$NS_A" "$(binary "$1")" "$d" "$tmp/scale.conf" -P
    wait_for 120 all_vips || true
    settle
    sample "$1" vrrp1000 "$d"
    stop_daemons
}

bfd_conf() {   # bfd_conf LOCAL-SIDE REMOTE-SIDE: 100 sessions at 50 ms x 3
    echo "global_defs { router_id mem }"
    for i in $(seq 1 100); do
        printf 'bfd_instance S%d {\n  neighbor_ip 10.201.%s.%d\n  source_ip 10.201.%s.%d\n  min_rx 50\n  min_tx 50\n  multiplier 3\n}\n' \
            "$i" "$2" "$i" "$1" "$i"
    done
}
all_up() { [ "$(grep -c 'Entering Up state' "$1")" -ge 100 ]; }
run_bfd100() {   # run_bfd100 IMPL RUN: the measured daemon in NS_A, keepalived 2.2.7 peer in NS_B
    local d=$tmp/bfd-$1-$2 i
    [ -f "$tmp/bfd-a.conf" ] || { bfd_conf 1 0 >"$tmp/bfd-a.conf"; bfd_conf 0 1 >"$tmp/bfd-b.conf"; }
    netns_pair 1
    for i in $(seq 1 100); do echo "addr add 10.201.1.$i/16 dev eth0"; done | ip -n "$NS_A" -batch -
    for i in $(seq 1 100); do echo "addr add 10.201.0.$i/16 dev eth0"; done | ip -n "$NS_B" -batch -
    start "$NS_B" "$KA" "$d/peer" "$tmp/bfd-b.conf"
    start "$NS_A" "$(binary "$1")" "$d" "$tmp/bfd-a.conf"
    wait_for 60 all_up "$d/log" || true
    settle
    sample "$1" bfd100 "$d"
    stop_daemons
}

run_idle() {   # run_idle IMPL RUN: keepalived.conf.example, eth0 192.168.100.1/24
    local d=$tmp/idle-$1-$2
    netns_pair 1
    ip -n "$NS_A" addr add 192.168.100.1/24 dev eth0
    start "$NS_A" "$(binary "$1")" "$d" "$HERE/keepalived.conf.example" -P
    wait_for 30 test -s "$d/v.pid" || true
    settle
    sample "$1" idle "$d"
    stop_daemons
}

: >"$tmp/samples"
[ "${RECACHE:-1}" = 1 ] && python3 bench/mem_stats.py recache "$OURS"
python3 bench/mem_stats.py folios "$KA" "$OURS" >"$tmp/folios"
for scenario in $ONLY; do
    for run in $(seq 1 "$RUNS"); do
        for impl in theirs ours; do
            echo "$scenario run $run: $impl" >&2
            "run_$scenario" "$impl" "$run"
        done
    done
done
teardown
echo "Memory per process, keepalived 2.2.7 ($KA) and keepalived-rs ($OURS), medians of $RUNS runs, $AT s after start"
echo "(VmRSS/RssAnon/RssFile: /proc/PID/status; Pss: smaps_rollup; the rest: Rss per kind of mapping from smaps)"
cat "$tmp/folios"
python3 bench/mem_stats.py table "$tmp/samples"
