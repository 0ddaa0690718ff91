//! keepalived-rs system-call wrappers that need `unsafe`: the only crate in
//! the workspace where it is allowed (every other crate forbids it). Each
//! function states the contract that makes its use sound.

use nix::unistd::ForkResult;

/// fork(2).
///
/// keepalived's process model forks its children without exec, like
/// keepalived itself. This is sound only while the calling process has a
/// single thread: the child of a multi-threaded process may only call
/// async-signal-safe functions until it execs. keepalived-rs processes
/// are single-threaded by design (one mio loop each, no worker threads);
/// [`ensure_single_threaded`] checks it before forking.
pub fn fork() -> nix::Result<ForkResult> {
    if !ensure_single_threaded() {
        return Err(nix::errno::Errno::EDEADLK);
    }
    // SAFETY: the process has exactly one thread (checked above), so the
    // child gets a consistent copy of all locks and allocator state and may
    // run arbitrary code.
    unsafe { nix::unistd::fork() }
}

/// True when /proc/self/task has exactly one entry (this thread).
pub fn ensure_single_threaded() -> bool {
    match std::fs::read_dir("/proc/self/task") {
        Ok(rd) => rd.count() == 1,
        // Without /proc we cannot tell; keepalived-rs never starts threads.
        Err(_) => true,
    }
}

/// The current value of SIGRTMIN (glibc reserves the first few real-time
/// signals, so this is a function call, not a constant).
pub fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}

/// The current value of SIGRTMAX.
pub fn sigrtmax() -> i32 {
    libc::SIGRTMAX()
}

/// How a script child is set up between fork and exec (keepalived
/// notify.c `system_call_script` / `set_script_env`).
#[derive(Clone, Debug, Default)]
pub struct ChildSetup {
    /// setgid(2) to this group first.
    pub gid: Option<u32>,
    /// Then setgroups(2) with this list (an empty list clears the
    /// supplementary groups).
    pub groups: Option<Vec<u32>>,
    /// Then setuid(2) to this user.
    pub uid: Option<u32>,
    /// Reset every catchable signal to its default disposition (keepalived
    /// `signal_handler_script`): ignored signals survive exec otherwise.
    pub reset_signals: bool,
    /// prctl(PR_SET_PDEATHSIG, sig), after the credential changes (which
    /// would clear it).
    pub pdeathsig: Option<i32>,
}

