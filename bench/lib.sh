# Shared shapes of the side-by-side benchmark scripts (sourced, from the repository root).
#
# bench_prologue [TOOL...]: checks that we are root and that keepalived 2.2.7 and the named tools
# are there, and sets KA (keepalived 2.2.7) and OURS (keepalived-rs: $OURS if given, else a
# release build). Scripts that check in another order call its steps themselves.
# Usage: . bench/lib.sh; bench_prologue [TOOL...]
bench_prologue() {
    bench_root
    bench_ka
    bench_tools "$@"
    bench_ours
}

bench_root() {
    [ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
}

bench_ka() {   # sets KA; exits if keepalived 2.2.7 is not installed
    KA=/usr/sbin/keepalived
    [ -x "$KA" ] || { echo "$KA (keepalived 2.2.7) is missing" >&2; exit 1; }
}

bench_tools() {   # bench_tools TOOL...: exits if one is not on PATH
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "$t is missing" >&2; exit 1; }
    done
}

bench_ours() {   # sets OURS: as given, else a release build of this checkout
    if [ -z "${OURS:-}" ]; then
        cargo build --release --locked -p keepalived >/dev/null 2>&1 || { echo "cargo build failed" >&2; exit 1; }
        OURS=${CARGO_TARGET_DIR:-$PWD/target}/release/keepalived
    fi
}

# bench_find_up PATH: prints the first DIR/PATH that is executable, DIR going up from the parent of
# the current directory (the lab and the IPVS guest live beside the checkout or one of its
# parents); prints nothing when there is none.
bench_find_up() {
    local d=$PWD
    while [ "$d" != / ]; do
        d=$(dirname "$d")
        if [ -x "$d/$1" ]; then
            echo "$d/$1"
            return 0
        fi
    done
}

# bench_vm: sets VM to shared/ipvs-vm/run-in-vm.sh ($IPVS_VM_SCRIPT, else found beside the checkout
# or one of its parents); exits if there is none.
bench_vm() {
    VM=${IPVS_VM_SCRIPT:-}
    if [ -z "$VM" ]; then VM=$(bench_find_up shared/ipvs-vm/run-in-vm.sh); fi
    [ -n "$VM" ] || { echo "shared/ipvs-vm/run-in-vm.sh not found (set IPVS_VM_SCRIPT)" >&2; exit 1; }
}

# bench_netns_del NS...: deletes those of the named network namespaces that exist, after SIGKILL
# to every process left in them.
bench_netns_del() {
    local ns p
    for ns in "$@"; do
        [ -e "/run/netns/$ns" ] || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$ns"
    done
}

# bench_stop_pids PID...: stops daemons this shell started: SIGTERM to each, then up to 10 s
# for each to exit before SIGKILL. Empty arguments are skipped.
bench_stop_pids() {
    local p
    for p in "$@"; do
        if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
    done
    for p in "$@"; do
        [ -n "$p" ] || continue
        for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}

# bench_drop_tmp: removes $tmp, copied to $KEEP first when KEEP is set.
# shellcheck disable=SC2154   # tmp is the sourcing script's
bench_drop_tmp() {
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp -r "$tmp"/. "$KEEP"/; fi
    rm -rf "$tmp"
}

# The cleanup of the scripts that run keepalived 2.2.7 then keepalived-rs, each run TAG (ka, rs)
# in $tmp/TAG (tmp is KEEP when that is set) with its parent's pid file k.pid, in namespaces named
# $P$TAG (and $P$TAG$SUFFIX).
bench_kill_runs() {   # the parent of each run, by its pid file
    local t
    for t in ka rs; do
        if [ -f "$tmp/$t/k.pid" ]; then kill "$(cat "$tmp/$t/k.pid")" 2>/dev/null || true; fi
    done
}

bench_del_runs() {   # bench_del_runs SECS [SUFFIX...]: after SECS s, the namespaces, then $tmp unless KEEP
    local t s
    sleep "$1"
    shift
    for t in ka rs; do
        ip netns del "$P$t" 2>/dev/null || true
        for s in "$@"; do ip netns del "$P$t$s" 2>/dev/null || true; done
    done
    if [ -z "${KEEP:-}" ]; then rm -rf "$tmp"; fi
}
