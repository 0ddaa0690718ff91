#!/usr/bin/env bash
# Benchmark: the checker child with 1,000 real servers (10 virtual servers
# x 100) checked by TCP_CHECK at delay_loop 1, keepalived 2.2.7 and
# keepalived-rs side by side in one run, in the IPVS guest
# (shared/ipvs-vm: this host's kernel has no IPVS; the guest's CPU is
# emulated, so compare figures only within one run).
#
# Usage: [DURATION=30] [WARMUP=5] [ONLY="theirs ours"] [OURS=path]
#        [STRACE=1] [KEEP=dir] bench/check-scale.sh
#
# STRACE=1: the window is spent under `strace -c` instead (system calls of
# the checker child by name; its ticks are then inflated by the tracing).
# The count of calls does not depend on how loaded the host running the
# emulated guest is, where the ticks do.
#
# Scenarios, for each implementation:
#  - refused: every real server is a closed port on a local address
#    (127.0.1.x): each check is answered by a reset at once;
#  - timeout: every real server sits behind a dummy interface that drops
#    what it is sent (10.201.x.y): each connect waits connect_timeout (1 s);
#  - removal: one real server (a busybox httpd on 127.0.2.1:80) is killed
#    and the time until IPVS no longer lists it is measured, against
#    keepalived's bound delay_loop + connect_timeout + retry x
#    delay_before_retry.
# Figures: the checker child's CPU ticks (utime+stime, USER_HZ) over
# DURATION s after WARMUP s, its VmRSS and VmHWM at the end. Asserts
# nothing; prints both implementations' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
STRACE=${STRACE:-}
WARMUP=${WARMUP:-5}
ONLY=${ONLY:-theirs ours}
. bench/lib.sh
bench_root
bench_ours
bench_vm
tmp=$(mktemp -d /tmp/bench-check-scale.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$OURS" "$tmp/keepalived-rs"

# One configuration per scenario: 10 virtual servers x 100 real servers.
gen() {   # gen NAME RS-ADDRESS-PREFIX
    local name=$1 pfx=$2 v r
    {
        echo "global_defs { router_id bench }"
        for v in $(seq 0 9); do
            echo "virtual_server 10.9.0.$((v + 1)) 80 {"
            echo "  delay_loop 1"
            echo "  lb_algo rr"
            echo "  lb_kind NAT"
            echo "  protocol TCP"
            for r in $(seq 0 99); do
                echo "  real_server $pfx.$v.$((r + 1)) 80 {"
                echo "    TCP_CHECK { connect_timeout 1 retry 1 delay_before_retry 1 }"
                echo "  }"
            done
            echo "}"
        done
        # The removal probe: one live server, killed during the run.
        echo "virtual_server 10.9.1.1 80 {"
        echo "  delay_loop 1"
        echo "  lb_algo rr"
        echo "  lb_kind NAT"
        echo "  protocol TCP"
        echo "  real_server 127.0.2.1 80 {"
        echo "    TCP_CHECK { connect_timeout 1 retry 1 delay_before_retry 1 }"
        echo "  }"
        echo "}"
    } > "$tmp/$name.conf"
}
gen refused 127.1
gen timeout 10.201

cat > "$tmp/guest.sh" <<'EOF'
set -u
T=$(dirname "$0")
DURATION=$1 WARMUP=$2 ONLY=$3 STRACE=${4:-}
ip link set lo up
ip link add d0 type dummy && ip link set d0 up && ip addr add 10.201.255.254/16 dev d0
ip addr add 127.0.2.1/32 dev lo
mkdir -p /tmp/www
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
for impl in $ONLY; do
    bin=$(command -v keepalived); [ "$impl" = ours ] && bin=$T/keepalived-rs
    for sc in refused timeout; do
        ipvsadm -C
        busybox httpd -f -p 127.0.2.1:80 -h /tmp/www &
        httpd=$!
        $bin -n -l -C -f "$T/$sc.conf" -p /tmp/ka.pid -c /tmp/ka-check.pid > "/tmp/$impl-$sc.log" 2>&1 &
        daemon=$!
        sleep "$WARMUP"
        child=$(cat /tmp/ka-check.pid 2>/dev/null)
        if [ -z "$child" ] || [ ! -d "/proc/$child" ]; then
            echo "RESULT $impl $sc no-checker-child"; tail -5 "/tmp/$impl-$sc.log"; kill "$daemon"; wait "$daemon"; continue
        fi
        t0=$(ticks "$child")
        if [ -n "$STRACE" ]; then
            timeout -s INT "$DURATION" strace -c -o "/tmp/strace-$impl-$sc" -p "$child" 2>/dev/null
            awk -v p="SYSCALLS $impl $sc" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ {printf "%s %s=%s\n", p, $NF, $4}' "/tmp/strace-$impl-$sc"
        else
            sleep "$DURATION"
        fi
        t1=$(ticks "$child")
        dests=$(ipvsadm -Ln | grep -c -- '-> [0-9]' || true)
        echo "RESULT $impl $sc ticks=$((t1 - t0)) rss_kb=$(kb "$child" VmRSS) hwm_kb=$(kb "$child" VmHWM) dests=$dests"
        if [ "$sc" = refused ]; then
            kill "$httpd"; wait "$httpd" 2>/dev/null; k0=$(ms)
            while ipvsadm -Ln -t 10.9.1.1:80 | grep -q 127.0.2.1; do
                [ $(( $(ms) - k0 )) -gt 15000 ] && break
                sleep 0.01
            done
            echo "RESULT $impl removal_ms=$(( $(ms) - k0 ))"
        fi
        kill "$httpd" 2>/dev/null; wait "$httpd" 2>/dev/null
        kill "$daemon"; wait "$daemon" 2>/dev/null
    done
done
EOF
tools="ipvsadm ip bash keepalived"; [ -n "$STRACE" ] && tools="$tools strace timeout"
out=$(IPVS_VM_TOOLS="$tools" "$VM" -t 900 -m 1024 -s "$tmp" -- \
    "bash $tmp/guest.sh $DURATION $WARMUP '$ONLY' '$STRACE'" 2>&1) || true
[ -n "${KEEP:-}" ] && { mkdir -p "$KEEP"; cp -r "$tmp"/* "$KEEP"/; printf '%s\n' "$out" > "$KEEP/guest.out"; }
echo "checker child, 1,000 real servers (10 VS x 100), TCP_CHECK delay_loop 1, connect_timeout 1, ${DURATION} s (emulated CPU: compare within this run)"
printf '%-8s %-8s %10s %10s %10s %6s\n' impl scenario ticks rss_kb hwm_kb dests
printf '%s\n' "$out" | tr -d '\r' | awk '/^RESULT/ && $3 != "" && $3 !~ /removal/ {
    split($4,a,"="); split($5,b,"="); split($6,c,"="); split($7,d,"=");
    printf "%-8s %-8s %10s %10s %10s %6s\n", $2, $3, a[2], b[2], c[2], d[2] }'
echo "death -> removal from IPVS (bound: delay_loop 1 s + connect_timeout 1 s + retry 1 x delay_before_retry 1 s = 3000 ms):"
printf '%s\n' "$out" | tr -d '\r' | awk '/^RESULT/ && $3 ~ /removal/ { split($3,a,"="); printf "  %-8s %6s ms\n", $2, a[2] }'
printf '%s\n' "$out" | tr -d '\r' | grep -E '^RESULT .* no-checker-child' -A5 || true
printf '%s\n' "$out" | tr -d '\r' | awk '/^SYSCALLS/ { k = $2 " " $3; s[k] = s[k] " " $4 } END { for (k in s) print "system calls over the window, " k ":" s[k] }' | sort
