#!/usr/bin/env python3
"""A 10 ms VRRP cluster under CPU load (issue 18 item 2); run through bench/vrrp-10ms.sh.

Three routers n1..n3 (priorities 150/100/50, VRRPv3, advert_int 0.01, one VIP) and a
listener on one bridge, each in its own network namespace (the chaos benchmark's lab). The
listener captures every advert with kernel timestamps (tcpdump), so each figure below is
read off the wire, not off a daemon's log.

1. Hold: once n1 is master, `stress-ng --cpu N` loads every core for DURATION seconds.
   Figures: state transitions the daemons log in that time (expected 0), adverts sent by
   a router other than n1 (a backup that declared the master down), and the gaps between
   n1's adverts (p50/p99/max; a backup declares the master down after 3 intervals plus
   its skew, 36.1 ms for n2).
2. Failover, still under load, TRIALS times each: SIGKILL of n1's parent and VRRP child
   (n2 must take over after its Master_Down_Interval, 3 x 10 ms + 6.1 ms, RFC 5798
   section 6.4.2), and SIGTERM of n1's parent (n1 sends priority 0 and n2 must take over
   after its Skew_Time, 6.1 ms, section 6.4.2). Figure: from n1's last advert (SIGKILL)
   or its priority-0 advert (SIGTERM) to n2's first advert, median and max.

Usage: vrrp-10ms.py IMPL BINARY DURATION TRIALS WORKDIR   (IMPL: a label for the table)
Environment: RT_PRIORITY (adds `vrrp_rt_priority N` to global_defs; unset: none).
"""
import os
import signal
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos import VIP, Lab, Router, sh  # noqa: E402

ADVERT = 0.010
# RFC 5798 section 6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
SKEW_N2 = (256 - 100) * ADVERT / 256
DOWN_N2 = 3 * ADVERT + SKEW_N2
N1, N2 = "198.51.100.1", "198.51.100.2"

CONF = """global_defs {{
    router_id {name}
    vrrp_version 3
%(rt)s}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {prio}
    advert_int 0.01
    virtual_ipaddress {{
        {vip}/24
    }}
}}
"""


def adverts(pcap):
    """(time, source, priority) of every VRRP packet in a tcpdump capture (Ethernet, IPv4)."""
    out = []
    with open(pcap, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 14 + 20 + 4 or pkt[12:14] != b"\x08\x00" or pkt[14 + 9] != 112:
            continue
        ihl = (pkt[14] & 15) * 4
        src = ".".join(str(b) for b in pkt[14 + 12:14 + 16])
        prio = pkt[14 + ihl + 2]
        out.append((sec + frac / (1e9 if nano else 1e6), src, prio))
    return out


def transitions(router, since):
    """'Entering ... STATE' lines the router logged after byte offset `since`."""
    with open(os.path.join(router.dir, "daemon.log"), errors="replace") as f:
        f.seek(since)
        return sum(1 for line in f if "Entering" in line and "STATE" in line)


def log_size(router):
    try:
        return os.path.getsize(os.path.join(router.dir, "daemon.log"))
    except OSError:
        return 0


def wait_master(lab, ns, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if lab.holders() == [ns]:
            return True
        time.sleep(0.05)
    return False


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def capture(lab, path):
    p = subprocess.Popen(["ip", "netns", "exec", lab.client, "tcpdump", "-i", "eth0", "-nn", "-U", "-s", "128",
                          "--time-stamp-precision=nano", "-w", path, "ip proto 112"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return p


def hold(lab, routers, duration, work):
    """Phase 1: n1 master for `duration` s with every core busy."""
    pcap = os.path.join(work, "hold.pcap")
    cap = capture(lab, pcap)
    since = [log_size(r) for r in routers]
    stress = subprocess.Popen(["stress-ng", "--cpu", str(os.cpu_count()), "--timeout", f"{int(duration)}s", "-q"])
    stress.wait()
    cap.send_signal(signal.SIGINT)
    cap.wait()
    trans = sum(transitions(r, s) for r, s in zip(routers, since))
    ads = adverts(pcap)
    n1 = [t for t, src, prio in ads if src == N1 and prio > 0]
    gaps = [(b - a) * 1000 for a, b in zip(n1, n1[1:])]
    foreign = sum(1 for _, src, _ in ads if src != N1)
    late = sum(1 for g in gaps if g > DOWN_N2 * 1000)
    return trans, len(n1), foreign, gaps, late


def failover(lab, routers, sig, work, k):
    """Phase 2: one SIGKILL or SIGTERM of n1 under load; ms from n1's last advert to n2's first."""
    n1 = routers[0]
    pcap = os.path.join(work, f"failover-{sig}-{k}.pcap")
    cap = capture(lab, pcap)
    time.sleep(0.5)
    if sig == "KILL":
        # A node that dies says nothing: stop both processes first, so that neither the child
        # (parent-death signal: a clean shutdown with a priority-0 advert) nor the parent (respawn)
        # can react to the other's death, then kill them.
        pids = [p for p in (n1.pid("v"), n1.pid("k")) if p]
        for sig_ in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                os.kill(pid, sig_)
    else:
        os.kill(n1.pid("k"), signal.SIGTERM)
    time.sleep(2)
    cap.send_signal(signal.SIGINT)
    cap.wait()
    ads = adverts(pcap)
    n2_first = next((t for t, src, _ in ads if src == N2), None)
    # SIGKILL: from n1's last advert; SIGTERM: from its priority-0 one.
    before = [t for t, src, prio in ads
              if src == N1 and (sig == "KILL" or prio == 0) and (n2_first is None or t <= n2_first)]
    took = (n2_first - before[-1]) * 1000 if n2_first is not None and before else float("nan")
    print(f"  {sig} trial {k}: {took:.1f} ms ({len(ads)} adverts captured)", file=sys.stderr)
    # Back to the start: n1 running again and master (it preempts at priority 150).
    n1.stop()
    sh(f"ip -n {lab.nodes[0]} addr del {VIP}/24 dev eth0")
    n1.start()
    wait_master(lab, lab.nodes[0])
    time.sleep(1)
    return took


def main():
    impl, binary, duration, trials, work = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rt = os.environ.get("RT_PRIORITY")
    conf = CONF % {"rt": f"    vrrp_rt_priority {rt}\n" if rt else ""}
    lab = Lab(f"t10{os.getpid() % 1000}", work)
    lab.up()
    routers = [Router(lab, i, binary, conf) for i in range(3)]
    try:
        for r in routers:
            r.start()
        if not wait_master(lab, lab.nodes[0]):
            print(f"{impl}: n1 never became the only master", file=sys.stderr)
            return 1
        time.sleep(2)
        trans, sent, foreign, gaps, late = hold(lab, routers, duration, work)
        stress = subprocess.Popen(["stress-ng", "--cpu", str(os.cpu_count()), "-q"])
        try:
            kills = [failover(lab, routers, "KILL", work, k) for k in range(trials)]
            terms = [failover(lab, routers, "TERM", work, k) for k in range(trials)]
        finally:
            stress.terminate()
            stress.wait()
    finally:
        for r in routers:
            r.stop()
        lab.down()
    print(f"{impl:<14} {trans:>11} {foreign:>14} {sent:>9} {quantile(gaps, .5):>6.2f} {quantile(gaps, .99):>6.2f} "
          f"{max(gaps, default=float('nan')):>7.2f} {late:>6} "
          f"{statistics.median(kills):>7.1f} {max(kills):>7.1f} {statistics.median(terms):>7.1f} {max(terms):>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
