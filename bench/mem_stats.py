#!/usr/bin/env python3
"""Memory helper for bench/memory.sh.

  mem_stats.py sample TAG PID...   one line per field of each process:
                                   "TAG field value_kib" (TAG names the
                                   implementation, scenario and process)
  mem_stats.py table FILE          FILE: the sample lines of every run ->
                                   medians per TAG and field, printed as
                                   side-by-side tables
  mem_stats.py folios PATH...      how each file sits in the page cache:
                                   folios by size (needs root: kpageflags)
  mem_stats.py recache PATH...     drop each file from the page cache (if
                                   nothing maps it) and read it back one
                                   4 KiB page at a time (order-0 folios)

Linux 6.18 maps a whole large folio of a file at a page fault: a program
written by cp or a package manager on this kernel is cached in folios of
up to 128 KiB and each fault then maps up to that much of its text, where
a program cached in 4 KiB pages maps 64 KiB (fault-around). `folios` shows
which case a binary is in; memory.sh prints it for both daemons.

Fields: VmRSS, RssAnon, RssFile (from /proc/PID/status), Pss (smaps_rollup)
and, from /proc/PID/smaps, Rss of each kind of mapping:
  exe_code  the program's executable mapping (text)
  exe_ro    the program's read-only mappings (rodata, unwind tables, and the
            relocated .data.rel.ro once RELRO made it read-only)
  exe_rw    the program's writable mappings (.data, .bss)
  lib_code  shared libraries' text (libc, and keepalived's libssl etc.)
  lib_other shared libraries' read-only and writable mappings
  heap      anonymous memory ([heap], malloc's mmaps, other anonymous)
  stack     [stack]
plus the same with a p prefix for Pss (pexe_code, ..., pheap).
Prints, asserts nothing.
"""
import collections
import mmap
import os
import statistics
import struct
import sys

KINDS = ["exe_code", "exe_ro", "exe_rw", "lib_code", "lib_other", "heap", "stack"]


def status_fields(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1])
    return out


def kind_of(perms, path, exe):
    if path == "[stack]":
        return "stack"
    if path == "" or path == "[heap]" or path.startswith("[anon"):
        return "heap"
    if path.startswith("["):  # vdso, vvar
        return None
    if path == exe:
        return "exe_code" if "x" in perms else ("exe_rw" if "w" in perms else "exe_ro")
    return "lib_code" if "x" in perms else "lib_other"


def smaps_fields(pid):
    exe = os.readlink(f"/proc/{pid}/exe")
    out = {k: 0 for k in KINDS}
    out.update({"p" + k: 0 for k in KINDS})
    kind = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if not head:
                continue
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                path = line.split(None, 5)[5].strip() if len(head) >= 6 else ""
                kind = kind_of(head[1], path, exe)
            elif kind and head[0] == "Rss:":
                out[kind] += int(head[1])
            elif kind and head[0] == "Pss:":
                out["p" + kind] += int(head[1])
    return out


def sample(tag, pids):
    for pid in pids:
        try:
            fields = status_fields(pid)
            fields.update(smaps_fields(pid))
        except OSError:
            continue
        for k, v in fields.items():
            print(f"{tag} {k} {v}")


def mib(kib):
    return f"{kib / 1024:.2f}"


def table(path):
    runs = {}
    order = []
    with open(path) as f:
        for line in f:
            tag, field, value = line.split()
            if tag not in runs:
                runs[tag] = {}
                order.append(tag)
            runs[tag].setdefault(field, []).append(int(value))
    med = {t: {k: statistics.median(v) for k, v in fs.items()} for t, fs in runs.items()}
    nruns = {t: max(len(v) for v in fs.values()) for t, fs in runs.items()}
    # tag = impl/scenario/process
    scenarios = []
    for t in order:
        s = t.split("/")[1]
        if s not in scenarios:
            scenarios.append(s)
    cols = ["VmRSS", "Pss", "RssAnon", "RssFile"] + KINDS
    for s in scenarios:
        print(f"\n{s}: medians in MiB (runs: {', '.join(str(nruns[t]) for t in order if t.split('/')[1] == s)})")
        print(f"{'implementation':<17} {'process':<8} " + " ".join(f"{c:>9}" for c in cols))
        for impl in ("theirs", "ours"):
            tags = [t for t in order if t.startswith(f"{impl}/{s}/")]
            if not tags:
                continue
            name = "keepalived 2.2.7" if impl == "theirs" else "keepalived-rs"
            total = {c: 0 for c in cols}
            for t in tags:
                proc = t.split("/")[2]
                print(f"{name:<17} {proc:<8} " + " ".join(f"{mib(med[t].get(c, 0)):>9}" for c in cols))
                for c in cols:
                    total[c] += med[t].get(c, 0)
            print(f"{name:<17} {'total':<8} " + " ".join(f"{mib(total[c]):>9}" for c in cols))
        print(f"{'Pss by kind':<17} {'process':<8} " + " ".join(f"{'p' + k:>9}" for k in KINDS))
        for impl in ("theirs", "ours"):
            name = "keepalived 2.2.7" if impl == "theirs" else "keepalived-rs"
            for t in [t for t in order if t.startswith(f"{impl}/{s}/")]:
                print(f"{name:<17} {t.split('/')[2]:<8} " + " ".join(f"{mib(med[t].get('p' + k, 0)):>9}" for k in KINDS))


def folios(paths):
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        n = (size + 4095) // 4096
        for i in range(n):  # fault every page in (from the cache as it is)
            m[i * 4096]
        base = next(int(line.split("-")[0], 16) for line in open("/proc/self/maps")
                    if line.rstrip().endswith(" " + os.path.realpath(path)))
        with open("/proc/self/pagemap", "rb") as pm, open("/proc/kpageflags", "rb") as kf:
            pm.seek(base // 4096 * 8)
            entries = pm.read(n * 8)
            sizes, cur = collections.Counter(), 0
            for i in range(n):
                pfn = struct.unpack_from("<Q", entries, i * 8)[0] & ((1 << 55) - 1)
                kf.seek(pfn * 8)
                tail = (struct.unpack("<Q", kf.read(8))[0] >> 16) & 1
                if not tail and cur:
                    sizes[cur] += 1
                    cur = 0
                cur += 1
            sizes[cur] += 1
        m.close()
        os.close(fd)
        desc = ", ".join(f"{c} x {p * 4} KiB" for p, c in sorted(sizes.items()))
        print(f"{path}: {n * 4} KiB in the page cache as {desc}")


def recache(paths):
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        os.fsync(fd)  # dirty pages (a fresh copy) are not dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        m.madvise(mmap.MADV_RANDOM)  # no readahead: one page per fault
        for i in range(0, size, 4096):
            m[i]
        m.close()
        os.close(fd)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "sample":
        sample(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "folios":
        folios(sys.argv[2:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "recache":
        recache(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
