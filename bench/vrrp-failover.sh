#!/usr/bin/env bash
# Benchmark: VRRP failover time and no-false-failover soak, keepalived 2.2.7
# and keepalived-rs side by side, in one run, same lab, same configs.
#
# Usage: [RUNS=20] [VARIANTS="v3"] [FAST_RUNS=$RUNS] [SOAK=600] [OURS=path]
#        [LAB=DIR] [LAB_PREFIX=bvf-] bench/vrrp-failover.sh
#
# LAB defaults to the first shared/lab found beside the repository root or
# beside one of its parent directories (../shared/lab from a checkout).
#
# 1. For each variant (lab configs/ka-VARIANT.conf, default v3): a cluster of
#    three keepalived 2.2.7 and a cluster of three keepalived-rs (h1 150, h2
#    100, h3 50). Each run starts the cluster, waits for the VIP on h1, kills
#    h1 at a random phase of the advert cycle (SIGTERM -> priority-0 advert;
#    SIGKILL -> master-down timer) and times kill -> VIP present on h2 (the
#    lab's ka-failover.sh does one run; runs alternate between the two
#    implementations so machine noise hits both alike). RUNS runs per signal;
#    prints n, median, min, p25, p75, max next to the protocol figures.
# 2. The fast variant v3-fast (VRID 57, advert_int 0.05): failover time
#    (FAST_RUNS runs), then a soak: cluster up, both cores loaded
#    (stress-ng --cpu N, else N x `yes`), SOAK seconds; counts the backups'
#    transitions ("Entering MASTER STATE" on h2/h3, the VIP appearing there,
#    adverts sent by h2/h3) and h1 leaving MASTER, plus the master's advert
#    interval (p50/p99/max) seen on the bridge. keepalived 2.2.7 first, then
#    keepalived-rs.
# Prints figures; asserts nothing. Uses its own lab (LAB_PREFIX, default
# bvf-) and removes it, its daemons, captures and loaders on exit.
# Skip parts with FAILOVER=0 / FAST=0 / SOAK=0.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD
. bench/lib.sh
if [ -z "${LAB:-}" ]; then
    LAB=$(bench_find_up shared/lab/ka-failover.sh)
    LAB=${LAB%/ka-failover.sh}
fi
RUNS=${RUNS:-20}
FAST_RUNS=${FAST_RUNS:-$RUNS}
VARIANTS=${VARIANTS:-v3}
SOAK=${SOAK:-600}
FAILOVER=${FAILOVER:-1}
FAST=${FAST:-1}
export LAB_PREFIX=${LAB_PREFIX:-bvf-}
bench_root
[ -x "${LAB:-}/ka-failover.sh" ] || { echo "no lab at ${LAB:-../shared/lab} (set LAB)" >&2; exit 1; }

bench_ours
theirs=$(command -v keepalived 2>/dev/null || echo /usr/sbin/keepalived)
[ -x "$OURS" ] || { echo "no keepalived-rs binary at $OURS" >&2; exit 1; }
[ -x "$theirs" ] || { echo "no keepalived 2.2.7 at $theirs" >&2; exit 1; }
stats="python3 $HERE/bench/vrrp_stats.py"

# shellcheck source=/dev/null
source "$LAB/lab.sh"
tmp=$(mktemp -d /tmp/bench-vrrp-failover.XXXXXX)
bgpids=()   # loaders, captures, monitors we started

stop_all_ka() {   # stop every daemon started under $tmp (by recorded pid only)
    local d n
    for d in "$tmp"/run-*; do
        [ -d "$d" ] || continue
        for n in 1 2 3; do KA_RUN=$d "$LAB/ka.sh" stop "$n" >/dev/null 2>&1 || true; done
    done
}
lab_teardown() {  # our own prefix only: leftovers of an aborted run of this script
    local ns p
    for ns in $(ip netns list | awk '{print $1}' | grep "^${LAB_PREFIX}" || true); do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    done
    lab_down 2>/dev/null || true
}
cleanup() {
    local p
    for p in "${bgpids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${bgpids[@]}"; do wait "$p" 2>/dev/null || true; done
    stop_all_ka
    lab_teardown
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nap() { sleep "$1" & wait $!; }   # a long sleep that a signal interrupts at once

lab_teardown
lab_up 3

name_of() { case $1 in ours) echo keepalived-rs ;; theirs) echo "keepalived $("$theirs" -v 2>&1 | awk 'NR==1 {print $2}')" ;; esac; }
bin_of() { case $1 in ours) echo "$OURS" ;; theirs) echo "$theirs" ;; esac; }

