#!/usr/bin/env python3
"""Regenerate fuzz/seeds/<target>/ from the sample configurations and the lab captures.

Run from the repository root: `python3 fuzz/gen-seeds.py`. Seeds are named by the SHA-1 of
their content (deduplicated); existing seed directories are replaced. Sources:
  * config_parse: crates/config/tests/data/samples/*, keepalived.conf.example;
  * wire_*, vrrp_engine, bfd_engine: crates/wire/tests/data/*.pcap (copies of the lab's
    shared/lab/pcaps), frames cut as each decoder takes them;
  * netlink_*: crates/netlink/testdata (ipvsadm's and keepalived's messages), plus kernel-style
    link/address/ack messages built here;
  * check_*: server answers written here.
"""
import glob
import hashlib
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
PER_TARGET = 60
seeds = {}


def add(target, data):
    d = seeds.setdefault(target, {})
    if len(d) < PER_TARGET:
        d.setdefault(hashlib.sha1(data).hexdigest()[:16], data)


def pcap_frames(path):
    b = open(path, "rb").read()
    magic, = struct.unpack("<I", b[:4])
    assert magic == 0xA1B2C3D4, path
    assert struct.unpack("<I", b[20:24])[0] == 1, "Ethernet link type"
    off = 24
    while off + 16 <= len(b):
        _, _, incl, _ = struct.unpack("<IIII", b[off:off + 16])
        yield b[off + 16:off + 16 + incl]
        off += 16 + incl


def ethertype(frame):
    et, off = struct.unpack(">H", frame[12:14])[0], 14
    while et == 0x8100:
        et, off = struct.unpack(">H", frame[off + 2:off + 4])[0], off + 4
    return et, frame[off:]


def vrrp_record(ctrl, pkt):
    return bytes([ctrl]) + struct.pack(">H", len(pkt)) + pkt


def pcaps():
    vrrp_runs, bfd_runs = {}, {}
    for path in sorted(glob.glob(os.path.join(ROOT, "crates/wire/tests/data/*.pcap"))):
        name = os.path.basename(path)
        for frame in pcap_frames(path):
            et, l3 = ethertype(frame)
            if et == 0x0806:
                add("wire_arp", frame)
            elif et == 0x0800:
                ipv4(name, l3, vrrp_runs, bfd_runs)
            elif et == 0x86DD:
                ipv6(name, l3, vrrp_runs, bfd_runs)
    for name, recs in vrrp_runs.items():
        for i in range(0, len(recs), 8):
            add("vrrp_engine", b"".join(recs[i:i + 8]))
    for name, recs in bfd_runs.items():
        for i in range(0, len(recs), 12):
            add("bfd_engine", b"".join(recs[i:i + 12]))


def ipv4(name, l3, vrrp_runs, bfd_runs):
    ihl = (l3[0] & 15) * 4
    total = struct.unpack(">H", l3[2:4])[0]
    dgram = l3[:total]
    proto = l3[9]
    if proto in (112, 51):
        add("wire_vrrp", dgram)
        if proto == 51:
            add("wire_ah", dgram)
        vrrp_runs.setdefault(name, []).append(vrrp_record(4, dgram))
    elif proto == 17:
        udp = dgram[ihl:]
        dport = struct.unpack(">H", udp[2:4])[0]
        if dport in (3784, 4784):
            payload = udp[8:]
            add("wire_bfd", payload)
            src = l3[12:16]
            who = 0 if src == bytes([198, 51, 100, 2]) else 2
            ctrl = 0x18 | who | (4 if dport == 4784 else 0)
            bfd_runs.setdefault(name + "4", []).append(bytes([ctrl, l3[8], len(payload)]) + payload)


def ipv6(name, l3, vrrp_runs, bfd_runs):
    plen = struct.unpack(">H", l3[4:6])[0]
    pkt = l3[:40 + plen]
    nh, payload = l3[6], pkt[40:]
    if nh == 0:  # hop-by-hop options (MLD reports): skip the extension header
        nh, payload = payload[0], payload[(payload[1] + 1) * 8:]
    if nh == 112:
        add("wire_vrrp", payload)
        vrrp_runs.setdefault(name, []).append(vrrp_record(5, payload))
    elif nh == 58 and payload[:1] == b"\x88":
        add("wire_ndisc", pkt)
        add("wire_ndisc", payload)
    elif nh == 17:
        dport = struct.unpack(">H", payload[2:4])[0]
        if dport in (3784, 4784):
            bfd = payload[8:]
            add("wire_bfd", bfd)
            src_frr = l3[8:24] == bytes.fromhex("20010db8000000000000000000000002")
            ctrl = 0x18 | (1 if src_frr else 2) | (4 if dport == 4784 else 0)
            bfd_runs.setdefault(name + "6", []).append(bytes([ctrl, l3[7], len(bfd)]) + bfd)


