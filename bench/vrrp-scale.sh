#!/usr/bin/env bash
# Benchmark: 1,000 VRRPv3 instances (250 VRIDs x 4 veth interfaces, advert
# 1 s, one VIP each) on one node that is MASTER for all of them,
# keepalived 2.2.7 and keepalived-rs side by side, in one run, same
# generated config (bench/gen-vrrp-scale.sh).
#
# Usage: [DURATION=60] [WARMUP=5] [VRIDS=250] [IFACES=4] [OURS=path] [RUNS=1] [RT_PRIORITY=N]
#        [ONLY="theirs ours"] [PEER=plain|backup] [KEEP=dir] bench/vrrp-scale.sh
# (KEEP: copy the config, logs, captures (rx.pcap) and tables there)
#
# Topology: netns bvs-m (the node: eth0..eth3, 10.<i>.255.254/16) whose
# veth peers r0..r3 sit in netns bvs-r, a plain namespace that only
# receives (tcpdump on "any", kernel timestamps). A plain receiver rather
# than a backup keepalived: a backup would burn CPU on this 2-core box and
# disturb the master's send timing we measure, and with 1,000 instances it
# would be a second, separate benchmark (receive path); nothing on the
# links means every instance becomes MASTER after its master-down timer.
# PEER=backup adds that second benchmark: the same implementation runs in
# bvs-r as a backup for all 1,000 instances (priority 50, started once the
# master holds every VIP) and its VRRP child's CPU/RSS over the same window
# is printed on a "(backup)" row; the master's figures then include the
# disturbance of a busy peer on the same 2 cores.
#
# For each implementation: start the daemon (-P, VRRP only), time start ->
# all VIPs installed, wait WARMUP s, then over DURATION s: CPU of the VRRP
# child (pid from the -r pid file; utime+stime from /proc/PID/stat, and
# run time from /proc/PID/schedstat), RSS (VmRSS at the end, VmHWM), and
# advert send jitter: per instance (interface, VRID) the lateness of each
# advert = inter-arrival - advert_int; p50/p99/max over all instances, plus
# gaps (inter-arrival >= 1.5 s). Prints figures; asserts nothing. Removes
# its namespaces and daemons on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-5}
RUNS=${RUNS:-1}
export VRIDS=${VRIDS:-250} IFACES=${IFACES:-4} ADVERT=1
ONLY=${ONLY:-theirs ours}
PEER=${PEER:-plain}
P=${SCALE_PREFIX:-bvs-}
M=${P}m R=${P}r
. bench/lib.sh
bench_root
bench_ours
theirs=$(command -v keepalived 2>/dev/null || echo /usr/sbin/keepalived)
stats="python3 $HERE/bench/vrrp_stats.py"
tmp=$(mktemp -d /tmp/bench-vrrp-scale.XXXXXX)
daemon= bdaemon= capture=