# protocol figures for backup priority 100 (h2), in ms
advert_ms() { awk '$1 == "advert_int" {print $2 * 1000; exit}' "$LAB/configs/ka-$1.conf"; }
skew_ms() {   # VRRPv2: (256-prio)/256 s; VRRPv3: (256-prio)*advert/256
    local adv; adv=$(advert_ms "$1")
    if grep -Eq '^\s*version 3' "$LAB/configs/ka-$1.conf"; then
        awk -v a="$adv" 'BEGIN {printf "%.1f", (256 - 100) * a / 256}'
    else
        awk 'BEGIN {printf "%.1f", (256 - 100) * 1000 / 256}'
    fi
}
protocol() {  # variant signal -> text
    local adv skew; adv=$(advert_ms "$1"); skew=$(skew_ms "$1")
    if [ "$2" = TERM ]; then echo "skew = $skew"
    else awk -v a="$adv" -v s="$skew" 'BEGIN {printf "U(%g, %g]", 2 * a + s, 3 * a + s}'; fi
}

# one_failover IMPL VARIANT RUN: one SIGTERM + one SIGKILL run; appends CSV
one_failover() {
    local impl=$1 v=$2 r=$3 out
    out=$(KA_BIN=$(bin_of "$impl") KA_RUN=$tmp/run-$impl "$LAB/ka-failover.sh" "$v" 1 2>"$tmp/err") || {
        echo "  $(name_of "$impl") $v run $r failed: $(tr '\n' ' ' <"$tmp/err")" >&2
    }
    [ -s "$tmp/err" ] && sed "s/^/  $(name_of "$impl") run $r: /" "$tmp/err" >&2
    echo "$out" | awk -F, -v i="$impl" -v r="$r" 'NF == 4 {print i "," $1 "," $2 "," r "," $4}' >>"$tmp/failover.csv"
}

failover_table() {  # variant runs
    local v=$1 n=$2 sig impl
    echo
    echo "Failover $v (advert $(advert_ms "$v") ms, backup prio 100): kill h1 -> VIP on h2, ms, $n runs per signal"
    printf '%-6s %-20s %-18s %4s %8s %8s %8s %8s %8s\n' signal protocol implementation n median min p25 p75 max
    for sig in TERM KILL; do
        for impl in theirs ours; do
            read -r cnt med mn p25 p75 mx <<<"$(awk -F, -v i="$impl" -v v="$v" -v s="$sig" '$1 == i && $2 == v && $3 == s {print $5}' "$tmp/failover.csv" | $stats summary)"
            printf '%-6s %-20s %-18s %4s %8s %8s %8s %8s %8s\n' "SIG$sig" "$(protocol "$v" "$sig")" "$(name_of "$impl")" "$cnt" "$med" "$mn" "$p25" "$p75" "$mx"
        done
    done
}

run_failover() {  # variant runs
    local v=$1 n=$2 r impl
    echo "failover $v: $n runs x (SIGTERM, SIGKILL) x 2 implementations..." >&2
    for ((r = 1; r <= n; r++)); do
        for impl in theirs ours; do one_failover "$impl" "$v" "$r"; done
    done
    failover_table "$v" "$n"
}

touch "$tmp/failover.csv"
if [ "$FAILOVER" != 0 ]; then
    for v in $VARIANTS; do run_failover "$v" "$RUNS"; done
fi
if [ "$FAST" != 0 ]; then run_failover v3-fast "$FAST_RUNS"; fi

# ---------------------------------------------------------------- soak
has_vip() { [[ "$(ip -n "$(lab_ns "$1")" -o addr show dev eth0)" == *" $2/"* ]]; }
ncpu=$(nproc)
start_load() {  # echoes what it started
    if command -v stress-ng >/dev/null; then
        stress-ng --cpu "$ncpu" --timeout "$((SOAK + 5))s" --quiet >/dev/null 2>&1 &
        bgpids+=($!); loadpids=($!); loader="stress-ng --cpu $ncpu"
    else
        loadpids=()
        for ((i = 0; i < ncpu; i++)); do yes >/dev/null & bgpids+=($!); loadpids+=($!); done
        loader="$ncpu x yes"
    fi
}
stop_pids() { local p; for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }

