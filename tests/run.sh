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
# The IPVS tests boot a throw-away kernel that has IPVS (shared/ipvs-vm): qemu,
# busybox, cpio, and ipvsadm (copied into the guest; also the reference tool).
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
command -v ipvsadm >/dev/null 2>&1 || need+=(ipvsadm)
# keepalived-alert's tests: a real SMTP server, and a certificate for STARTTLS.
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# HTTP_GET / SSL_GET tests: a real web server (its service is stopped below).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
# SMTP/DNS/UDP/PING_CHECK tests: a DNS server, a UDP echo/responder.
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
command -v socat >/dev/null 2>&1 || need+=(socat)
# keepalived.conf(5) lint (crates/config/tests/man_keywords.rs).
command -v groff >/dev/null 2>&1 || need+=(groff-base)
command -v mandoc >/dev/null 2>&1 || need+=(mandoc)
# Metrics (crates/keepalived/tests/metrics.rs): promtool and a real Prometheus server.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "tests/run.sh: missing ${need[*]} (run as root to install them)" >&2
    fi
fi
# keepalived, FRR and Prometheus are installed for their binaries only: when this script
# installed them, their services (started by the packages) are stopped. A
# keepalived or FRR that was already there may be serving this host (its
# VIPs): it is left alone; the tests use their own namespaces.
for svc in keepalived frr nginx-light prometheus; do
    case " ${need[*]:-} " in
        *" $svc "*) systemctl disable --now "${svc%-light}" >/dev/null 2>&1 || true ;;
    esac
done

# --no-fail-fast: one run reports every failing test binary, not only the first.
cargo test --workspace --locked --no-fail-fast "$@"

# The Debian package and `make install` (tests/package.sh): only for the
# whole suite, not when arguments select tests.
if [ "$#" -eq 0 ] && [ "$(id -u)" = 0 ] && [ -z "${KEEPALIVED_RS_SKIP_PACKAGE:-}" ]; then
    bash tests/package.sh
fi
