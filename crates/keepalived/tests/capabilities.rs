//! Least privilege (issue 16 item 6): each child keeps only the
//! capabilities it needs once started, read from /proc/PID/status; the
//! bounding set and uid 0 stay, so a notify script run as root gets every
//! capability back at exec and can do root things, while one run as
//! `nobody` has none and cannot; `no_capability_drop` keeps everything;
//! a reload adding a VMAC instance still works after the drop; under a
//! /proc that hides processes the VRRP child keeps CAP_SYS_PTRACE; a
//! script of another user is still killed at its timeout; scripts get the
//! original niceness back under a positive `vrrp_priority`; the daemon
//! runs as a non-root user with ambient capabilities.
//!
//! The checker child needs IPVS, which the host kernel lacks: its set is
//! checked in the IPVS guest (check_child_vm.rs).
//! Needs root; fails otherwise.

use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::netns::Node;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

/// cap_chown, cap_dac_override, cap_kill, cap_setgid, cap_setuid,
/// cap_net_admin, cap_net_raw.
const VRRP_SET: u64 = 0x30e3;

/// The `Cap*` fields of a /proc/PID/status text, by name (`CapEff`, …).
fn cap(status: &str, name: &str) -> u64 {
    let line =
        status.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap_or_else(|| panic!("{name} in {status}"));
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

fn our_bounding() -> u64 {
    cap(&std::fs::read_to_string("/proc/self/status").unwrap(), "CapBnd")
}

/// /proc/PID/status of the process whose pid file is `file` in the node.
fn status_of(node: &Node, file: &str) -> String {
    let pid = std::fs::read_to_string(node.path(file)).unwrap_or_default();
    std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default()
}

/// A notify script writing its capabilities to `out`, then trying a
/// root-only thing: creating veth pair `link` (the kernel here has no dummy links).
fn write_script(path: &Path, out: &Path, link: &str) {
    let text = format!(
        "#!/bin/sh\ngrep Cap /proc/$$/status > {o}.tmp\n\
         if ip link add {link} type veth peer name {link}p 2>/dev/null; then echo link=ok >> {o}.tmp; else echo link=refused >> {o}.tmp; fi\n\
         mv {o}.tmp {o}\n",
        o = out.display()
    );
    std::fs::write(path, text).unwrap();
}

/// A world-writable (sticky) directory for the scripts' output: `nobody`
/// writes there too.
fn out_dir(node: &Node) -> std::path::PathBuf {
    let d = node.path("out");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

fn conf(node: &Node, extra_global: &str) -> String {
    let d = node.dir.display();
    format!(
        "global_defs {{\n  router_id caps\n  notification_email {{\n    root@localhost\n  }}\n  smtp_server 127.0.0.1 2525\n{extra_global}}}\n\
         bfd_instance B1 {{\n  neighbor_ip 198.51.100.2\n  source_ip 198.51.100.1\n}}\n\
         vrrp_instance VI_1 {{\n  interface eth0\n  state MASTER\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n\
           virtual_ipaddress {{\n    198.51.100.51/24\n  }}\n\
           notify_master \"{d}/root.sh\"\n  notify \"{d}/user.sh\" nobody\n}}\n"
    )
}

/// The scripts: root.sh mode 0700 owned by nobody (exec-ing it as root
/// needs CAP_DAC_OVERRIDE in the child), user.sh run as nobody.
fn install_scripts(node: &Node) -> std::path::PathBuf {
    let out = out_dir(node);
    let root_sh = node.path("root.sh");
    write_script(&root_sh, &out.join("root"), "kaRoot");
    std::fs::set_permissions(&root_sh, std::fs::Permissions::from_mode(0o700)).unwrap();
    nix::unistd::chown(&root_sh, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let user_sh = node.path("user.sh");
    write_script(&user_sh, &out.join("user"), "kaUser");
    std::fs::set_permissions(&user_sh, std::fs::Permissions::from_mode(0o755)).unwrap();
    out
}

/// Each thread of process `pid` (from its pid file): name and status.
fn threads_of(node: &Node, file: &str) -> Vec<(String, String)> {
    let pid = std::fs::read_to_string(node.path(file)).unwrap_or_default();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{}/task", pid.trim())) else { return Vec::new() };
    dir.flatten()
        .map(|t| {
            let name = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().trim().to_string();
            (name, std::fs::read_to_string(t.path().join("status")).unwrap_or_default())
        })
        .collect()
}

/// The node has interface `link`, written as `ip link` shows it (`vrrp.52@eth0`: on top of eth0).
fn has_link(node: &Node, link: &str) -> bool {
    let kernel = Kernel::named(&node.ns);
    let (name, lower) = link.split_once('@').map_or((link, None), |(n, l)| (n, Some(l)));
    kernel.link(name).is_some_and(|l| lower.is_none_or(|want| kernel.lower_name(&l).as_deref() == Some(want)))
}

#[test]
fn children_keep_only_what_they_need_and_root_scripts_get_everything() {
    keepalived_testkit::require(&[]);
    let node = Node::new("caps", "drop");
    let out = install_scripts(&node);
    let mut d = node.start_with(OURS, &conf(&node, ""), &[], &[]);
    let done = wait_for(secs(15), || out.join("root").exists() && out.join("user").exists());
    let (vrrp, bfd, parent) = (status_of(&node, "v.pid"), status_of(&node, "b.pid"), status_of(&node, "k.pid"));
    let vrrp_threads = threads_of(&node, "v.pid");
    let (root_out, user_out) = (
        std::fs::read_to_string(out.join("root")).unwrap_or_default(),
        std::fs::read_to_string(out.join("user")).unwrap_or_default(),
    );
    let (root_link, user_link) = (has_link(&node, "kaRoot"), has_link(&node, "kaUser"));
    d.stop();
    let log = d.log();
    assert!(done, "the notify scripts did not run:\n{log}");
    let bnd = our_bounding();

    // The children: only their sets, bounding set untouched, nothing to hand on.
    for (who, st, want) in [("VRRP", &vrrp, VRRP_SET), ("BFD", &bfd, 0)] {
        assert_eq!(cap(st, "CapEff"), want, "{who} CapEff:\n{st}");
        assert_eq!(cap(st, "CapPrm"), want, "{who} CapPrm");
        assert_eq!(cap(st, "CapInh"), 0, "{who} CapInh");
        assert_eq!(cap(st, "CapAmb"), 0, "{who} CapAmb");
        assert_eq!(cap(st, "CapBnd"), bnd, "{who} CapBnd");
        assert!(st.contains("Uid:\t0\t0\t0\t0"), "{who} still uid 0:\n{st}");
    }
    // The SMTP alert thread (capabilities are per thread) has none.
    let smtp: Vec<_> = vrrp_threads.iter().filter(|(n, _)| n == "smtp-alert").collect();
    assert_eq!(smtp.len(), 1, "threads: {:?}", vrrp_threads.iter().map(|t| &t.0).collect::<Vec<_>>());
    assert_eq!((cap(&smtp[0].1, "CapEff"), cap(&smtp[0].1, "CapPrm")), (0, 0), "SMTP thread:\n{}", smtp[0].1);
    // The parent keeps everything (it forks the children).
    assert_eq!(cap(&parent, "CapEff"), bnd, "parent:\n{parent}");
    // A root script gets the bounding set back at exec, and can use it.
    assert_eq!(cap(&root_out, "CapEff"), bnd, "root script:\n{root_out}");
    assert!(root_out.contains("link=ok") && root_link, "root script:\n{root_out}");
    // A script run as nobody has nothing and cannot.
    assert_eq!(cap(&user_out, "CapEff"), 0, "nobody script:\n{user_out}");
    assert_eq!(cap(&user_out, "CapPrm"), 0, "nobody script:\n{user_out}");
    assert!(user_out.contains("link=refused") && !user_link, "nobody script:\n{user_out}");
    // Each child removed its pid file at stop (a root-owned directory).
    assert!(!node.path("v.pid").exists() && !node.path("b.pid").exists(), "pid files left:\n{log}");
    // One line per child.
    assert!(
        log.contains(
            "Capabilities kept: cap_chown,cap_dac_override,cap_kill,cap_setgid,cap_setuid,cap_net_admin,cap_net_raw"
        ),
        "{log}"
    );
    assert!(log.contains("Capabilities kept: none"), "{log}");
}

#[test]
fn no_capability_drop_keeps_every_capability() {
    keepalived_testkit::require(&[]);
    let node = Node::new("caps", "keep");
    let out = install_scripts(&node);
    let mut d = node.start_with(OURS, &conf(&node, "  no_capability_drop\n"), &[], &[]);
    let done = wait_for(secs(15), || out.join("root").exists());
    let (vrrp, bfd) = (status_of(&node, "v.pid"), status_of(&node, "b.pid"));
    let vrrp_threads = threads_of(&node, "v.pid");
    d.stop();
    let log = d.log();
    assert!(done, "the notify script did not run:\n{log}");
    let bnd = our_bounding();
    for (who, st) in [("VRRP", &vrrp), ("BFD", &bfd)] {
        assert_eq!(cap(st, "CapEff"), bnd, "{who}:\n{st}");
        assert_eq!(cap(st, "CapPrm"), bnd, "{who}:\n{st}");
    }
    assert_eq!(vrrp_threads.len(), 2, "main and SMTP threads");
    for (name, st) in &vrrp_threads {
        assert_eq!(cap(st, "CapEff"), bnd, "VRRP thread {name}:\n{st}");
    }
    assert!(log.contains("Capabilities not reduced (no_capability_drop)"), "{log}");
}

#[test]
fn reload_adds_a_vmac_instance_after_the_drop() {
    keepalived_testkit::require(&[]);
    let node = Node::new("caps", "reload");
    let first = "global_defs {\n  router_id caps\n}\n\
                 vrrp_instance VI_1 {\n  interface eth0\n  state MASTER\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n\
                   virtual_ipaddress {\n    198.51.100.51/24\n  }\n}\n";
    let mut d = node.start(OURS, first);
    assert!(wait_for(secs(10), || node.has_addr("198.51.100.51")), "VI_1 not master:\n{}", d.log());
    assert_eq!(cap(&status_of(&node, "v.pid"), "CapEff"), VRRP_SET, "dropped before the reload");
    let second = format!(
        "{first}vrrp_instance VI_2 {{\n  interface eth0\n  use_vmac\n  state MASTER\n  virtual_router_id 52\n  priority 100\n  advert_int 1\n\
           virtual_ipaddress {{\n    198.51.100.52/24\n  }}\n}}\n"
    );
    std::fs::write(node.path("keepalived.conf"), second).unwrap();
    d.signal(nix::sys::signal::Signal::SIGHUP);
    let vip = wait_for(secs(10), || node.has_addr("198.51.100.52"));
    let vmac = has_link(&node, "vrrp.52@eth0");
    d.stop();
    assert!(vmac && vip, "VMAC {vmac}, VIP {vip}; log:\n{}", d.log());
}

/// Under a /proc that hides processes from root without CAP_SYS_PTRACE
/// (`hidepid=ptraceable`, in a mount namespace of the daemon's own), the
/// VRRP child keeps CAP_SYS_PTRACE so that `vrrp_track_process` still sees
/// every process.
#[test]
fn hidden_proc_keeps_ptrace_for_vrrp() {
    keepalived_testkit::require(&["unshare"]);
    let node = Node::new("caps", "hide");
    let wrap = node.path("wrap.sh");
    let text = format!(
        "#!/bin/sh\nexec unshare -m --propagation private sh -c \
         'mount -t proc -o hidepid=ptraceable proc /proc && exec {OURS} \"$@\"' wrap \"$@\"\n"
    );
    std::fs::write(&wrap, text).unwrap();
    std::fs::set_permissions(&wrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = "global_defs {\n  router_id caps\n}\n\
                vrrp_track_process TP {\n  process sleep\n  weight 0\n}\n\
                vrrp_instance VI_1 {\n  interface eth0\n  state MASTER\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n\
                  track_process {\n    TP\n  }\n  virtual_ipaddress {\n    198.51.100.51/24\n  }\n}\n";
    let mut d = node.start(wrap.to_str().unwrap(), conf);
    let up = wait_for(secs(10), || d.log().contains("Capabilities kept"));
    let vrrp = status_of(&node, "v.pid");
    d.stop();
    let log = d.log();
    assert!(up, "{log}");
    assert_eq!(cap(&vrrp, "CapEff"), VRRP_SET | 1 << 19, "VRRP child:\n{vrrp}\n{log}");
}

/// The daemon run as a non-root user with ambient capabilities, as
/// systemd/keepalived-nonroot.service does (here through setpriv): the
/// VRRP child keeps the intersection of what it has and what it needs, and
/// a VMAC instance with its VIP works.
#[test]
fn non_root_daemon_with_ambient_capabilities() {
    keepalived_testkit::require(&["setpriv"]);
    let node = Node::new("caps", "nonroot");
    let nobody = Some(nix::unistd::Uid::from_raw(65534));
    nix::unistd::chown(&node.dir, nobody, Some(nix::unistd::Gid::from_raw(65534))).unwrap();
    let caps = "+net_admin,+net_raw,+kill,+setuid,+setgid,+chown";
    let wrap = node.path("wrap.sh");
    let text = format!(
        "#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups \
         --inh-caps={caps} --ambient-caps={caps} {OURS} \"$@\"\n"
    );
    std::fs::write(&wrap, text).unwrap();
    std::fs::set_permissions(&wrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = "global_defs {\n  router_id caps\n  script_user nobody\n}\n\
                vrrp_instance VI_1 {\n  interface eth0\n  use_vmac\n  state MASTER\n  virtual_router_id 53\n  priority 100\n  advert_int 1\n\
                  virtual_ipaddress {\n    198.51.100.53/24\n  }\n}\n";
    let mut d = node.start(wrap.to_str().unwrap(), conf);
    let vip = wait_for(secs(10), || node.has_addr("198.51.100.53"));
    let vmac = has_link(&node, "vrrp.53@eth0");
    let vrrp = status_of(&node, "v.pid");
    d.stop();
    let log = d.log();
    assert!(vip && vmac, "VIP {vip}, VMAC {vmac}:\n{log}");
    assert!(vrrp.contains("Uid:\t65534\t65534\t65534\t65534"), "{vrrp}");
    // cap_chown, cap_kill, cap_setgid, cap_setuid, cap_net_admin, cap_net_raw.
    assert_eq!(cap(&vrrp, "CapEff"), 0x30e1, "{vrrp}");
    assert_eq!(cap(&vrrp, "CapAmb"), 0, "{vrrp}");
}

/// A tracking script run as nobody that outlives its timeout is still
/// killed after the drop (the VRRP child kept CAP_KILL for that).
#[test]
fn timed_out_script_of_another_user_is_killed() {
    keepalived_testkit::require(&[]);
    let node = Node::new("caps", "kill");
    let out = out_dir(&node);
    let pids = out.join("pids");
    let script = node.path("slow.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho $$ >> {}\nexec sleep 30\n", pids.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = format!(
        "global_defs {{\n  router_id caps\n}}\n\
         vrrp_script SLOW {{\n  script \"{}\"\n  interval 2\n  timeout 1\n  user nobody\n}}\n\
         vrrp_instance VI_1 {{\n  interface eth0\n  state BACKUP\n  virtual_router_id 54\n  priority 100\n  advert_int 1\n\
           track_script {{\n    SLOW\n  }}\n  virtual_ipaddress {{\n    198.51.100.54/24\n  }}\n}}\n",
        script.display()
    );
    let mut d = node.start(OURS, &conf);
    let started = wait_for(secs(10), || std::fs::read_to_string(&pids).is_ok_and(|t| !t.is_empty()));
    let text = std::fs::read_to_string(&pids).unwrap_or_default();
    let first: String = text.lines().next().unwrap_or("").to_string();
    // Killed at its 1 s timeout.
    let gone = wait_for(secs(5), || !Path::new(&format!("/proc/{first}")).exists());
    let vrrp = status_of(&node, "v.pid");
    d.stop();
    let log = d.log();
    assert!(started, "the script did not run:\n{log}");
    assert!(gone, "script pid {first} (nobody) survived its timeout:\n{log}");
    assert_eq!(cap(&vrrp, "CapEff"), VRRP_SET, "{vrrp}");
    assert!(log.contains("timed out"), "{log}");
}

/// The niceness field of a /proc/PID/stat text.
fn nice_of(stat: &str) -> String {
    stat.rsplit(") ").next().unwrap_or("").split(' ').nth(16).unwrap_or("").to_string()
}

/// With a positive `vrrp_priority` the VRRP child runs niced, keeps
/// CAP_SYS_NICE, and its scripts, root's and nobody's, get the original
/// niceness back as under keepalived 2.2.7 (which resets it before the
/// user change).
#[test]
fn scripts_get_the_original_niceness_after_the_drop() {
    keepalived_testkit::require(&[]);
    let node = Node::new("caps", "nice");
    let out = out_dir(&node);
    for name in ["root", "user"] {
        let script = node.path(&format!("{name}.sh"));
        let o = out.join(name);
        std::fs::write(&script, format!("#!/bin/sh\ncat /proc/$$/stat > {o}.tmp; mv {o}.tmp {o}\n", o = o.display()))
            .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let d_ = node.dir.display();
    let conf = format!(
        "global_defs {{\n  router_id caps\n  vrrp_priority 5\n}}\n\
         vrrp_instance VI_1 {{\n  interface eth0\n  state MASTER\n  virtual_router_id 55\n  priority 100\n  advert_int 1\n\
           virtual_ipaddress {{\n    198.51.100.55/24\n  }}\n\
           notify_master \"{d_}/root.sh\"\n  notify \"{d_}/user.sh\" nobody\n}}\n"
    );
    let mut d = node.start(OURS, &conf);
    let done = wait_for(secs(15), || out.join("root").exists() && out.join("user").exists());
    let pid = std::fs::read_to_string(node.path("v.pid")).unwrap_or_default();
    let vrrp_stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    let vrrp = status_of(&node, "v.pid");
    d.stop();
    let log = d.log();
    assert!(done, "the notify scripts did not run:\n{log}");
    let ours = nice_of(&std::fs::read_to_string("/proc/self/stat").unwrap());
    assert_eq!(nice_of(&vrrp_stat), "5", "{vrrp_stat}");
    for name in ["root", "user"] {
        let stat = std::fs::read_to_string(out.join(name)).unwrap();
        assert_eq!(nice_of(&stat), ours, "{name} script: {stat}");
    }
    assert_eq!(cap(&vrrp, "CapEff"), VRRP_SET | 1 << 23, "{vrrp}");
}