teardown() { bench_netns_del "$M" "$R"; }   # our own namespaces only (leftovers of an aborted run included)
stop_daemon() { bench_stop_pids "$bdaemon"; bdaemon=; bench_stop_pids "$daemon"; daemon=; }
cleanup() {
    [ -n "$capture" ] && { kill -TERM $capture 2>/dev/null || true; wait $capture 2>/dev/null || true; }
    stop_daemon
    teardown
    bench_drop_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nap() { sleep "$1" & wait $!; }   # a long sleep that a signal interrupts at once

setup() {
    teardown
    ip netns add "$M"; ip netns add "$R"
    for ns in "$M" "$R"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
    done
    for ((i = 0; i < IFACES; i++)); do
        ip -n "$M" link add "eth$i" type veth peer name "r$i" netns "$R"
        ip -n "$R" link set "r$i" name "eth$i"
        ip -n "$R" link set "eth$i" address "02:00:00:00:0$i:02"
        [ "$PEER" = backup ] && ip -n "$R" addr add "10.$i.255.253/16" dev "eth$i"
        ip -n "$M" link set "eth$i" address "02:00:00:00:0$i:01"
        ip -n "$M" addr add "10.$i.255.254/16" dev "eth$i"
        ip -n "$M" link set "eth$i" up
        ip -n "$R" link set "eth$i" up
    done
}

bash "$HERE/bench/gen-vrrp-scale.sh" >"$tmp/scale.conf"
PRIORITY=50 bash "$HERE/bench/gen-vrrp-scale.sh" >"$tmp/backup.conf"
ninst=$(grep -c '^vrrp_instance' "$tmp/scale.conf")
hz=$(getconf CLK_TCK)
mem_of() { echo "$(awk '/^(VmRSS|VmHWM|RssAnon):/ {printf "%s ", $2}' "/proc/$1/status")$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup")"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
nvips() { ip -n "$M" -o -4 addr show | grep -Ec ' inet 10\.[0-9]+\.[0-9]+\.1/' || true; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

measure() {  # impl -> result line in $tmp/result.txt
    local impl=$1 bin name d vpid t0 up c0 c1 s0 s1 rss hwm anon pss
    case $impl in
        ours) bin=$OURS; name=keepalived-rs ;;
        theirs) bin=$theirs; name="keepalived $("$theirs" -v 2>&1 | awk 'NR==1 {print $2}')" ;;
    esac
    [ -x "$bin" ] || { echo "skip $impl: no binary $bin" >&2; return 0; }
    echo "scale $name: $ninst instances..." >&2
    d=$tmp/$impl; mkdir -p "$d"
    setup
    t0=$(now_ms)
    ip netns exec "$M" "$bin" -n -l -G -P -f "$tmp/scale.conf" -p "$d/k.pid" -r "$d/v.pid" \
        -c "$d/c.pid" -b "$d/b.pid" >"$d/log" 2>&1 </dev/null &
    daemon=$!
    up=-
    while :; do
        if [ "$(nvips)" -ge "$ninst" ]; then up=$(( $(now_ms) - t0 )); break; fi
        if [ $(( $(now_ms) - t0 )) -gt 120000 ] || ! kill -0 "$daemon" 2>/dev/null; then break; fi
        sleep 0.2
    done
    [ "$up" = - ] && echo "  $name: only $(nvips)/$ninst VIPs after $(( ($(now_ms) - t0) / 1000 )) s" >&2
    local bpid= bc0 bs0 bc1 bs1 bmem
    if [ "$PEER" = backup ]; then
        ip netns exec "$R" "$bin" -n -l -G -P -f "$tmp/backup.conf" -p "$d/bk.pid" -r "$d/bv.pid" \
            -c "$d/bc.pid" -b "$d/bb.pid" >"$d/backup.log" 2>&1 </dev/null &
        bdaemon=$!
    fi
    sleep "$WARMUP"
    if [ "$PEER" = backup ]; then
        bpid=$(cat "$d/bv.pid" 2>/dev/null || true)
        [ -n "$bpid" ] && [ -d "/proc/$bpid" ] || { echo "  $name: backup has no VRRP child" >&2; bpid=; }
    fi
    vpid=$(cat "$d/v.pid" 2>/dev/null || true)
    if [ -z "$vpid" ] || [ ! -d "/proc/$vpid" ]; then
        echo "  $name: no VRRP child (log tail:)" >&2; tail -5 "$d/log" >&2; stop_daemon; return 0
    fi
    ip netns exec "$R" tcpdump -i any -n -B 16384 -s 96 -U -w "$d/rx.pcap" 'ip proto 112' >/dev/null 2>"$d/tcpdump.err" &
    capture=$!
    # The send side: the master's own links, outgoing. The kernel stamps these copies in the
    # sending system call (dev_queue_xmit_nit), before the veth hands the packet to the peer,
    # so they do not carry the receiver's softirq delays.
    ip netns exec "$M" tcpdump -i any -Q out -n -B 16384 -s 96 -U -w "$d/tx.pcap" 'ip proto 112' >/dev/null 2>"$d/tcpdump-tx.err" &
    capture="$capture $!"
    sleep 1
    c0=$(cpu_ticks "$vpid"); s0=$(run_ns "$vpid")
    [ -n "$bpid" ] && { bc0=$(cpu_ticks "$bpid"); bs0=$(run_ns "$bpid"); }
    nap "$DURATION"
    c1=$(cpu_ticks "$vpid"); s1=$(run_ns "$vpid")
    [ -n "$bpid" ] && { bc1=$(cpu_ticks "$bpid"); bs1=$(run_ns "$bpid"); bmem=$(mem_of "$bpid"); }
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$vpid/status"); hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$vpid/status")
    anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$vpid/status"); pss=$(awk '/^Pss:/ {print $2}' "/proc/$vpid/smaps_rollup")
    sleep 1
    kill -INT $capture; wait $capture 2>/dev/null || true; capture=
    local masters now_pid
    masters=$(grep -c 'Entering MASTER STATE' "$d/log" || true)
    now_pid=$(cat "$d/v.pid" 2>/dev/null || true)
    [ "$now_pid" = "$vpid" ] || echo "  $name: VRRP child changed pid $vpid -> $now_pid during the window" >&2
    stop_daemon
    local drops; drops=$(grep -Eo '[0-9]+ packets dropped by kernel' "$d/tcpdump.err" | awk '{print $1}')
    # the capture spans the CPU window plus about 1 s on each side; only the master's adverts
    tcpdump -tt -nn -r "$d/rx.pcap" 2>/dev/null | grep -E ' 10\.[0-9]+\.255\.254 > ' >"$d/rx.txt" || true
    read -r streams nadv p50 p99 mx mn gaps <<<"$($stats intervals 1000 <"$d/rx.txt")"
    tcpdump -tt -nn -r "$d/tx.pcap" 2>/dev/null | grep -E ' 10\.[0-9]+\.255\.254 > ' >"$d/tx.txt" || true
    local tx; tx=$($stats late 1000 <"$d/tx.txt" | awk '{print $1 "/" $2 "/" $3 " " $4}')
    awk -v n="$name" -v up="$up" -v m="$masters" -v c="$((c1 - c0))" -v hz="$hz" -v s="$((s1 - s0))" -v dur="$DURATION" \
        -v rss="$rss" -v hwm="$hwm" -v anon="$anon" -v pss="$pss" -v st="$streams" -v na="$nadv" -v p50="$p50" -v p99="$p99" -v mx="$mx" -v mn="$mn" -v g="$gaps" -v dr="${drops:-?}" -v tx="$tx" \
        'BEGIN {
            cms = c * 1000 / hz * 60 / dur; sms = s / 1e6 * 60 / dur
            printf "%-18s %6s %6s %9.0f %9.0f %6.2f %7s %7s %7s %7s %5s %9s %7s %7s %7s %7s %4s %5s  %s\n",
                n, up, m, cms, sms, sms / 600, rss, hwm, anon, pss, st, na, mn, p50, p99, mx, g, dr, tx
        }' >>"$tmp/result.txt"
    if [ -n "$bpid" ]; then
        local bm; bm=$(grep -c 'Entering MASTER STATE' "$d/backup.log" || true)
        read -r brss bhwm banon bpss <<<"$bmem"
        awk -v n="$name" -v m="$bm" -v c="$((bc1 - bc0))" -v hz="$hz" -v s="$((bs1 - bs0))" -v dur="$DURATION" \
            -v rss="$brss" -v hwm="$bhwm" -v anon="$banon" -v pss="$bpss" \
            'BEGIN {
                cms = c * 1000 / hz * 60 / dur; sms = s / 1e6 * 60 / dur
                printf "%-18s %6s %6s %9.0f %9.0f %6.2f %7s %7s %7s %7s\n",
                    "  (backup)", "-", m, cms, sms, sms / 600, rss, hwm, anon, pss
            }' >>"$tmp/result.txt"
    fi
}

