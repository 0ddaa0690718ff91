#!/usr/bin/env bash
# Benchmark: the BFD child with 100 sessions at 50 ms x 3 between two lab
# nodes (../shared/lab network namespaces), keepalived 2.2.7 and
# keepalived-rs side by side in one run: two pairs run at the same time on
# one bridge,
#   pair "ours":   keepalived-rs (h1)    <-> keepalived 2.2.7 peer (h2)
#   pair "theirs": keepalived 2.2.7 (h3) <-> keepalived 2.2.7 peer (h4)
# each session on its own address pair (10.201.x / 10.202.x).
#
# Usage: [DURATION=30] [WARMUP=5] [SESSIONS=100] [STRESS=1] [OURS=path]
#        [KEEP=dir] bench/bfd-scale.sh
#
# Figures for the measured node of each pair (h1, h3), over DURATION s
# once every session is Up and WARMUP s have passed:
#  - CPU ticks (utime+stime of the BFD child, USER_HZ) and its VmRSS/VmHWM;
#  - transmit gaps of its steady Up packets (no P/F), per session, from a
#    capture on the bridge: p1/p50/p99 and the share inside RFC 5880
#    §6.8.7's 75-100 % window of 50 ms;
#  - false Downs: sessions leaving Up during the run (both ends' logs).
# STRESS=1 also loads both cores with `stress-ng --cpu 2` during the
# measurement. Asserts nothing; prints both implementations' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
N=${SESSIONS:-100}
. bench/lib.sh
bench_root
bench_tools tcpdump python3
bench_ka
bench_ours
LAB=$(bench_find_up shared/lab/lab.sh)
LAB=${LAB%/lab.sh}
[ -n "$LAB" ] || { echo "shared/lab not found" >&2; exit 1; }
tmp=${KEEP:-$(mktemp -d /tmp/bench-bfd-scale.XXXXXX)}
mkdir -p "$tmp"
export LAB_PREFIX=bbs$$- KA_RUN=$tmp/ka
cleanup() {   # every step may fail (set -e must not cut the cleanup short)
    if [ -n "${stress:-}" ]; then kill "$stress" 2>/dev/null || true; fi
    if [ -n "${cap:-}" ]; then kill -INT "$cap" 2>/dev/null || true; fi
    for n in 1 2 3 4; do bash "$LAB/ka.sh" stop "$n" >/dev/null 2>&1 || true; done
    bash "$LAB/lab.sh" down >/dev/null 2>&1 || true
    if [ -z "${KEEP:-}" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
bash "$LAB/lab.sh" up 4 >/dev/null

# Addresses: pair A (h1 10.201.1.i, h2 10.201.0.i), pair B (h3 10.202.1.i, h4 10.202.0.i).
addrs() {   # addrs HOST NET SIDE
    local ns; ns=$(bash "$LAB/lab.sh" ns "$1")
    for i in $(seq 1 "$N"); do echo "addr add $2.$3.$i/16 dev eth0"; done | ip -n "$ns" -batch -
}
addrs 1 10.201 1; addrs 2 10.201 0; addrs 3 10.202 1; addrs 4 10.202 0

conf() {   # conf NET LOCAL-SIDE REMOTE-SIDE
    echo "global_defs { router_id bench }"
    for i in $(seq 1 "$N"); do
        printf 'bfd_instance S%d {\n  neighbor_ip %s.%s.%d\n  source_ip %s.%s.%d\n  min_rx 50\n  min_tx 50\n  multiplier 3\n}\n' \
            "$i" "$1" "$3" "$i" "$1" "$2" "$i"
    done
}
conf 10.201 1 0 >"$tmp/h1.conf"; conf 10.201 0 1 >"$tmp/h2.conf"
conf 10.202 1 0 >"$tmp/h3.conf"; conf 10.202 0 1 >"$tmp/h4.conf"
start() { env "KA_BIN_h$1=$2" TMPDIR="$tmp" bash "$LAB/ka.sh" start "$1" "$tmp/h$1.conf" >/dev/null; }
start 2 "$KA"; start 4 "$KA"; start 1 "$OURS"; start 3 "$KA"

ups() { grep -c "Entering Up state" "$KA_RUN/h$1.log" 2>/dev/null || true; }
downs() { grep -c "Entering Down state" "$KA_RUN/h$1.log" 2>/dev/null || true; }
for _ in $(seq 600); do
    [ "$(ups 1)" -ge "$N" ] && [ "$(ups 3)" -ge "$N" ] && break
    sleep 0.1
done
[ "$(ups 1)" -ge "$N" ] && [ "$(ups 3)" -ge "$N" ] || { echo "sessions not Up: ours $(ups 1), keepalived $(ups 3)" >&2; exit 1; }
sleep "$WARMUP"

pid1=$(cat "$KA_RUN/h1-bfd.pid"); pid3=$(cat "$KA_RUN/h3-bfd.pid")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
mem() { awk '/^VmRSS|^VmHWM/{printf "%s %s kB  ", $1, $2}' "/proc/$1/status"; }
d0=$(for n in 1 2 3 4; do downs $n; done | paste -sd' ')
ip netns exec "$(bash "$LAB/lab.sh" ns sw)" tcpdump -i br0 -U -s 96 -w "$tmp/bfd.pcap" \
    "udp dst port 3784 and (src net 10.201.1.0/24 or src net 10.202.1.0/24)" 2>/dev/null &
cap=$!
sleep 1
if [ "${STRESS:-0}" = 1 ]; then
    command -v stress-ng >/dev/null || { echo "stress-ng is missing" >&2; exit 1; }
    stress-ng --cpu 2 --timeout "$((DURATION + 5))" >/dev/null 2>&1 &
    stress=$!
fi
t1=$(ticks "$pid1"); t3=$(ticks "$pid3")
sleep "$DURATION"
t1=$(( $(ticks "$pid1") - t1 )); t3=$(( $(ticks "$pid3") - t3 ))
m1=$(mem "$pid1"); m3=$(mem "$pid3")
kill -INT "$cap"; wait "$cap" 2>/dev/null || true; cap=
d1=$(for n in 1 2 3 4; do downs $n; done | paste -sd' ')

gaps() {   # gaps SRC-NET: p1 p50 p99 in-window% count, steady Up packets per session
    python3 - "$tmp/bfd.pcap" "$1" <<'EOF'
import struct, sys
path, net = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
le = data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1')
nano = data[:4] in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
e = '<' if le else '>'
at, last, gaps = 24, {}, []
while at + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack(e + 'IIII', data[at:at + 16])
    pkt = data[at + 16:at + 16 + incl]
    at += 16 + incl
    t = sec + frac / (1e9 if nano else 1e6)
    if len(pkt) < 14 + 20 + 8 + 24 or pkt[12:14] != b'\x08\x00':
        continue
    ip = pkt[14:]
    ihl = (ip[0] & 15) * 4
    src = '.'.join(map(str, ip[12:16]))
    if not src.startswith(net + '.'):
        continue
    bfd = ip[ihl + 8:]
    state, flags = bfd[1] >> 6, bfd[1] & 0x30
    prev = last.get(src)
    steady = state == 3 and flags == 0
    if prev is not None and prev[1] and steady:
        gaps.append((t - prev[0]) * 1000)
    last[src] = (t, steady)
gaps.sort()
q = lambda p: gaps[min(len(gaps) - 1, int(round((len(gaps) - 1) * p)))] if gaps else float('nan')
inside = sum(1 for g in gaps if 37.5 <= g <= 50.0) * 100 / max(len(gaps), 1)
print(f"p1 {q(0.01):.1f}  p50 {q(0.5):.1f}  p99 {q(0.99):.1f} ms  in 75-100 %: {inside:.1f} %  ({len(gaps)} gaps)")
EOF
}
g1=$(gaps 10.201.1); g3=$(gaps 10.202.1)
ver=$("$OURS" -v 2>&1 | head -1)
echo "BFD, $N sessions at 50 ms x 3, ${DURATION}s measured$([ "${STRESS:-0}" = 1 ] && echo ', stress-ng --cpu 2')"
printf '%-22s %-32s %s\n' "" "keepalived 2.2.7" "keepalived-rs"
printf '%-22s %-32s %s\n' "CPU ticks / ${DURATION}s" "$t3" "$t1"
printf '%-22s %-32s %s\n' "memory" "$m3" "$m1"
printf '%-22s %-32s %s\n' "transmit gaps" "$g3" "$g1"
echo "Down lines in the logs (h1 ours, h2 its peer, h3 keepalived, h4 its peer): before $d0, after $d1"
echo "ours: $ver"
