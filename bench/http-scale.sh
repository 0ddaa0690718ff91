#!/usr/bin/env bash
# Benchmark: the checker child with N real servers (default 2,000; virtual
# servers of 100) checked by HTTP_GET, then by SSL_GET, at delay_loop 1
# against a local nginx, keepalived 2.2.7 and keepalived-rs side by side in
# one run, in the IPVS guest (shared/ipvs-vm: this host's kernel has no
# IPVS; the guest's CPU is emulated, so compare figures only within one
# run).
#
# Usage: [N=2000] [SSL_N=$N] [DURATION=30] [WARMUP=5] [ONLY="theirs ours"]
#        [SCENARIOS="http ssl"] [OURS=path] [KEEP=dir] bench/http-scale.sh
#
# The real servers are 127.3.x.y: one nginx (one worker, nginx-light from
# the host) listens on the wildcard address, port 80 plain and 443 with a
# self-signed P-256 certificate made here by openssl; every check answers
# 200 with a short body. SSL_N may be set lower than N: a TLS handshake
# per check costs the emulated guest far more than a plain GET.
# Figures: the checker child's CPU ticks (utime+stime, USER_HZ) over
# DURATION s after WARMUP s, its VmRSS and VmHWM at the end, and the
# requests nginx served in that window (N x DURATION when the checks keep
# up with delay_loop). Asserts nothing; prints both implementations'
# figures.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
SSL_N=${SSL_N:-$N}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
ONLY=${ONLY:-theirs ours}
SCENARIOS=${SCENARIOS:-http ssl}
. bench/lib.sh
bench_root
command -v nginx >/dev/null || { echo "SKIP: nginx not installed (apt-get install nginx-light)" >&2; exit 0; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed" >&2; exit 0; }
bench_ours
bench_vm
tmp=$(mktemp -d /tmp/bench-http-scale.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$OURS" "$tmp/keepalived-rs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=bench -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

gen() {   # gen NAME CHECKER PORT COUNT
    local name=$1 checker=$2 port=$3 n=$4 v r
    {
        echo "global_defs { router_id bench }"
        for v in $(seq 0 $(((n + 99) / 100 - 1))); do
            echo "virtual_server 10.9.$((v / 250)).$((v % 250 + 1)) $port {"
            echo "  delay_loop 1"
            echo "  lb_algo rr"
            echo "  lb_kind NAT"
            echo "  protocol TCP"
            for r in $(seq 0 $((n - v * 100 > 100 ? 99 : n - v * 100 - 1))); do
                echo "  real_server 127.3.$v.$((r + 1)) $port {"
                echo "    $checker { url { path / status_code 200 } connect_timeout 1 retry 1 delay_before_retry 1 }"
                echo "  }"
            done
            echo "}"
        done
    } > "$tmp/$name.conf"
}
gen http HTTP_GET 80 "$N"
gen ssl SSL_GET 443 "$SSL_N"

cat > "$tmp/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 16384;
pid /tmp/nginx/nginx.pid;
error_log /tmp/nginx/error.log;
events { worker_connections 8192; }
http {
    access_log /tmp/nginx/access.log;
    client_body_temp_path /tmp/nginx/body;
    proxy_temp_path /tmp/nginx/proxy;
    fastcgi_temp_path /tmp/nginx/fastcgi;
    uwsgi_temp_path /tmp/nginx/uwsgi;
    scgi_temp_path /tmp/nginx/scgi;
    server {
        listen 80 backlog=4096;
        listen 443 ssl backlog=4096;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        location / { return 200 "bench\n"; }
    }
}
EOF

cat > "$tmp/guest.sh" <<'EOF'
set -u
T=$(dirname "$0")
DURATION=$1 WARMUP=$2 ONLY=$3 SCENARIOS=$4
ip link set lo up
echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd
echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >> /etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > /etc/group
mkdir -p /tmp/nginx /var/log/nginx /var/lib/nginx
ulimit -n 16384
nginx -e /tmp/nginx/error.log -c "$T/nginx.conf" -g 'daemon off;' &
ngx=$!
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
lines() { wc -l < /tmp/nginx/access.log; }
for impl in $ONLY; do
    bin=$(command -v keepalived); [ "$impl" = ours ] && bin=$T/keepalived-rs
    for sc in $SCENARIOS; do
        ipvsadm -C
        $bin -n -l -C -f "$T/$sc.conf" -p /tmp/ka.pid -c /tmp/ka-check.pid > "/tmp/$impl-$sc.log" 2>&1 &
        daemon=$!
        sleep "$WARMUP"
        child=$(cat /tmp/ka-check.pid 2>/dev/null)
        if [ -z "$child" ] || [ ! -d "/proc/$child" ]; then
            echo "RESULT $impl $sc no-checker-child"; tail -5 "/tmp/$impl-$sc.log"; kill "$daemon"; wait "$daemon"; continue
        fi
        t0=$(ticks "$child"); r0=$(lines); sleep "$DURATION"; t1=$(ticks "$child"); r1=$(lines)
        dests=$(ipvsadm -Ln | grep -c -- '-> [0-9]' || true)
        echo "RESULT $impl $sc ticks=$((t1 - t0)) rss_kb=$(kb "$child" VmRSS) hwm_kb=$(kb "$child" VmHWM) requests=$((r1 - r0)) dests=$dests"
        kill "$daemon"; wait "$daemon" 2>/dev/null
        cp "/tmp/$impl-$sc.log" "$T/" 2>/dev/null
    done
done
kill "$ngx"; wait "$ngx" 2>/dev/null
tail -3 /tmp/nginx/error.log | sed 's/^/NGINX /'
EOF
out=$(IPVS_VM_TOOLS="ipvsadm ip bash keepalived nginx" "$VM" -t 900 -m 1024 -s "$tmp" -- \
    "bash $tmp/guest.sh $DURATION $WARMUP '$ONLY' '$SCENARIOS'" 2>&1) || true
[ -n "${KEEP:-}" ] && { mkdir -p "$KEEP"; cp -r "$tmp"/* "$KEEP"/; printf '%s\n' "$out" > "$KEEP/guest.out"; }
echo "checker child, HTTP_GET x $N / SSL_GET x $SSL_N real servers (VS of 100) at delay_loop 1 against one local nginx, ${DURATION} s (emulated CPU: compare within this run)"
printf '%-8s %-8s %10s %10s %10s %10s %6s\n' impl scenario ticks rss_kb hwm_kb requests dests
printf '%s\n' "$out" | tr -d '\r' | awk '/^RESULT/ && $3 != "" && $4 ~ /ticks/ {
    split($4,a,"="); split($5,b,"="); split($6,c,"="); split($7,d,"="); split($8,e,"=");
    printf "%-8s %-8s %10s %10s %10s %10s %6s\n", $2, $3, a[2], b[2], c[2], d[2], e[2] }'
printf '%s\n' "$out" | tr -d '\r' | grep -E '^(LOG|NGINX) ' || true
printf '%s\n' "$out" | tr -d '\r' | grep -E '^RESULT .* no-checker-child' -A5 || true