def configs():
    files = sorted(glob.glob(os.path.join(ROOT, "crates/config/tests/data/samples/*")))
    files.append(os.path.join(ROOT, "keepalived.conf.example"))
    for f in files:
        data = open(f, "rb").read()
        if len(data) <= 64 * 1024:
            add("config_parse", data)
    # The preprocessor's corners, one small file each.
    for text in [
        "$IF=eth0\nvrrp_instance V {\n interface $IF\n virtual_router_id 1\n priority 100\n"
        " virtual_ipaddress {\n  192.0.2.1/24\n }\n}\n",
        "@main global_defs {\n router_id a\n}\n@^main global_defs {\n router_id b\n}\n",
        "~SEQ(i,1,3)\nvrrp_instance V$i {\n interface eth0\n virtual_router_id $i\n}\n",
        "$M={\n priority 100\n}\nvrrp_instance V ${M}\n",
        "include /nonexistent/{a,b}/*.conf\nglobal_defs {\n random_seed 7\n}\n$R=${_RANDOM 1 9}\n",
    ]:
        add("config_parse", text.encode())


def nlmsg(kind, payload, flags=0, seq=1):
    return struct.pack("=IHHII", 16 + len(payload), kind, flags, seq, 0) + payload


def nla(kind, value):
    raw = struct.pack("=HH", 4 + len(value), kind) + value
    return raw + b"\0" * (-len(raw) % 4)


def netlink():
    link = struct.pack("=BxHiII", 0, 1, 3, 0x1043, 0) + nla(3, b"eth0\0") + nla(1, bytes(6)) \
        + nla(4, struct.pack("=I", 1500)) + nla(18, nla(1, b"macvlan\0") + nla(2, nla(1, struct.pack("=I", 4))))
    addr4 = struct.pack("=BBBBI", 2, 24, 0, 0, 3) + nla(2, bytes([192, 0, 2, 1])) + nla(1, bytes([192, 0, 2, 1])) \
        + nla(3, b"eth0:1\0")
    addr6 = struct.pack("=BBBBI", 10, 64, 0x80, 253, 3) + nla(1, bytes.fromhex("fe80" + "00" * 12 + "0001"))
    done = nlmsg(3, struct.pack("=i", 0), flags=2)
    err = nlmsg(2, struct.pack("=i", -17) + nlmsg(20, b"")[:16] + nla(1, b"File exists\0"), flags=0x300)
    add("netlink_route", nlmsg(16, link, flags=2) + nlmsg(20, addr4, flags=2) + nlmsg(20, addr6, flags=2) + done)
    add("netlink_route", nlmsg(16, link) + nlmsg(17, link) + nlmsg(21, addr4))
    add("netlink_route", err)
    add("netlink_route", nlmsg(2, struct.pack("=i", 0) + nlmsg(16, b"")[:16]))
    for f in sorted(glob.glob(os.path.join(ROOT, "crates/netlink/testdata/*vmac*.hex"))):
        add("netlink_route", hexfile(f))
    for f in sorted(glob.glob(os.path.join(ROOT, "crates/netlink/testdata/ipvs/*.hex"))):
        msgs = hexlines(f)
        if msgs:
            add("netlink_ipvs", b"".join(msgs) + done)
            add("netlink_ipvs", msgs[-1])
    # The controller's answer resolving IPVS (family id 0x20).
    ctrl = bytes([1, 2, 0, 0]) + nla(1, struct.pack("=H", 0x20)) + nla(2, b"IPVS\0")
    add("netlink_ipvs", nlmsg(0x10, ctrl) + nlmsg(2, struct.pack("=i", 0) + nlmsg(0x10, b"")[:16]))


def hexlines(path):
    out = []
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                out.append(bytes.fromhex(line))
            except ValueError:
                pass
    return out


def hexfile(path):
    return b"".join(hexlines(path))


def check():
    body = b"<html>healthy</html>\n"
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/html\r\n\r\n" % len(body) + body
    for ctrl, chunk in [(0, 255), (1, 7), (3, 0), (15, 30), (6, 100)]:
        add("check_http", bytes([ctrl, chunk]) + ok)
    add("check_http", bytes([9, 63]) + b"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n")
    add("check_http", bytes([2, 255]) + b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 5000 + b"healthy")
    add("check_http", bytes([1, 3]) + b"HTTP/1.1 200 OK\r\nContent-Length: +18446744073709551616\r\n\r\nabc")
    for chunk in [255, 0, 5]:
        add("check_smtp", bytes([chunk]) + b"220 mx ESMTP\r\n250 mx hello\r\n221 bye\r\n")
    add("check_smtp", bytes([255]) + b"220-mx first\r\n220 mx\r\n")
    add("check_smtp", bytes([40]) + b"220 " + b"x" * 700 + b"\r\n250 ok\r\n")
    dns = bytes.fromhex("1234818000010001000000000377777707657861"
                        "6d706c6503636f6d0000010001c00c000100010000003c00045db8d822")
    add("check_replies", dns)
    add("check_replies", bytes.fromhex("12348183000100000000000000"))
    add("check_replies", bytes([0, 0, 0, 0, 0, 1, 0, 7]) + b"keepalived check - " * 3)
    add("check_replies", bytes([129, 0, 0, 0, 0, 1, 0, 9]) + b"keepalived check - ")


def main():
    pcaps()
    configs()
    netlink()
    check()
    total = 0
    for target, files in sorted(seeds.items()):
        d = os.path.join(SEEDS, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in sorted(files.items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            total += len(data)
        print(f"{target}: {len(files)} seeds")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
