#!/usr/bin/env bash
# Benchmark: parse and validate a big configuration (1,000 vrrp_instances,
# 10,000 real_servers; keepalived's test/mk_lots shape scaled up) with
# keepalived-rs `keepalived -t` and keepalived's own `keepalived -t`, in one
# run, in a network namespace with eth0..eth3. Prints wall time (median of
# RUNS runs) and peak RSS (largest) for each; with INSTR=1 also the
# instructions of one run of each under valgrind (callgrind), a figure the
# load of a shared machine does not move. Not a test: nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
[ -x /usr/bin/time ] || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq time >/dev/null; }
cargo build --release --locked -p keepalived >/dev/null 2>&1
ours=$PWD/target/release/keepalived
theirs=$(command -v keepalived 2>/dev/null || echo /usr/sbin/keepalived)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bash bench/gen-big-config.sh > "$tmp/big.conf"
echo "config: $(grep -c '^vrrp_instance' "$tmp/big.conf") vrrp_instances, $(grep -c 'real_server' "$tmp/big.conf") real_servers, $(wc -l < "$tmp/big.conf") lines"

instructions() {  # $1 = binary; prints the instruction count of one -t run
    unshare -n bash -c '
        for i in eth0 eth1 eth2 eth3; do ip link add $i type veth peer name p$i; ip link set $i up; done
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" -t -f "$2" 2>&1 |
            awk "/Collected/ {gsub(\",\", \"\", \$4); print \$4}"' _ "$1" "$tmp/big.conf"
}

measure() {  # $1 = binary; prints "median_wall_ms max_rss_kib exit"
    unshare -n bash -c '
        ip link set lo up
        for i in eth0 eth1 eth2 eth3; do ip link add $i type veth peer name p$i; ip link set $i up; done
        for r in $(seq 1 "$3"); do
            s=$(date +%s%N)
            /usr/bin/time -f "%M %x" -o "$4/time.$r" "$1" -t -f "$2" 2>/dev/null; true
            e=$(date +%s%N)
            echo "$(( (e - s) / 1000 )) $(cat "$4/time.$r")"
        done' _ "$1" "$tmp/big.conf" "$RUNS" "$tmp" |
    sort -n | awk '{w[NR]=$1; if ($2>m) m=$2; x=$3} END {printf "%.1f %s %s\n", w[int((NR+1)/2)]/1000, m, x}'
}
printf '%-24s %12s %14s %6s\n' "binary" "wall (ms)" "peak RSS (KiB)" "exit"
read -r ow om ox <<<"$(measure "$ours")"
printf '%-24s %12s %14s %6s\n' "keepalived-rs" "$ow" "$om" "$ox"
if [ -x "$theirs" ]; then
    read -r tw tm tx <<<"$(measure "$theirs")"
    printf '%-24s %12s %14s %6s\n' "keepalived $("$theirs" -v 2>&1 | head -1 | awk '{print $2}')" "$tw" "$tm" "$tx"
    awk -v a="$tw" -v b="$ow" 'BEGIN { printf "keepalived-rs is %.1fx faster\n", a / b }'
fi
if [ "${INSTR:-0}" = 1 ] && command -v valgrind >/dev/null && [ -x "$theirs" ]; then
    oi=$(instructions "$ours"); ti=$(instructions "$theirs")
    printf 'instructions: keepalived-rs %s, keepalived 2.2.7 %s (%.1fx)\n' "$oi" "$ti" "$(awk -v a="$ti" -v b="$oi" 'BEGIN {print a / b}')"
fi
