#!/usr/bin/env python3
"""Chaos benchmark (issue 16 item 3); run through bench/chaos.sh.

Three VRRP routers n1..n3 (priorities 150/100/50, advert_int 1, one VIP) and
a client on one bridge, each in its own network namespace. For DURATION
seconds, every 1-4 s a random router gets one of:
  kill -9 of its VRRP child (the parent respawns it),
  kill -9 of its parent (the child follows; the daemon is started again 3 s later),
  SIGSTOP of its VRRP child or its parent for 1-4 s, then SIGCONT,
while the client pings the VIP every 20 ms and a sampler reads every 50 ms
which routers hold the VIP. Figures: recoveries (the VIP held by exactly one
router again after a disturbance), the longest time with two routers holding
the VIP while neither is stopped ("two active masters") and in all, the
longest time with none, lost pings, and addresses left on any router after
every daemon was stopped with SIGTERM.

Usage: chaos.py CLUSTER DURATION OURS THEIRS WORKDIR
  CLUSTER: rs (three keepalived-rs), ka (three keepalived 2.2.7) or
  mixed (n1, n2 keepalived-rs, n3 keepalived 2.2.7).
"""
import os
import random
import signal
import subprocess
import sys
import threading
import time

VIP = "192.0.2.60"


def sh(cmd, check=False):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True).stdout


class Lab:
    def __init__(self, prefix, work):
        self.p = prefix
        self.work = work
        self.nodes = [f"{prefix}n{i}" for i in (1, 2, 3)]
        self.client = f"{prefix}c"
        self.sw = f"{prefix}sw"

    def up(self):
        sh(f"ip netns add {self.sw}; ip -n {self.sw} link add br0 type bridge; ip -n {self.sw} link set br0 up")
        for i, ns in enumerate(self.nodes + [self.client], start=1):
            sh(
                f"ip netns add {ns}; ip -n {ns} link add eth0 type veth peer name p{i} netns {self.sw};"
                f"ip -n {self.sw} link set p{i} master br0; ip -n {self.sw} link set p{i} up;"
                f"ip -n {ns} link set lo up; ip -n {ns} link set eth0 up;"
                f"ip -n {ns} addr add 198.51.100.{i}/24 dev eth0"
            )
        sh(f"ip -n {self.client} addr add 192.0.2.100/24 dev eth0")

    def down(self):
        for ns in self.nodes + [self.client, self.sw]:
            sh(f"ip netns del {ns}")

    def holders(self):
        out = []
        for ns in self.nodes:
            if f" {VIP}/" in sh(f"ip -n {ns} -o -4 addr show dev eth0"):
                out.append(ns)
        return out


CONF = """global_defs {{
    router_id {name}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 60
    priority {prio}
    advert_int 1
    virtual_ipaddress {{
        {vip}/24
    }}
}}
"""


class Router:
    def __init__(self, lab, idx, binary, conf=None):
        self.lab = lab
        self.ns = lab.nodes[idx]
        self.binary = binary
        self.dir = os.path.join(lab.work, self.ns)
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "keepalived.conf"), "w") as f:
            f.write((conf or CONF).format(name=self.ns, prio=150 - 50 * idx, vip=VIP))
        self.proc = None

    def pidfile(self, which):
        return os.path.join(self.dir, f"{which}.pid")

    def start(self):
        d = self.dir
        log = open(os.path.join(d, "daemon.log"), "a")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, self.binary, "-n", "-l", "-P", "-f", f"{d}/keepalived.conf",
             "-p", self.pidfile("k"), "-r", self.pidfile("v"), "-c", self.pidfile("c"), "-b", self.pidfile("b")],
            stdout=log, stderr=log)

    def pid(self, which):
        try:
            pid = int(open(self.pidfile(which)).read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main():
    cluster, duration, ours, theirs, work = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    binaries = {"rs": [ours] * 3, "ka": [theirs] * 3, "mixed": [ours, ours, theirs]}[cluster]
    lab = Lab(f"ch{os.getpid() % 10000}", work)
    lab.up()
    routers = [Router(lab, i, b) for i, b in enumerate(binaries)]
    for r in routers:
        r.start()
    deadline = time.time() + 15
    while time.time() < deadline and lab.holders() != [lab.nodes[0]]:
        time.sleep(0.1)
    stopped = set()  # namespaces with a stopped process
    lock = threading.Lock()
    samples = []  # (time, holders, stopped)
    done = threading.Event()

    def sampler():
        while not done.is_set():
            h = lab.holders()
            with lock:
                s = set(stopped)
            samples.append((time.time(), h, s))
            time.sleep(0.05)

    ping = subprocess.Popen(["ip", "netns", "exec", lab.client, "ping", "-q", "-i", "0.02", "-W", "0.2",
                             "-w", str(int(duration) + 5), VIP], stdout=subprocess.PIPE, text=True)
    t = threading.Thread(target=sampler)
    t.start()
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "1")))
    actions = []
    end = time.time() + duration
    while time.time() < end:
        time.sleep(rng.uniform(1, 4))
        r = rng.choice(routers)
        what = rng.choice(["kill child", "kill parent", "stop child", "stop parent"])
        pid = r.pid("v" if "child" in what else "k")
        if pid is None:
            continue
        actions.append((time.time(), r.ns, what))
        if what.startswith("kill"):
            os.kill(pid, signal.SIGKILL)
            if what == "kill parent":
                time.sleep(3)
                r.stop()
                r.start()
        else:
            with lock:
                stopped.add(r.ns)
            os.kill(pid, signal.SIGSTOP)
            time.sleep(rng.uniform(1, 4))
            os.kill(pid, signal.SIGCONT)
            with lock:
                stopped.discard(r.ns)
    time.sleep(5)
    done.set()
    t.join()
    out, _ = ping.communicate()
    sent = recv = 0
    for line in out.splitlines():
        if "packets transmitted" in line:
            parts = line.split()
            sent, recv = int(parts[0]), int(parts[3])
    for r in routers:
        r.stop()
    time.sleep(1)
    left = [ns for ns in lab.nodes if f" {VIP}/" in sh(f"ip -n {ns} -o -4 addr show")]
    lab.down()

    def longest(pred):
        best = cur_start = 0.0
        in_run = False
        for ts, h, s in samples:
            if pred(h, s):
                if not in_run:
                    cur_start, in_run = ts, True
                best = max(best, ts - cur_start)
            else:
                in_run = False
        return best

    two_active = longest(lambda h, s: len([x for x in h if x not in s]) >= 2)
    two_any = longest(lambda h, s: len(h) >= 2)
    none = longest(lambda h, s: len(h) == 0)
    recoveries = 0
    was_single = True
    for _, h, _ in samples:
        single = len(h) == 1
        if single and not was_single:
            recoveries += 1
        was_single = single
    print(f"{cluster:6} {len(actions):8} {recoveries:10} {two_active:17.2f} {two_any:14.2f} {none:13.2f} "
          f"{sent - recv:>7}/{sent:<6} {','.join(left) or 'none':>10}")


if __name__ == "__main__":
    main()
