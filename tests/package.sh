#!/usr/bin/env bash
# Package test (issue 15): builds the keepalived-rs Debian package with
# cargo-deb, requires lintian to report no error, installs the package into a
# throw-away Debian 12 root (debootstrap, cached as a tarball) and checks
# there, with the real tools, that:
#  - the maintainer scripts enabled keepalived.service as Debian's package
#    does (deb-systemd-helper's multi-user.target.wants link);
#  - `systemd-analyze verify` accepts the installed unit;
#  - the installed /usr/sbin/keepalived checks the sample configuration
#    (`keepalived -t`), and genhash is the same binary by name;
#  - purging removes the files and the enable link again.
# Then `make install` with DESTDIR/PREFIX is checked in a scratch directory.
# Nothing outside the throw-away root and the scratch directory changes.
#
# Usage: bash tests/package.sh   (root; installs cargo-deb, lintian,
# debootstrap and dpkg-dev when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PACKAGE_TEST_CACHE:-/var/cache/keepalived-rs-test}
MIRROR=${PACKAGE_TEST_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "tests/package.sh: must run as root" >&2; exit 1; }

step() { printf '\n== package: %s\n' "$*"; }
fail() { echo "tests/package.sh: FAIL: $*" >&2; exit 1; }

need=()
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
if [ "${#need[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cargo deb --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-deb

step "build (cargo deb)"
# (not `tee /dev/stderr`: reopening /dev/stderr truncates a log file it points at)
out=$(cargo deb -p keepalived --locked 2>&1) || { printf '%s\n' "$out" >&2; fail "cargo deb"; }
printf '%s\n' "$out"
deb=$(printf '%s\n' "$out" | tail -n 1)
[ -f "$deb" ] || fail "cargo deb did not produce a package ($deb)"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb"

step "lintian"
lintian --fail-on error --info "$deb" || fail "lintian reports errors"

step "throw-away Debian root"
scratch=$(mktemp -d /var/tmp/keepalived-rs-package.XXXXXX)
root=$scratch/root
cleanup() {
    umount "$root/proc" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT
mkdir -p "$root" "$CACHE"
tarball=$CACHE/bookworm-minbase-systemd-man.tar
if [ ! -s "$tarball" ]; then
    debootstrap --variant=minbase --include=systemd,iproute2,procps,man-db bookworm "$root" "$MIRROR" >"$scratch/debootstrap.log" 2>&1 ||
        { tail -20 "$scratch/debootstrap.log" >&2; fail "debootstrap"; }
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
else
    tar -C "$root" -xf "$tarball"
fi
mount -t proc proc "$root/proc"
in_root() { chroot "$root" "$@"; }

step "install"
cp "$deb" "$root/tmp/pkg.deb"
in_root dpkg -i /tmp/pkg.deb || fail "dpkg -i"
in_root dpkg -s keepalived-rs | grep -E '^(Status|Provides|Conflicts|Replaces):'
[ -L "$root/etc/systemd/system/multi-user.target.wants/keepalived.service" ] ||
    fail "keepalived.service was not enabled by the maintainer scripts"
echo "enabled: $(readlink "$root/etc/systemd/system/multi-user.target.wants/keepalived.service")"

step "systemd-analyze verify"
in_root systemd-analyze verify /lib/systemd/system/keepalived.service || fail "systemd-analyze verify"

step "keepalived -t on the sample"
in_root /usr/sbin/keepalived --version 2>&1 | head -n 1
# The sample names eth0; -t is run with the sample's interface replaced by
# one that exists here, as a user would edit it.
ifname=$(ip -o link show | awk -F': ' '$2 != "lo" {print $2; exit}')
ifname=${ifname%%@*}
sed "s/^\$IF=eth0/\$IF=${ifname:-lo}/" "$root/etc/keepalived/keepalived.conf.sample" >"$root/tmp/sample.conf"
in_root /usr/sbin/keepalived -t -f /tmp/sample.conf || fail "keepalived -t rejects the sample (exit $?)"
[ "$(readlink -f "$root/usr/bin/genhash")" = "$root/usr/sbin/keepalived" ] || fail "genhash is not keepalived"
in_root genhash --help >/dev/null 2>&1 || in_root genhash -h >/dev/null 2>&1 || true

step "purge"
in_root dpkg --purge keepalived-rs || fail "dpkg --purge"
[ ! -e "$root/usr/sbin/keepalived" ] || fail "purge left /usr/sbin/keepalived"
[ ! -L "$root/etc/systemd/system/multi-user.target.wants/keepalived.service" ] || fail "purge left the enable link"

step "make install"
make -s install PREFIX=/usr DESTDIR="$scratch/destdir" TARGET_DIR="${CARGO_TARGET_DIR:-target}" >/dev/null
for f in usr/sbin/keepalived usr/bin/genhash usr/share/man/man8/keepalived.8 usr/share/man/man1/genhash.1 usr/share/man/man5/keepalived.conf.5 \
    usr/lib/systemd/system/keepalived.service etc/keepalived/keepalived.conf.sample; do
    [ -e "$scratch/destdir/$f" ] || fail "make install did not install /$f"
done
grep -q '^ExecStart=/usr/sbin/keepalived ' "$scratch/destdir/usr/lib/systemd/system/keepalived.service" ||
    fail "make install: ExecStart does not point at the installed binary"
make -s install PREFIX=/opt/ka DESTDIR="$scratch/destdir2" TARGET_DIR="${CARGO_TARGET_DIR:-target}" >/dev/null
grep -q '^ExecStart=/opt/ka/sbin/keepalived ' "$scratch/destdir2/opt/ka/lib/systemd/system/keepalived.service" ||
    fail "make install PREFIX=/opt/ka: ExecStart not rewritten"
[ "$(readlink "$scratch/destdir2/opt/ka/bin/genhash")" = "../sbin/keepalived" ] || fail "make install: genhash link"
echo "package test: all checks passed"
