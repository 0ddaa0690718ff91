#!/usr/bin/env bash
# A 10 ms VRRP cluster under CPU load (issue 18 item 2), keepalived-rs and keepalived 2.2.7 in
# the same seats, one after the other in one run: see bench/vrrp-10ms.py for what is measured.
#
# Usage: [DURATION=600] [TRIALS=5] [RT_PRIORITY=N] [IMPLS="rs ka"] [OURS=path] bench/vrrp-10ms.sh
# Asserts nothing; prints the figures. Needs stress-ng and tcpdump (apt-get install stress-ng tcpdump).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-600}
TRIALS=${TRIALS:-5}
IMPLS=${IMPLS:-rs ka}
. bench/lib.sh
bench_prologue python3 stress-ng tcpdump
work=$(mktemp -d /tmp/bench-10ms.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "10 ms cluster: ${DURATION} s under stress-ng --cpu $(nproc), then ${TRIALS} SIGKILL and ${TRIALS} SIGTERM" \
    "failovers under load; vrrp_rt_priority: ${RT_PRIORITY:-none}; ours: $OURS"
echo "protocol: n2 takes over 36.1 ms after n1's last advert (3 x 10 ms + skew), 6.1 ms after a priority-0 advert"
printf '%-14s %11s %14s %9s %6s %6s %7s %6s %7s %7s %7s %7s\n' "" transitions "foreign adverts" \
    "n1 adverts" "gap50" "gap99" "gapmax" ">36ms" "kill50" "killmax" "term50" "termmax"
for i in $IMPLS; do
    case $i in
    rs) bin=$OURS label=keepalived-rs ;;
    ka) bin=$KA label="keepalived 2.2.7" ;;
    *) echo "unknown implementation $i" >&2; exit 1 ;;
    esac
    mkdir -p "$work/$i"
    python3 bench/vrrp-10ms.py "$label" "$bin" "$DURATION" "$TRIALS" "$work/$i"
done
echo "(gaps between n1's adverts and failover times in ms, from kernel timestamps of a capture on the segment)"
