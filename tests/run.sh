#!/usr/bin/env bash
# The keepalived-rs test suite: installs what the tests use (idempotent),
# then runs every test of the workspace. Tests that need root and network
# namespaces create their own (unshare -n) and clean up after themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v keepalived >/dev/null 2>&1 || [ -x /usr/sbin/keepalived ] || need+=(keepalived)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v timeout >/dev/null 2>&1 || need+=(coreutils)
[ -x /usr/bin/time ] || need+=(time)
# Peers and tools of the VRRP-on-Linux tests: FRR vrrpd, captures, nftables.
[ -x /usr/lib/frr/vrrpd ] || need+=(frr)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# keepalived-alert's tests: a real SMTP server, and a certificate for STARTTLS.
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "tests/run.sh: missing ${need[*]} (run as root to install them)" >&2
    fi
fi
# keepalived and FRR are installed for their binaries only; never leave them running.
systemctl disable --now keepalived >/dev/null 2>&1 || true
systemctl disable --now frr >/dev/null 2>&1 || true

cargo test --workspace --locked "$@"