soak() {  # impl -> one result line into $tmp/soak.txt
    local impl=$1 d=$tmp/run-$impl conf=$LAB/configs/ka-v3-fast.conf vip=198.51.100.57 n m0 t
    local -a mon=() marks=()
    echo "soak $(name_of "$impl"): $SOAK s under load..." >&2
    mkdir -p "$d"
    for n in 1 2 3; do ip -n "$(lab_ns "$n")" addr del "$vip/24" dev eth0 2>/dev/null || true; done
    for n in 1 2 3; do KA_BIN=$(bin_of "$impl") KA_RUN=$d "$LAB/ka.sh" start "$n" "$conf" -P >/dev/null; done
    for t in $(seq 1 500); do has_vip 1 "$vip" && break; sleep 0.02; done
    has_vip 1 "$vip" || { echo "  soak $(name_of "$impl"): h1 never became master" >&2; }
    sleep 2
    for n in 2 3; do
        ip -n "$(lab_ns "$n")" monitor address >"$tmp/mon-$impl-h$n" 2>/dev/null &
        bgpids+=($!); mon+=($!)
    done
    ip netns exec "$(lab_ns sw)" tcpdump -i br0 -U -s 128 -w "$tmp/soak-$impl.pcap" 'ip proto 112' >/dev/null 2>&1 &
    bgpids+=($!); local td=$!
    for n in 1 2 3; do marks[n]=$(wc -l <"$d/h$n.log"); done
    sleep 0.5
    start_load
    nap "$SOAK"
    stop_pids "${loadpids[@]}"
    sleep 0.3
    stop_pids "$td" "${mon[@]}"
    local masters=0 vipadds=0 leaves h1adv
    for n in 2 3; do
        m0=$(tail -n +"$((marks[n] + 1))" "$d/h$n.log" | grep -c 'Entering MASTER STATE' || true)
        masters=$((masters + m0))
        m0=$(grep -c "^[0-9]*: eth0 *inet $vip/" "$tmp/mon-$impl-h$n" || true)
        vipadds=$((vipadds + m0))
    done
    leaves=$(tail -n +"$((marks[1] + 1))" "$d/h1.log" | grep -Ec 'Entering (BACKUP|FAULT) STATE' || true)
    tcpdump -tt -nn -r "$tmp/soak-$impl.pcap" 2>/dev/null >"$tmp/soak-$impl.txt"
    local bk; bk=$($stats senders <"$tmp/soak-$impl.txt" | awk '$1 != "198.51.100.1" {s += $2} END {print s + 0}')
    # master's advert intervals: lateness vs 50 ms -> interval = 50 + lateness
    read -r _ nadv p50 p99 mx _ gaps <<<"$(grep '198.51.100.1 >' "$tmp/soak-$impl.txt" | $stats intervals 50)"
    h1adv=$(awk -v a="$p50" -v b="$p99" -v c="$mx" 'BEGIN {printf "%.2f %.2f %.2f", 50 + a, 50 + b, 50 + c}')
    for n in 1 2 3; do KA_RUN=$d "$LAB/ka.sh" stop "$n" >/dev/null 2>&1 || true; done
    printf '%-18s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' "$(name_of "$impl")" "$masters" "$vipadds" "$bk" "$leaves" "$nadv" $h1adv "$gaps" >>"$tmp/soak.txt"
    sleep 0.5
}

if [ "$SOAK" != 0 ]; then
    : >"$tmp/soak.txt"
    for impl in theirs ours; do soak "$impl"; done
    echo
    echo "No-false-failover soak, v3-fast (advert 50 ms, VRID 57), $SOAK s each, both cores loaded ($loader):"
    echo "backup transitions: 'Entering MASTER STATE' on h2/h3, VIP added on h2/h3 (ip monitor), adverts sent by h2/h3;"
    echo "master: h1 leaving MASTER, number of advert intervals seen on the bridge (interval), interval p50/p99/max (ms), gaps >= 75 ms"
    printf '%-18s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' implementation MASTER VIP+ bk-adv h1-left interval p50 p99 max gaps
    cat "$tmp/soak.txt"
fi
