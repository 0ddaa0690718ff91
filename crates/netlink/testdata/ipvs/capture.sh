#!/bin/bash
# Re-make the ipvsadm request captures of this folder (run on a host with
# shared/ipvs-vm set up and strace installed; the tests never run this).
# Each line of ops.txt: the setup is done with plain ipvsadm, then the
# command runs under `strace -e write=all`, whose hex dumps of every
# sendmsg are turned into NAME.hex: one sent netlink message per line,
# hex, with a comment naming the command. Every op starts from a clean
# state (ipvsadm -C, daemons stopped, default timeouts).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=${IPVS_VM_SCRIPT:-}
d=$here
while [ -z "$vm" ] && [ "$d" != / ]; do
    d=$(dirname "$d"); [ -x "$d/shared/ipvs-vm/run-in-vm.sh" ] && vm=$d/shared/ipvs-vm/run-in-vm.sh
done
raw=$(mktemp -d /tmp/ipvs-capture.XXXXXX)
cp "$here/ops.txt" "$raw/"
cat > "$raw/guest.sh" <<'GUEST'
ip link set lo up
cd "$1"
while IFS='|' read -r name setup cmd; do
    name=$(echo $name)
    case "$name" in ''|'#'*) continue;; esac
    ipvsadm -C; ipvsadm --stop-daemon master 2>/dev/null || true; ipvsadm --stop-daemon backup 2>/dev/null || true
    ipvsadm --set 900 120 300
    IFS=';' read -ra steps <<< "$setup"
    for s in "${steps[@]}"; do [ -n "${s// }" ] && ipvsadm $s; done
    echo "# ipvsadm$cmd" > "$name.raw"
    strace -o "$name.strace" -e trace=sendmsg -e write=all ipvsadm $cmd > "$name.out" 2>&1 || echo "FAILED $name"
done < ops.txt
GUEST
IPVS_VM_TOOLS="ipvsadm ip bash strace" "$vm" -s "$raw" -t 120 -- bash "$raw/guest.sh" "$raw" | tail -5
python3 - "$raw" "$here" <<'PY'
import re, sys, pathlib
raw, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for st in sorted(raw.glob('*.strace')):
    name = st.stem
    msgs, cur = [], None
    for line in st.read_text().splitlines():
        if line.startswith('sendmsg('):
            cur = []; msgs.append(cur)
        m = re.match(r'\s*\| [0-9a-f]{5}  ((?:[0-9a-f]{2} ?\s?)+)', line)
        if m and cur is not None:
            cur.append(''.join(m.group(1).split()))
    head = (raw / (name + '.raw')).read_text().strip()
    # keep the IPVS family's messages only (not the controller's, type 0x10)
    body = [''.join(m) for m in msgs if ''.join(m)[8:12] != '1000']
    (out / (name + '.hex')).write_text(head + '\n' + '\n'.join(body) + '\n')
PY
rm -rf "$raw"
