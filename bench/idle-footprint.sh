#!/usr/bin/env bash
# Benchmark: idle footprint of the parent and its children running
# keepalived.conf.example for DURATION seconds (default 60): total RSS and
# CPU time, keepalived-rs and keepalived 2.2.7 side by side, each in its own
# network namespace with eth0. Then the child restart latency after
# `kill -9` of the VRRP child (SAMPLES runs, default 5). Prints figures;
# asserts nothing.
#
# Both run with -P (VRRP child only): this machine's kernel has no IPVS,
# and keepalived's checker child exits FATAL without it, ending the daemon.
# keepalived 2.2.7 runs VRRP for real (adverts every second, the VIP added
# when it becomes master); keepalived-rs at this stage runs the process
# frame (its VRRP engine is not in this build yet).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
SAMPLES=${SAMPLES:-5}
cargo build --release --locked -p keepalived >/dev/null 2>&1
ours=$PWD/target/release/keepalived
theirs=$(command -v keepalived 2>/dev/null || echo /usr/sbin/keepalived)
tmp=$(mktemp -d); trap 'pkill -f "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
conf=$PWD/keepalived.conf.example

run_ns() {  # $1 = tag, $2 = binary; starts the daemon in a netns, prints its pid
    local d=$tmp/$1; mkdir -p "$d"
    unshare -n bash -c 'ip link set lo up; ip link add eth0 type veth peer name peth0; ip link set eth0 up; ip link set peth0 up
        ip addr add 192.168.100.1/24 dev eth0
        exec "$0" -P -n -G -f "$1" -p "$2/k.pid" -r "$2/v.pid" -c "$2/c.pid" -b "$2/b.pid"' "$2" "$conf" "$d" </dev/null >/dev/null 2>&1 &
    echo $!
}

procs() {  # the daemon's parent pid and its children
    echo "$1"; pgrep -P "$1" || true
}

footprint() {  # $1 = parent pid: "rss_kib cpu_ms nprocs"
    local rss=0 cpu=0 n=0 hz; hz=$(getconf CLK_TCK)
    for p in $(procs "$1"); do
        [ -r /proc/$p/status ] || continue
        r=$(awk '/^VmRSS:/ {print $2}' /proc/$p/status); rss=$((rss + ${r:-0}))
        t=$(awk '{print $14 + $15}' /proc/$p/stat); cpu=$((cpu + t * 1000 / hz)); n=$((n + 1))
    done
    echo "$rss $cpu $n"
}

printf 'Idle footprint over %s s (keepalived.conf.example)\n' "$DURATION"
printf '%-22s %10s %12s %8s\n' binary "RSS (KiB)" "CPU (ms)" procs
for b in ours theirs; do
    bin=$ours; name=keepalived-rs
    if [ $b = theirs ]; then [ -x "$theirs" ] || continue; bin=$theirs; name="keepalived $("$theirs" -v 2>&1 | awk 'NR==1 {print $2}')"; fi
    pid=$(run_ns "idle-$b" "$bin"); sleep "$DURATION"
    read -r rss cpu n <<<"$(footprint "$pid")"
    printf '%-22s %10s %12s %8s\n' "$name" "$rss" "$cpu" "$n"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
done

echo
printf 'VRRP child restart latency after kill -9 (%s runs): median / min / max ms\n' "$SAMPLES"
for b in ours theirs; do
    bin=$ours; name=keepalived-rs
    if [ $b = theirs ]; then [ -x "$theirs" ] || continue; bin=$theirs; name="keepalived 2.2.7"; fi
    lat=()
    for i in $(seq 1 "$SAMPLES"); do
        pid=$(run_ns "lat-$b-$i" "$bin"); d=$tmp/lat-$b-$i
        for _ in $(seq 1 200); do [ -s "$d/v.pid" ] && break; sleep 0.01; done
        sleep 0.5
        old=$(cat "$d/v.pid")
        s=$(date +%s%N); kill -9 "$old"
        for _ in $(seq 1 2000); do
            new=$(cat "$d/v.pid" 2>/dev/null || true)
            if [ -n "$new" ] && [ "$new" != "$old" ] && [ -d /proc/$new ]; then break; fi
            sleep 0.001
        done
        e=$(date +%s%N); lat+=($(( (e - s) / 1000000 )))
        kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    done
    sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
    printf '%-22s %s / %s / %s\n' "$name" "$(echo "$sorted" | sed -n "$(( (SAMPLES + 1) / 2 ))p")" "$(echo "$sorted" | head -1)" "$(echo "$sorted" | tail -1)"
done