: >"$tmp/result.txt"
for ((run = 1; run <= RUNS; run++)); do   # alternate the implementations run by run
    for impl in $ONLY; do measure "$impl"; done
done
echo
echo "VRRP scale: $ninst VRRPv3 instances ($VRIDS VRIDs x $IFACES veths), advert 1 s, all MASTER; window $DURATION s after all VIPs + $WARMUP s"
echo "up: start -> all VIPs installed (ms); MASTER: 'Entering MASTER STATE' lines; CPU of the VRRP child: ticks = utime+stime (1/$hz s),"
echo "sched = /proc/PID/schedstat run time, both in ms per minute, % = sched share of one core; memory of the VRRP child in KiB
(VmRSS, VmHWM, RssAnon from /proc/PID/status; Pss from smaps_rollup: file pages shared with the parent count in part);"
echo "lateness = advert inter-arrival - 1000 ms at the receiver, per instance, ms (min may be negative = early); gaps >= 1.5 s; drops = tcpdump kernel drops;"
echo "tx p50/p99/max = the same lateness from the sender's own links (stamped in the sending system call), >1ms = adverts more than 1 ms late there"
printf '%-18s %6s %6s %9s %9s %6s %7s %7s %7s %7s %5s %9s %7s %7s %7s %7s %4s %5s  %s\n' \
    implementation up MASTER "ticks/min" "sched/min" "%" VmRSS VmHWM RssAnon Pss inst intervals min p50 p99 max gaps drops "tx p50/p99/max >1ms"
cat "$tmp/result.txt"
