#!/bin/sh
# Run every cargo-fuzz target (or those named) for SECONDS each, one libFuzzer process at a time
# (no -jobs/-workers: a single in-process fuzzing loop, one core),
# and print the executions and executions per second of each, and whether it crashed.
#
#   bench/fuzz.sh SECONDS [TARGET...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Each target starts
# from fuzz/seeds/<target>/ and grows its own corpus in fuzz/corpus/<target>/ (not committed);
# a crash leaves its reproducer in fuzz/artifacts/<target>/: fix it, then copy the file to
# fuzz/regressions/<target>/ so the crate's tests/fuzz_corpus.rs replays it. Limits: 10 s per
# input (a hang), 2048 MB RSS, no single allocation over 512 MB (unbounded growth).
# Logs: target/fuzz-logs/<target>.log. Environment: FUZZ_TARGET_DIR (default target/fuzz),
# FUZZ_SANITIZER (default none: the crates under test forbid unsafe code, and AddressSanitizer
# costs 2-3x the executions; `address` to run with it).
set -eu
cd "$(dirname "$0")/.."
secs=${1:?usage: bench/fuzz.sh SECONDS [TARGET...]}
shift
targets=${*:-$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^keepalived-fuzz$')}
tdir=${FUZZ_TARGET_DIR:-$PWD/target/fuzz}
san=${FUZZ_SANITIZER:-none}
logs=target/fuzz-logs
mkdir -p "$logs"
for t in $targets; do
    cargo +nightly fuzz build -s "$san" --target-dir "$tdir" "$t" >/dev/null 2>"$logs/build.log" || {
        cat "$logs/build.log" >&2
        exit 1
    }
done
printf '%-16s %14s %10s %8s %s\n' target executions exec/s seconds result
status=0
for t in $targets; do
    mkdir -p "fuzz/corpus/$t"
    log="$logs/$t.log"
    if cargo +nightly fuzz run -s "$san" --target-dir "$tdir" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see $log, fuzz/artifacts/$t/)"
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    printf '%-16s %14s %10s %8s %s\n' "$t" "${runs:-?}" "${rate:-?}" "${took:-$secs}" "$result"
done
exit $status
