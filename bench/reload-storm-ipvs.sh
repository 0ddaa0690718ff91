#!/usr/bin/env bash
# Benchmark (issue 16 item 4, the checker's half): a reload storm on the
# checker child, keepalived 2.2.7 and keepalived-rs one after the other in
# one run, in the IPVS guest (shared/ipvs-vm: this host's kernel has no
# IPVS; the guest's CPU is emulated, so compare figures only within a run).
#
#   untouched: virtual servers U1..U5 (10.9.0.1-5:80), 4 real servers each
#              (10.200.U.1-4:80, TCP_CHECK, notify_up/notify_down scripts),
#              the same in every configuration;
#   churn A:   C1..C10 (10.9.1.1-10:80), 2 real servers each;
#   churn B:   C1..C5 with a third real server (real servers added and
#              removed) and C11..C15 (virtual servers added and removed).
# Virtual and real server addresses are local (routes of type local through a dummy interface cover
# 10.9/16, 10.200/16 and 10.201/16): a busybox httpd on port 80 answers the
# checks and, through IPVS, an HTTP client fetching from U1 every 50 ms.
# The storm: RELOADS (default 100, even: it ends on A) SIGHUPs every
# INTERVAL (default 0.1 s), A and B alternating.
#
# Figures per implementation:
#   - reloads the checker child applied (SIGHUPs that arrive during a
#     reload are coalesced, in both implementations),
#   - notify calls of the untouched real servers during the storm and 5 s
#     after it (each is a state change; goal 0),
#   - samples (every 0.1 s) in which U1's IPVS service lacked one of its
#     real servers (goal 0),
#   - HTTP requests to U1 that failed / requests made,
#   - the checker child's open file descriptors and VmRSS before the storm
#     and 5 s after it (goal: no drift),
#   - whether the IPVS table after the storm is the one A made at start,
#     and whether the daemon still runs.
#
# Usage: [RELOADS=100] [INTERVAL=0.1] [ONLY="theirs ours"] [OURS=path]
#        [KEEP=dir] bench/reload-storm-ipvs.sh
# Asserts nothing; prints both implementations' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
RELOADS=${RELOADS:-100}
INTERVAL=${INTERVAL:-0.1}
ONLY=${ONLY:-theirs ours}
. bench/lib.sh
bench_root
bench_ours
bench_vm
tmp=$(mktemp -d /tmp/bench-reload-storm-ipvs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$OURS" "$tmp/keepalived-rs"

vs() {   # vs ADDRESS NOTIFY-TAG REAL-SERVER...
    local addr=$1 tag=$2 rs; shift 2
    printf 'virtual_server %s 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n' "$addr"
    for rs in "$@"; do
        printf '  real_server %s 80 {\n' "$rs"
        if [ -n "$tag" ]; then
            printf '    notify_up "/tmp/notify.sh up %s"\n    notify_down "/tmp/notify.sh down %s"\n' "$rs" "$rs"
        fi
        printf '    TCP_CHECK { connect_timeout 1 retry 1 delay_before_retry 1 }\n  }\n'
    done
    printf '}\n'
}

configs() {
    local common u c
    common=$(printf 'global_defs {\n  router_id storm\n  script_user root\n}\n'
        for u in 1 2 3 4 5; do vs "10.9.0.$u" notify "10.200.$u.1" "10.200.$u.2" "10.200.$u.3" "10.200.$u.4"; done)
    { echo "$common"; for c in $(seq 1 10); do vs "10.9.1.$c" "" "10.201.$c.1" "10.201.$c.2"; done; } > "$tmp/A.conf"
    { echo "$common"
      for c in $(seq 1 5); do vs "10.9.1.$c" "" "10.201.$c.1" "10.201.$c.2" "10.201.$c.3"; done
      for c in $(seq 11 15); do vs "10.9.1.$c" "" "10.201.$c.1"; done; } > "$tmp/B.conf"
}
configs

cat > "$tmp/guest.sh" <<'EOF'
set -u
T=$(dirname "$0")
RELOADS=$1 INTERVAL=$2 ONLY=$3
ip link set lo up
ip link add d0 type dummy && ip link set d0 up
for n in 10.9.0.0/16 10.200.0.0/16 10.201.0.0/16; do ip route add local $n dev d0; done
mkdir -p /tmp/www && echo ok > /tmp/www/index.html
busybox httpd -f -p 80 -h /tmp/www &
httpd=$!
printf '#!/bin/sh\necho "$@" >> /tmp/notify.log\n' > /tmp/notify.sh && chmod 755 /tmp/notify.sh
# One HTTP request (bash's /dev/tcp: the guest's busybox wget crashes), 2 s at most.
get() { busybox timeout 2 bash -c 'exec 3<>/dev/tcp/'"$1"'/80 && printf "GET / HTTP/1.0\r\n\r\n" >&3 && read -r l <&3 && [[ $l == *" 200 "* ]]' 2>/dev/null; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
table() { ipvsadm -Ln | grep -E '^(TCP|  ->)' | awk '{print $1, $2}' | sort; }
for impl in $ONLY; do
    bin=$(command -v keepalived); [ "$impl" = ours ] && bin=$T/keepalived-rs
    ipvsadm -C; rm -f /tmp/notify.log /tmp/ka.pid /tmp/ka-check.pid
    cp "$T/A.conf" /tmp/storm.conf
    $bin -n -l -C -f /tmp/storm.conf -p /tmp/ka.pid -c /tmp/ka-check.pid > "/tmp/$impl.log" 2>&1 &
    daemon=$!
    sleep 8
    child=$(cat /tmp/ka-check.pid 2>/dev/null)
    parent=$(cat /tmp/ka.pid 2>/dev/null)
    if [ -z "$child" ] || [ ! -d "/proc/$child" ]; then
        echo "RESULT $impl no-checker-child"; tail -5 "/tmp/$impl.log"; kill "$daemon"; wait "$daemon"; continue
    fi
    start_table=$(table)
    fd0=$(fds "$child") rss0=$(kb "$child" VmRSS)
    n0=$(wc -l < /tmp/notify.log 2>/dev/null || echo 0)
    # The client: one request to U1 every 50 ms.
    ( ok=0 bad=0; while [ ! -e /tmp/stop-client ]; do
          if get 10.9.0.1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
          sleep 0.05
      done; echo "$ok $bad" > /tmp/client.out ) &
    client=$!
    # The sampler: U1's real servers every 0.1 s.
    ( short=0 n=0; while [ ! -e /tmp/stop-client ]; do
          d=$(ipvsadm -Ln -t 10.9.0.1:80 2>/dev/null | grep -c -- '-> 10.200' || true)
          n=$((n + 1)); [ "$d" -lt 4 ] && short=$((short + 1))
          sleep 0.1
      done; echo "$short $n" > /tmp/sampler.out ) &
    sampler=$!
    for i in $(seq 1 "$RELOADS"); do
        # Replaced atomically: a reload must never read a half-copied file.
        if [ $((i % 2)) = 1 ]; then cp "$T/B.conf" /tmp/storm.new; else cp "$T/A.conf" /tmp/storm.new; fi
        mv /tmp/storm.new /tmp/storm.conf
        kill -HUP "$parent"
        sleep "$INTERVAL"
    done
    sleep 5
    touch /tmp/stop-client; wait "$client" "$sampler"; rm -f /tmp/stop-client
    n1=$(wc -l < /tmp/notify.log 2>/dev/null || echo 0)
    child1=$(cat /tmp/ka-check.pid 2>/dev/null)
    alive=no; kill -0 "$parent" 2>/dev/null && [ -d "/proc/$child1" ] && alive=yes
    same=no; [ "$(table)" = "$start_table" ] && same=yes
    read -r ok bad < /tmp/client.out; read -r short samples < /tmp/sampler.out
    # Reloads the checker child applied (it logs "Reloading"; the parent "Reloading ...").
    applied=$(grep -c ': Reloading$' "/tmp/$impl.log" || true)
    echo "RESULT $impl applied=$applied notify=$((n1 - n0)) short=$short/$samples failed=$bad/$((ok + bad)) fd=$fd0/$(fds "$child1") rss_kb=$rss0/$(kb "$child1" VmRSS) table=$same alive=$alive restarted=$([ "$child1" = "$child" ] && echo no || echo yes)"
    kill "$daemon"; wait "$daemon" 2>/dev/null
    cp "/tmp/$impl.log" "$T/$impl.log" 2>/dev/null
done
kill "$httpd"
EOF

out=$(IPVS_VM_TOOLS="ipvsadm ip bash keepalived" "$VM" -t 900 -m 1024 -s "$tmp" -- \
    "bash $tmp/guest.sh $RELOADS $INTERVAL '$ONLY'" 2>&1) || true
[ -n "${KEEP:-}" ] && { mkdir -p "$KEEP"; cp -r "$tmp"/* "$KEEP"/; printf '%s\n' "$out" > "$KEEP/guest.out"; }
echo "checker reload storm: $RELOADS SIGHUPs every $INTERVAL s, A/B alternating; 5 untouched virtual servers x 4 real servers (emulated CPU)"
printf '%-7s %8s %8s %10s %12s %8s %14s %6s %6s %10s\n' impl applied notify u1-short http-failed fd rss_kb table alive restarted
printf '%s\n' "$out" | tr -d '\r' | awk '/^RESULT/ && NF > 3 {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-7s %8s %8s %10s %12s %8s %14s %6s %6s %10s\n", $2, v["applied"], v["notify"], v["short"], v["failed"], v["fd"], v["rss_kb"], v["table"], v["alive"], v["restarted"] }'
printf '%s\n' "$out" | tr -d '\r' | grep -E '^RESULT .* no-checker-child' -A5 || true
