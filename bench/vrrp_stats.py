#!/usr/bin/env python3
"""Small analysis helper for the VRRP benchmarks (bench/vrrp-*.sh).

  vrrp_stats.py summary [LABEL]     stdin: one number per line ->
                                    "n median min p25 p75 max" (or "0 - - - - -")
  vrrp_stats.py intervals ADV_MS    stdin: `tcpdump -tt -nn -e` text of VRRP
                                    packets -> per stream (interface, source,
                                    vrid) lateness = inter-arrival - ADV_MS, in
                                    ms; prints "streams adverts p50 p99 max min
                                    expected_adverts_missing" where missing is
                                    the number of gaps >= 1.5 x ADV_MS
  vrrp_stats.py late ADV_MS          stdin: the same text -> "p50 p99 max over" of
                                    the same lateness, over = adverts more than
                                    1 ms late
  vrrp_stats.py senders             stdin: same tcpdump text -> "SRC count" for
                                    each source address of adverts with prio > 0

Percentiles are nearest-rank. Prints, asserts nothing.
"""
import math
import re
import sys


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def fmt(x):
    if isinstance(x, float) and math.isnan(x):
        return "-"
    if isinstance(x, float):
        return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x) < 1e6 else f"{x:.0f}"
    return str(x)


# tcpdump 4.99 lines, e.g. (capture on "any" -> SLL2, the interface is printed):
# 1764020000.123456 eth0  In  ifindex 2 02:00:00:00:00:01 ethertype IPv4 (0x0800), length 60: 10.0.0.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 1, prio 100, intvl 100cs, length 12
# 1764020000.123456 02:00:00:00:00:01 > 01:00:5e:00:00:12, ethertype IPv4 ..., length 60: 198.51.100.1 > 224.0.0.18: VRRPv3, ...
LINE = re.compile(r"^(\d+\.\d+)\s+(\S+)?.*?(\d+\.\d+\.\d+\.\d+|[0-9a-f:]+:[0-9a-f:]*) > \S+: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)")


def parse(lines):
    for line in lines:
        m = LINE.search(line)
        if not m:
            continue
        ts, ifc, src, vrid, prio = m.groups()
        yield float(ts), ifc or "", src, int(vrid), int(prio)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "summary"
    if mode == "summary":
        vals = sorted(float(x) for x in sys.stdin.read().split() if x.strip())
        if not vals:
            print("0 - - - - -")
            return
        print(" ".join(fmt(v) for v in [len(vals), pct(vals, 50), vals[0], pct(vals, 25), pct(vals, 75), vals[-1]]))
    elif mode == "intervals":
        adv = float(sys.argv[2])
        last = {}
        late = []
        gaps = 0
        for ts, ifc, src, vrid, prio in parse(sys.stdin):
            if prio == 0:
                continue
            key = (ifc, src, vrid)
            if key in last:
                d = (ts - last[key]) * 1000.0
                late.append(d - adv)
                if d >= 1.5 * adv:
                    gaps += 1
            last[key] = ts
        late.sort()
        print(len(last), len(late), fmt(pct(late, 50)), fmt(pct(late, 99)),
              fmt(late[-1] if late else float("nan")), fmt(late[0] if late else float("nan")), gaps)
    elif mode == "late":
        adv = float(sys.argv[2])
        last = {}
        late = []
        for ts, ifc, src, vrid, prio in parse(sys.stdin):
            if prio == 0:
                continue
            key = (ifc, src, vrid)
            if key in last:
                late.append((ts - last[key]) * 1000.0 - adv)
            last[key] = ts
        late.sort()
        over = sum(1 for x in late if x > 1.0)
        print(fmt(pct(late, 50)), fmt(pct(late, 99)), fmt(late[-1] if late else float("nan")), over)
    elif mode == "senders":
        count = {}
        for ts, ifc, src, vrid, prio in parse(sys.stdin):
            if prio > 0:
                count[src] = count.get(src, 0) + 1
        for src in sorted(count):
            print(src, count[src])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
