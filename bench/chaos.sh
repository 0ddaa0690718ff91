#!/usr/bin/env bash
# Chaos benchmark (issue 16 item 3): a three-router VRRP cluster under random
# kill -9 and SIGSTOP of its parents and VRRP children while a client pings
# the VIP; see bench/chaos.py for what is measured. Runs the three clusters
# one after the other in the same run: three keepalived-rs, three keepalived
# 2.2.7, and a mixed one (two keepalived-rs, one 2.2.7), each for DURATION s
# with the same random sequence (CHAOS_SEED).
#
# Usage: [DURATION=600] [CHAOS_SEED=1] [CLUSTERS="rs ka mixed"] [OURS=path] bench/chaos.sh
# Asserts nothing; prints the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-600}
CLUSTERS=${CLUSTERS:-rs ka mixed}
. bench/lib.sh
bench_prologue ping python3   # ping: apt-get install iputils-ping
work=$(mktemp -d /tmp/bench-chaos.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "chaos: ${DURATION} s per cluster, seed ${CHAOS_SEED:-1}; ours: $OURS"
printf '%-6s %8s %10s %17s %14s %13s %14s %10s\n' cluster actions recoveries "2 active masters" \
    "2 holders (s)" "no master (s)" "lost pings" "VIP left"
for c in $CLUSTERS; do
    python3 bench/chaos.py "$c" "$DURATION" "$OURS" "$KA" "$work/$c"
done