/// Spawn `cmd` with the extra child set-up of `setup`, run in the child
/// after std's own set-up (stdio, `process_group`) and before exec.
///
/// Everything the hook does is async-signal-safe: plain system calls on
/// memory allocated before the fork (the group list is cloned into the
/// closure here), so it is sound even in a multi-threaded parent. A failing
/// step makes `spawn` return that errno.
pub fn spawn_with_setup(cmd: &mut std::process::Command, setup: &ChildSetup) -> std::io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let setup = setup.clone();
    let hook = move || -> std::io::Result<()> {
        // SAFETY: only async-signal-safe system calls on pre-allocated data.
        unsafe {
            // Before the user change, as keepalived's reset_process_priorities
            // (a lower niceness is refused once the script is not root).
            restore_originals();
            if let Some(g) = setup.gid {
                if libc::setgid(g) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if let Some(gs) = &setup.groups {
                if libc::setgroups(gs.len(), gs.as_ptr()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if let Some(u) = setup.uid {
                if libc::setuid(u) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if setup.reset_signals {
                for sig in 1..32 {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        libc::signal(sig, libc::SIG_DFL);
                    }
                }
            }
            if let Some(sig) = setup.pdeathsig {
                if libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
        }
        Ok(())
    };
    // SAFETY: the hook above only makes async-signal-safe calls and does
    // not allocate (see its comment).
    unsafe {
        cmd.pre_exec(hook);
    }
    cmd.spawn()
}

fn cpath(p: &std::path::Path) -> std::io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
}

/// mount("", "/", NULL, MS_REC | MS_SLAVE, NULL): make every mount of the
/// current mount namespace a slave (systemd makes them shared), so later
/// mounts do not propagate back (keepalived namespaces.c `set_run_mount`).
pub fn make_mounts_slave() -> std::io::Result<()> {
    let empty = std::ffi::CString::default();
    let root = cpath(std::path::Path::new("/"))?;
    // SAFETY: valid NUL-terminated strings that outlive the call; a null
    // filesystem type and data are allowed for MS_SLAVE.
    let r = unsafe {
        libc::mount(empty.as_ptr(), root.as_ptr(), std::ptr::null(), libc::MS_REC | libc::MS_SLAVE, std::ptr::null())
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// mount(src, dst, NULL, MS_BIND, NULL): bind-mount a directory.
pub fn bind_mount(src: &std::path::Path, dst: &std::path::Path) -> std::io::Result<()> {
    let s = cpath(src)?;
    let d = cpath(dst)?;
    // SAFETY: valid NUL-terminated strings that outlive the call; a null
    // filesystem type and data are allowed for MS_BIND.
    let r = unsafe { libc::mount(s.as_ptr(), d.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// umount(2).
pub fn umount(path: &std::path::Path) -> std::io::Result<()> {
    let p = cpath(path)?;
    // SAFETY: a valid NUL-terminated string that outlives the call.
    let r = unsafe { libc::umount(p.as_ptr()) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// kill(2) with a raw signal number: nix's `Signal` has no real-time
/// signals, which keepalived uses for JSON (SIGRTMIN+2) and STATS_CLEAR
/// (SIGRTMAX-1).
pub fn kill_raw(pid: i32, sig: i32) -> std::io::Result<()> {
    // SAFETY: kill(2) takes plain integers and has no memory-safety
    // preconditions; errors are reported through errno.
    let r = unsafe { libc::kill(pid, sig) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// What the process had before keepalived changed it, given back to scripts before exec
/// (keepalived process.c `reset_process_priorities`): atomics, read after fork.
struct Originals {
    nofile_set: std::sync::atomic::AtomicBool,
    nofile: [std::sync::atomic::AtomicU64; 2],
    nice_set: std::sync::atomic::AtomicBool,
    nice: std::sync::atomic::AtomicI32,
}

static ORIGINALS: Originals = Originals {
    nofile_set: std::sync::atomic::AtomicBool::new(false),
    nofile: [std::sync::atomic::AtomicU64::new(0), std::sync::atomic::AtomicU64::new(0)],
    nice_set: std::sync::atomic::AtomicBool::new(false),
    nice: std::sync::atomic::AtomicI32::new(0),
};

/// setrlimit(RLIMIT_NOFILE, cur, max), remembering the first original limits so that scripts get
/// them back (2.2.7 `set_max_file_limit` / `reset_process_priorities`).
pub fn set_nofile_limit(cur: u64, max: u64) -> std::io::Result<()> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    use std::sync::atomic::Ordering::SeqCst;
    if !ORIGINALS.nofile_set.load(SeqCst) {
        let (c, m) = getrlimit(Resource::RLIMIT_NOFILE).map_err(std::io::Error::from)?;
        ORIGINALS.nofile[0].store(c, SeqCst);
        ORIGINALS.nofile[1].store(m, SeqCst);
        ORIGINALS.nofile_set.store(true, SeqCst);
    }
    setrlimit(Resource::RLIMIT_NOFILE, cur, max).map_err(std::io::Error::from)
}

/// In a script child before exec: the limits and niceness the process started with.
/// Async-signal-safe (atomics and system calls only); failures are ignored, as by 2.2.7.
fn restore_originals() {
    use std::sync::atomic::Ordering::SeqCst;
    // SAFETY: plain system calls with a valid, initialised rlimit on the stack.
    unsafe {
        if ORIGINALS.nofile_set.load(SeqCst) {
            let lim =
                libc::rlimit { rlim_cur: ORIGINALS.nofile[0].load(SeqCst), rlim_max: ORIGINALS.nofile[1].load(SeqCst) };
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
        if ORIGINALS.nice_set.load(SeqCst) {
            libc::setpriority(libc::PRIO_PROCESS, 0, ORIGINALS.nice.load(SeqCst));
        }
    }
}

/// setpriority(PRIO_PROCESS, 0, nice): keepalived's `*_priority` (the first original niceness is
/// remembered for scripts).
pub fn set_nice(nice: i32) -> std::io::Result<()> {
    use std::sync::atomic::Ordering::SeqCst;
    if !ORIGINALS.nice_set.load(SeqCst) {
        nix::errno::Errno::clear();
        // SAFETY: plain integer arguments; -1 is a valid niceness, told apart by errno.
        let cur = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        if cur != -1 || nix::errno::Errno::last_raw() == 0 {
            ORIGINALS.nice.store(cur, SeqCst);
            ORIGINALS.nice_set.store(true, SeqCst);
        }
    }
    // SAFETY: plain integer arguments; failure is reported through errno.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// SCHED_RR at `priority` with RLIMIT_RTTIME `rttime_us` (keepalived's
/// `*_rt_priority` and `*_rlimit_rttime`): a runaway realtime loop is
/// stopped by the kernel instead of freezing the machine.
pub fn set_realtime(priority: i32, rttime_us: u64) -> std::io::Result<()> {
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_RTTIME, rttime_us, rttime_us)
        .map_err(std::io::Error::from)?;
    let param = libc::sched_param { sched_priority: priority };
    // SAFETY: `param` is a valid, initialised sched_param that outlives the
    // call; pid 0 means this thread.
    let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &param) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A process's capability sets, one bit per capability number (bit 12 =
/// `CAP_NET_ADMIN`, as in /proc/PID/status `CapEff` etc.).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, as two 32-bit halves.
const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// capget(2) for the calling thread.
pub fn capget() -> std::io::Result<CapSets> {
    let mut hdr = CapHeader { version: CAP_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: the header and a two-element data array (what version 3
    // requires) are valid and writable for the duration of the call.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut CapHeader, data.as_mut_ptr()) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// capset(2) for the calling thread: the kernel refuses to add to the
/// permitted set, so this can only drop (or move bits within it).
pub fn capset(sets: &CapSets) -> std::io::Result<()> {
    let mut hdr = CapHeader { version: CAP_VERSION_3, pid: 0 };
    let half = |v: u64, i: u32| (v >> (32 * i)) as u32;
    let data: [CapData; 2] = [0, 1].map(|i| CapData {
        effective: half(sets.effective, i),
        permitted: half(sets.permitted, i),
        inheritable: half(sets.inheritable, i),
    });
    // SAFETY: the header is valid and writable, the data array has the two
    // elements version 3 requires and is only read.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL): no capability is
/// handed to a program this process execs merely by being ambient.
pub fn clear_ambient_caps() -> std::io::Result<()> {
    prctl5(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong)
}

/// prctl(PR_SET_KEEPCAPS, keep): whether the permitted set survives a
/// setuid(2) from root to another user.
pub fn set_keepcaps(keep: bool) -> std::io::Result<()> {
    prctl5(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(keep))
}

fn prctl5(option: libc::c_int, arg: libc::c_ulong) -> std::io::Result<()> {
    // SAFETY: these prctl options take integer arguments only.
    let r = unsafe { libc::prctl(option, arg, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A global allocator that counts allocations (benchmarks: "allocations per
/// advert"). Wraps the system allocator.
///
/// ```ignore
/// #[global_allocator]
/// static ALLOC: keepalived_sys::CountingAlloc = keepalived_sys::CountingAlloc::new();
/// ```
pub struct CountingAlloc {
    allocs: std::sync::atomic::AtomicU64,
}

impl CountingAlloc {
    pub const fn new() -> CountingAlloc {
        CountingAlloc { allocs: std::sync::atomic::AtomicU64::new(0) }
    }
    /// Allocations (alloc, alloc_zeroed, realloc) so far.
    pub fn allocations(&self) -> u64 {
        self.allocs.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to the system allocator with the caller's
// layout and pointer unchanged, so the GlobalAlloc contract is the
// system allocator's; counting has no effect on memory.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        self.allocs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded contract (see above).
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        self.allocs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        self.allocs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: forwarded contract.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

/// setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, offset) on a raw IPv6 socket.
///
/// `offset` is where the kernel writes (on send) and checks (on receive) the
/// 16-bit Internet checksum of the payload; −1 turns that off (the default
/// for raw sockets other than ICMPv6), leaving checksums to the caller.
pub fn set_ipv6_checksum(fd: std::os::fd::BorrowedFd<'_>, offset: i32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let val: libc::c_int = offset;
    // SAFETY: `fd` is a live descriptor for the duration of the call (it is
    // borrowed); the option value points to a c_int on our stack and its
    // exact size is passed, so the kernel reads only that memory.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_CHECKSUM,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// bind(2) an AF_PACKET socket to interface `ifindex`, receiving frames of
/// `ethertype` (host byte order; 0 receives nothing, `ETH_P_ALL` = 3
/// everything). After this, `send(2)` without an address transmits a whole
/// Ethernet frame on that interface.
pub fn bind_packet(fd: std::os::fd::BorrowedFd<'_>, ifindex: u32, ethertype: u16) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let ifindex = libc::c_int::try_from(ifindex).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = ethertype.to_be();
    sll.sll_ifindex = ifindex;
    // SAFETY: `fd` is a live borrowed descriptor; the address points to a
    // fully initialised sockaddr_ll on our stack and its exact size is passed.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// connect(2) with an `AF_UNSPEC` address: dissolve a TCP socket's
/// association (kernel `tcp_disconnect`) so that the same socket can
/// connect again. A socket whose connect was refused or is still in
/// SYN_SENT goes back to CLOSE without sending anything.
pub fn disconnect(fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: sockaddr is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr = unsafe { std::mem::zeroed() };
    sa.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    // SAFETY: `fd` is a live borrowed descriptor; the address points to a
    // fully initialised sockaddr on our stack and its exact size is passed.
    let rc = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr).cast(),
            std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Give freed heap memory back to the kernel (glibc `malloc_trim(0)`): the
/// processes call it after dropping a parsed configuration they no longer
/// need, so that their RSS reflects what they really keep.
pub fn malloc_trim() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Once start-up or a reload is done: give the heap's free memory back
/// ([`malloc_trim`]) and unmap the start-up code ([`release_file_pages`]).
pub fn settle_memory() {
    malloc_trim();
    release_file_pages();
    release_unused_stack();
}

/// Give back the main stack's pages below the current frames (less a
/// margin): start-up (the configuration parser's recursion above all)
/// touched deeper stack than the loop ever uses again.
pub fn release_unused_stack() {
    const MARGIN: usize = 64 * 1024;
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize & !4095;
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return };
    let Some(low) = maps.lines().filter(|l| l.ends_with("[stack]")).find_map(|l| {
        let (a, b) = l.split_whitespace().next()?.split_once('-')?;
        let (a, b) = (usize::from_str_radix(a, 16).ok()?, usize::from_str_radix(b, 16).ok()?);
        (a..b).contains(&sp).then_some(a)
    }) else {
        return; // not on the main thread's stack
    };
    let end = sp.saturating_sub(MARGIN);
    if end > low {
        // SAFETY: [low, end) is the part of our own stack more than MARGIN
        // below this frame: no live frame is there (the stack grows down
        // and the calls made from here use far less than MARGIN), so its
        // content is dead; MADV_DONTNEED makes it read as zero pages again.
        unsafe {
            libc::madvise(low as *mut libc::c_void, end - low, libc::MADV_DONTNEED);
        }
    }
}

/// Unmap the clean pages of this process's read-only file mappings
/// (program and library text, read-only data, unwind tables) that it
/// faulted in so far; returns how many mappings were released.
///
/// A child faults in the configuration parser and its start-up code, and
/// the kernel's fault-around maps 64 KiB around each faulting page: most of
/// an 8 MB program's text ends up mapped in every process although the
/// steady state runs a small part of it. Called once start-up (or a
/// reload) is done, this leaves mapped only what runs afterwards: the pages
/// stay in the page cache and come back on their next use as minor faults.
///
/// Only mappings that are not writable and hold no anonymous (copied)
/// page are released: those hold nothing but clean file pages, which read
/// back identically. A relocated RELRO segment, made read-only after the
/// dynamic loader wrote it, has anonymous pages and is left alone.
pub fn release_file_pages() -> usize {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return 0 };
    let mut released = 0;
    for (start, end) in clean_readonly_file_mappings(&smaps) {
        // SAFETY: [start, end) is a whole mapping of this process holding
        // only clean, read-only file pages (checked above, and a
        // single-threaded process cannot change it meanwhile). MADV_DONTNEED
        // drops their page-table entries; the next access maps the same
        // page-cache page again, so no content can change.
        let rc = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        released += usize::from(rc == 0);
    }
    released
}

/// One mapping of /proc/PID/smaps, as far as [`release_file_pages`] cares.
struct Mapping {
    range: (usize, usize),
    /// File-backed and not writable (from the header line).
    readonly_file: bool,
    resident: bool,
    anonymous: bool,
    locked: bool,
}

/// The address ranges of the mappings in `smaps` (/proc/PID/smaps text)
/// that are file-backed, not writable, not locked, and have resident pages
/// but no anonymous ones.
fn clean_readonly_file_mappings(smaps: &str) -> Vec<(usize, usize)> {
    let mut maps: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let first = f.next().unwrap_or("");
        let kib = |v: Option<&str>| v.and_then(|v| v.parse::<u64>().ok()).unwrap_or(1);
        match (first.split_once('-'), maps.last_mut()) {
            (Some((a, b)), _) if !first.ends_with(':') => {
                let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) else { continue };
                let perms = f.next().unwrap_or("");
                let inode = f.nth(2).unwrap_or("0");
                let readonly_file = inode != "0" && perms.as_bytes().get(1) == Some(&b'-');
                maps.push(Mapping { range: (a, b), readonly_file, resident: false, anonymous: true, locked: true });
            }
            (_, Some(m)) if first == "Rss:" => m.resident = kib(f.next()) > 0,
            (_, Some(m)) if first == "Anonymous:" => m.anonymous = kib(f.next()) > 0,
            (_, Some(m)) if first == "Locked:" => m.locked = kib(f.next()) > 0,
            _ => {}
        }
    }
    maps.iter().filter(|m| m.readonly_file && m.resident && !m.anonymous && !m.locked).map(|m| m.range).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_readonly_file_mappings_skips_written_and_anonymous_pages() {
        let smaps = "\
55d0-55e0 r--p 00000000 fe:01 12 /usr/sbin/keepalived
Rss:                  64 kB
Anonymous:             0 kB
Locked:                0 kB
55e0-55f0 r-xp 00010000 fe:01 12 /usr/sbin/keepalived
Rss:                 128 kB
Anonymous:             0 kB
Locked:                0 kB
55f0-5600 r--p 00020000 fe:01 12 /usr/sbin/keepalived
Rss:                  16 kB
Anonymous:            16 kB
Locked:                0 kB
5600-5610 rw-p 00030000 fe:01 12 /usr/sbin/keepalived
Rss:                   4 kB
Anonymous:             0 kB
Locked:                0 kB
5610-5620 rw-p 00000000 00:00 0 [heap]
Rss:                   4 kB
Anonymous:             4 kB
Locked:                0 kB
7f00-7f10 r-xp 00000000 fe:01 40 /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                   0 kB
Anonymous:             0 kB
Locked:                0 kB
7f10-7f20 r-xp 00000000 fe:01 41 /usr/lib/x86_64-linux-gnu/libm.so.6
Rss:                   8 kB
Anonymous:             0 kB
Locked:                8 kB
";
        assert_eq!(clean_readonly_file_mappings(smaps), vec![(0x55d0, 0x55e0), (0x55e0, 0x55f0)]);
    }

    #[test]
    fn unused_stack_release_keeps_live_frames() {
        // A test thread's stack is not [stack]: nothing happens there.
        release_unused_stack();
        let deep = [7u8; 4096];
        release_unused_stack();
        assert!(deep.iter().all(|&b| b == 7));
    }

    #[test]
    fn released_text_runs_again() {
        let n = release_file_pages();
        assert!(n > 0, "nothing released");
        // The code after the call (and the formatting machinery) faults back in.
        assert_eq!(format!("{}", 6 * 7), "42");
    }

    #[test]
    fn socket_option_wrappers_report_errors() {
        use std::os::fd::AsFd;
        // IPV6_CHECKSUM is a raw-socket option: a UDP socket refuses it.
        if let Ok(udp) = std::net::UdpSocket::bind("[::1]:0") {
            assert!(set_ipv6_checksum(udp.as_fd(), -1).is_err());
        }
        // bind_packet on a non-packet socket, and an index out of range.
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(bind_packet(udp.as_fd(), 1, 3).is_err());
        let e = bind_packet(udp.as_fd(), u32::MAX, 3).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn capget_matches_proc_status() {
        let sets = capget().expect("capget");
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
        };
        assert_eq!(sets.effective, field("CapEff:"));
        assert_eq!(sets.permitted, field("CapPrm:"));
        assert_eq!(sets.inheritable, field("CapInh:"));
        // Setting the same sets again is always allowed.
        capset(&sets).expect("capset");
    }

    #[test]
    fn rt_signals_match_keepalived_numbering() {
        // keepalived --signum: JSON = SIGRTMIN+2 = 36, STATS_CLEAR = SIGRTMAX-1 = 63.
        assert_eq!(sigrtmin() + 2, 36);
        assert_eq!(sigrtmax() - 1, 63);
    }

    #[test]
    fn fork_and_wait() {
        assert!(ensure_single_threaded() || std::thread::available_parallelism().is_ok());
        // cargo's test harness runs tests on threads: fork is refused there.
        if !ensure_single_threaded() {
            assert!(fork().is_err());
        }
    }

    #[test]
    fn spawn_with_setup_sets_pdeathsig_and_pgid() {
        use std::os::unix::process::CommandExt;
        // The shell prints its process group (field 5 of /proc/PID/stat).
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.args(["-c", "cut -d' ' -f5 /proc/$$/stat"]);
        cmd.process_group(0).stdout(std::process::Stdio::piped());
        let setup = ChildSetup { reset_signals: true, pdeathsig: Some(libc::SIGTERM), ..Default::default() };
        let child = spawn_with_setup(&mut cmd, &setup).expect("spawn");
        let pid = child.id();
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success());
        let pgid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("pgid");
        assert_eq!(pgid, pid, "the child leads its own process group");
    }

    #[test]
    fn spawn_with_setup_switches_user() {
        if nix::unistd::getuid().as_raw() != 0 {
            eprintln!("not root: user switching not tested");
            return;
        }
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.args(["-c", "id -u; id -g; id -G"]).stdout(std::process::Stdio::piped());
        let setup = ChildSetup { gid: Some(65534), groups: Some(vec![]), uid: Some(65534), ..Default::default() };
        let out = spawn_with_setup(&mut cmd, &setup).expect("spawn").wait_with_output().expect("wait");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["65534", "65534", "65534"]);
    }

    #[test]
    fn spawn_with_setup_reports_failed_step() {
        if nix::unistd::getuid().as_raw() == 0 {
            return;
        }
        let mut cmd = std::process::Command::new("/bin/true");
        let setup = ChildSetup { uid: Some(0), ..Default::default() };
        assert!(spawn_with_setup(&mut cmd, &setup).is_err());
    }
}
