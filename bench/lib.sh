# Shared prologue of the side-by-side benchmark scripts (sourced, from the repository root):
# checks that we are root and that keepalived 2.2.7 and the named tools are there, and sets
# KA (keepalived 2.2.7) and OURS (keepalived-rs: $OURS if given, else a release build).
# Usage: . bench/lib.sh; bench_prologue [TOOL...]
bench_prologue() {
    [ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
    KA=/usr/sbin/keepalived
    [ -x "$KA" ] || { echo "$KA (keepalived 2.2.7) is missing" >&2; exit 1; }
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "$t is missing" >&2; exit 1; }
    done
    if [ -z "${OURS:-}" ]; then
        cargo build --release --locked -p keepalived >/dev/null 2>&1 || { echo "cargo build failed" >&2; exit 1; }
        OURS=${CARGO_TARGET_DIR:-$PWD/target}/release/keepalived
    fi
}
