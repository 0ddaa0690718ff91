#!/bin/bash
# Runs the pathological configuration cases of issue 16 (item 1) against a
# keepalived binary's `-t` and prints one line per case: exit status (or
# signal), elapsed time, and the last line of its output.
#
#   tools/config-limits.sh [BINARY] [TIMEOUT_S] [AS_LIMIT_BYTES]
#
# Defaults: /usr/sbin/keepalived, 20 s, 2 GiB address space (prlimit --as),
# so a runaway ends as a failed allocation instead of taking the machine down.
set -u
BIN=${1:-/usr/sbin/keepalived}
TMO=${2:-20}
AS=${3:-2147483648}
W=$(mktemp -d /tmp/cfglimits.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

mk() { mkdir -p "$W/$1"; }

# 1. include cycles
mk self;   echo 'include main.conf' > self/main.conf
mk mutual; echo 'include b.conf' > mutual/main.conf; echo 'include main.conf' > mutual/b.conf
mk globc;  echo 'include *.conf' > globc/main.conf
mk deep;   for i in $(seq 0 299); do echo "include f$((i+1)).conf" > deep/f$i.conf; done
           echo 'global_defs { router_id deep }' > deep/f300.conf; cp deep/f0.conf deep/main.conf
mk deep2k; for i in $(seq 0 1999); do echo "include f$((i+1)).conf" > deep2k/f$i.conf; done
           echo 'global_defs { router_id deep }' > deep2k/f2000.conf; cp deep2k/f0.conf deep2k/main.conf
# 2. parameter expansion
mk defself;  printf '$A=$A\nglobal_defs {\n router_id $A\n}\n' > defself/main.conf
mk defmut;   printf '$A=$B\n$B=$A\nglobal_defs {\n router_id $A\n}\n' > defmut/main.conf
mk defexp;   { echo '$D0=x x'; for i in $(seq 1 40); do echo "\$D$i=\$D$((i-1)) \$D$((i-1))"; done
               printf 'global_defs {\n router_id $D40\n}\n'; } > defexp/main.conf
mk defml;    printf '$M=global_defs { \\\n router_id x \\\n}\n$M\n' > defml/main.conf
mk defmlself; printf '$M=router_id x \\\n$M\n\nglobal_defs {\n$M\n}\n' > defmlself/main.conf
# 3. ~SEQ / ~LST
mk seqhuge;  printf 'global_defs {\n~SEQ(i,0,1,4000000000) router_id r$i\n}\n' > seqhuge/main.conf
mk seqzero;  printf 'global_defs {\n~SEQ(i,0,0,10) router_id r$i\n}\n' > seqzero/main.conf
mk seqneg;   printf 'global_defs {\n~SEQ(i,0,-1,10) router_id r$i\n}\n' > seqneg/main.conf
mk seqnest;  printf 'global_defs {\n~SEQ(i,1,100000) ~SEQ(j,1,100000) router_id r$i$j\n}\n' > seqnest/main.conf
mk lstnest;  printf 'global_defs {\n~LST(i,a,b,c) ~SEQ(j,1,4000000000) router_id r$i$j\n}\n' > lstnest/main.conf
# 4. nesting, long lines, long tokens
mk braces;   { echo 'global_defs {'; for i in $(seq 1 100000); do echo '{'; done; } > braces/main.conf
mk bracesvs; { echo 'virtual_server 10.0.0.1 80 {'; for i in $(seq 1 100000); do echo 'real_server 10.0.0.2 80 {'; done; } > bracesvs/main.conf
mk longline; { echo 'global_defs {'; head -c 10000000 /dev/zero | tr '\0' 'a'; echo; echo '}'; } > longline/main.conf
mk longtok;  { echo 'global_defs {'; printf ' router_id '; head -c 1000 /dev/zero | tr '\0' 'b'; echo; echo '}'; } > longtok/main.conf
mk bigfile;  { echo 'global_defs {'; for i in $(seq 1 200000); do echo ' router_id abcdefghijklmnopqrstuvwxyz'; done; echo '}'; } > bigfile/main.conf
# 5. non-UTF-8 and NUL bytes
mk nonutf8;  printf 'global_defs {\n router_id \xff\xfe\x80\n rout\xe9r_id x\n notification_email_from "a\xc3\x28b"\n}\n' > nonutf8/main.conf
mk nul;      printf 'global_defs {\n router_id a\0b\n rou\0ter_id x\n notification_email_from "a\0b"\n}\n' > nul/main.conf
# 6. special files
mk fifo;     mkfifo fifo/pipe.conf; echo 'include pipe.conf' > fifo/main.conf
mk devzero;  echo 'include /dev/zero' > devzero/main.conf
mk urandom;  echo 'include /dev/urandom' > urandom/main.conf
mk procmem;  echo 'include /proc/self/mem' > procmem/main.conf
mk kcore;    echo 'include /proc/kcore' > kcore/main.conf
mk sparse;   truncate -s 100G sparse/huge.conf; echo "include huge.conf" > sparse/main.conf
# 7. globs
mk gbraces;  { printf 'include '; for i in $(seq 1 40); do printf '{a,b}'; done; echo; } > gbraces/main.conf
mk gstars;   : > "gstars/$(head -c 200 /dev/zero | tr '\0' a)"; { printf 'include '; for i in $(seq 1 30); do printf '*a'; done; echo '*b'; } > gstars/main.conf
mk gmany;    mkdir gmany/c; for i in $(seq 0 9); do ln -s . gmany/c/l$i; done; echo 'include c/*/*/*/*/*/*.conf' > gmany/main.conf
mk incdir;   mkdir incdir/sub; echo 'include sub' > incdir/main.conf
mk incdirs;  mkdir incdirs/sub; echo 'include sub/' > incdirs/main.conf

run() { # name config-path
    local start end rc sig res n last
    start=$(date +%s.%N)
    # Output can be huge (one message per 1023-byte piece of a long line):
    # awk keeps the line count and the last non-empty line only.
    res=$( (cd "$(dirname "$2")" && timeout -s KILL "$TMO" prlimit --as="$AS" -- "$BIN" -t -f "$2" 2>&1; echo "RC=$?") \
        | LC_ALL=C tr -d '\000' | LC_ALL=C awk '/^RC=/ {rc=substr($0,4); next} /./ {n++; last=$0} END {print rc; print n+0; print substr(last,1,160)}')
    end=$(date +%s.%N)
    rc=$(sed -n 1p <<<"$res"); n=$(sed -n 2p <<<"$res")
    last=$(sed -n 3p <<<"$res" | LC_ALL=C tr -c '[:print:]\n' '?')
    sig=""
    if [ "$rc" -gt 128 ]; then sig=" (signal $((rc-128)))"; fi
    [ "$rc" = 137 ] && sig=" (SIGKILL: ${TMO}s timeout)"
    printf '%-12s | exit %s%s | %.1fs | %s lines, last: %s\n' "$1" "$rc" "$sig" "$(echo "$end - $start" | bc -l)" "$n" "$last"
}

exec 2>/dev/null  # bash job notices of killed runs
CASES="self mutual globc deep deep2k defself defmut defexp defml defmlself seqhuge seqzero seqneg seqnest lstnest braces bracesvs longline longtok bigfile nonutf8 nul fifo devzero urandom procmem kcore sparse incdir incdirs gbraces gstars gmany"
for c in ${ONLY:-$CASES}; do run "$c" "$W/$c/main.conf"; done
# The main file itself a special file
run main-fifo "$W/fifo/pipe.conf"
run main-devzero /dev/zero
run main-kcore /proc/kcore
