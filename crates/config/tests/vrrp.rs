//! VRRP area: keyword parsing, derived defaults and keepalived's messages.

use keepalived_config::model::vrrp::{AuthType, Family, State};
use keepalived_config::{parse_str, ParseOptions, Parsed, SystemView};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/samples");
const RESULTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/config-test-2.2.7");

fn opts() -> ParseOptions {
    ParseOptions { system: SystemView::with_interfaces(&["lo", "eth0", "eth1", "eth2", "eth3"]), ..Default::default() }
}

fn parse(text: &str) -> Parsed {
    parse_str("t.conf", text, &opts())
}

fn inst(body: &str) -> Parsed {
    parse(&format!("vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n{body}\n}}\n"))
}

fn has(p: &Parsed, s: &str) -> bool {
    p.diags.has(s)
}

#[test]
fn defaults_derived() {
    let p = inst("");
    let v = &p.config.vrrp.instances[0];
    assert_eq!(v.vrid, Some(51));
    assert_eq!(v.priority, Some(100));
    assert_eq!(v.state, Some(State::Backup));
    assert_eq!(v.version, Some(2));
    assert_eq!(v.family, Some(Family::Inet));
    assert_eq!(v.advert_int_us, Some(1_000_000));
    assert_eq!(v.accept, Some(true));
    assert_eq!(v.unicast_ttl, Some(255));
    let p = inst("state MASTER");
    assert_eq!(p.config.vrrp.instances[0].priority, Some(255));
    let p = inst("priority 255");
    assert_eq!(p.config.vrrp.instances[0].state, Some(State::Master));
}

#[test]
fn vrid_required() {
    let p = parse("vrrp_instance VI_X {\n interface eth0\n}\n");
    assert!(has(&p, "(VI_X) the virtual router id must be set"));
    let p = inst("virtual_router_id 0");
    assert!(has(&p, "number '0' outside range [1, 255]"));
    assert!(has(&p, "(VI_1): VRID '0' not valid - must be between 1 & 255"));
}

#[test]
fn strict_mode_corrections() {
    let p = inst("strict_mode\nstate MASTER\npriority 100\nauthentication {\n auth_type PASS\n auth_pass secret\n}\n");
    assert!(has(&p, "(VI_1) State MASTER must match being address owner"));
    assert!(has(&p, "(VI_1) Strict mode does not support authentication. Ignoring."));
    let p = inst("strict_mode\naccept");
    assert!(has(&p, "(VI_1) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"));
    let p = inst("strict_mode\npreempt_delay 5");
    assert!(has(&p, "(VI_1) preempt_delay is incompatible with strict mode - resetting"));
}

#[test]
fn auth() {
    let p = inst("state MASTER\npriority 100\nauthentication {\n auth_type AH\n auth_pass 123456789\n}\n");
    assert!(has(&p, "Truncating auth_pass to 8 characters"));
    assert!(has(&p, "(VI_1) Initial state master is incompatible with AH authentication - clearing"));
    assert_eq!(p.config.vrrp.instances[0].auth_type, Some(AuthType::Ah));
    assert_eq!(p.config.vrrp.instances[0].state, Some(State::Backup));
    let p = inst("authentication {\n auth_type FOO\n}\n");
    assert!(has(&p, "(VI_1) unknown authentication type 'FOO'"));
    let p = inst("version 3\nauthentication {\n auth_type PASS\n auth_pass x\n}\n");
    assert!(has(&p, "(VI_1) VRRP version 3 does not support authentication. Ignoring."));
}

#[test]
fn advert_int_rounding() {
    let p = inst("advert_int 1.5");
    assert!(has(&p, "(VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding"));
    assert_eq!(p.config.vrrp.instances[0].advert_int_us, Some(2_000_000));
    let p = inst("advert_int 0");
    assert!(has(&p, "(VI_1) Advert interval (0) not valid! Must be > 0 - ignoring"));
}

#[test]
fn interface_checks() {
    let p = parse("vrrp_instance 42 {\n interface eth0.2\n virtual_router_id 1\n}\n");
    assert!(has(&p, "WARNING - interface eth0.2 for vrrp_instance 42 doesn't exist"));
    assert!(has(&p, "Non-existent interface specified in configuration"));
    assert_eq!(p.test_exit_code(), 5);
    let p = parse("vrrp_instance V {\n interface lo\n virtual_router_id 1\n}\n");
    assert!(has(&p, "(V) cannot use a loopback interface (lo) for vrrp - ignoring"));
    let p = inst("track_interface {\n eth0\n eth1 weight 254\n eth2 weight 10 foo\n}\n");
    assert!(has(&p, "(VI_1) weight for eth1 cannot be +/-254. Setting to +/-253"));
    assert!(has(&p, "(VI_1) unknown track_interace eth2 weight option foo - ignoring"));
    assert!(has(&p, "(VI_1) Ignoring track_interface eth0 since own interface"));
}

#[test]
fn unicast_vmac() {
    let p = parse("vrrp_instance 42 {\n interface eth9\n use_vmac vrrp4.2.1\n virtual_router_id 1\n unicast_src_ip 10.0.2.254\n}\n");
    assert!(has(&p, "(42): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac"));
    let p = inst("unicast_src_ip 10.0.0.1\nunicast_peer {\n 10.0.0.2\n 10.0.0.2\n 2001::1\n bad\n}\n");
    assert!(has(&p, "(VI_1) 10.0.0.2 - duplicate unicast_peer"));
    assert!(has(&p, "Configuration error: VRRP instance[VI_1] and unicast peer address[2001::1] MUST be of the same family !!! Skipping..."));
    assert!(has(&p, "Configuration error: VRRP instance[VI_1] malformed unicast peer address[bad]. Skipping..."));
    assert!(p.config.vrrp.instances[0].unicast);
    let p = inst("unicast_src_ip 10.0.0.1");
    assert!(has(&p, "A unicast keyword has been specified without any unicast peers"));
}

#[test]
fn scripts_and_tracking() {
    let p = parse(
        "vrrp_script chk {\n script \"/bin/true a\"\n interval 0\n weight 300\n rise 0\n}\nvrrp_script empty {\n interval 2\n}\n\
         vrrp_instance VI_0 {\n interface eth0\n virtual_router_id 1\n track_script {\n chk\n empty\n chk\n }\n}\n",
    );
    assert!(has(&p, "(chk): vrrp script interval must be greater than 0, setting to 1"));
    assert!(has(&p, "vrrp_script chk weight 300 must be in [-253, 253]"));
    assert!(has(&p, "(chk): vrrp script rise value '0' invalid, defaulting to 1"));
    assert!(has(&p, "No script set for vrrp_script empty - removing"));
    assert!(has(&p, "(VI_0) track script empty not found, ignoring..."));
    assert!(has(&p, "(VI_0) duplicate track_script chk - ignoring"));
    let s = &p.config.vrrp.scripts[0];
    assert_eq!(s.script.as_ref().unwrap().args, vec!["/bin/true", "a"]);
    assert_eq!(s.interval_us, 1_000_000);
}

#[test]
fn track_file_and_process() {
    let p = parse(
        "vrrp_track_file tf {\n file /tmp/x\n weight 300\n init_file 500 overwrite\n}\ntrack_file nofile {\n}\n\
         vrrp_track_process tp {\n process foo a b\n quorum 0\n weight 5 reverse\n}\n\
         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n track_file {\n tf weight 2\n undefined\n }\n track_process {\n tp\n }\n}\n",
    );
    assert!(has(&p, "Weight (300) for track_file tf must be between [-254..254] inclusive. Ignoring..."));
    assert!(has(&p, "Track file tf init value 500 is outside sensible range [-254, 254]"));
    assert!(has(&p, "No file set for track_file nofile - ignoring"));
    assert!(has(&p, "(VI_1) track file undefined not found, ignoring..."));
    assert!(has(&p, "Quorum (0) for vrrp_track_process tp must be between [1..65535] inclusive. Ignoring..."));
    let tf = &p.config.vrrp.track_files[0];
    assert_eq!(tf.weight.weight, 1);
    assert_eq!(p.config.vrrp.instances[0].track_files[0].weight.weight, 2);
    assert!(p.config.vrrp.track_processes[0].full_command);
    assert!(p.config.vrrp.track_processes[0].weight.reverse);
}

#[test]
fn sync_groups() {
    let p = parse("vrrp_sync_group VG1 {\n VI_2\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n}\n");
    assert!(has(&p, "Unknown keyword 'VI_2'"));
    assert!(has(&p, "Sync group VG1 has no virtual router(s). removing"));
    let p = parse(
        "vrrp_sync_group G {\n group {\n VI_1 VI_9\n }\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n track_interface {\n eth1 weight 10\n }\n}\n",
    );
    assert!(has(&p, "Virtual router VI_9 specified in sync group G doesn't exist - ignoring"));
    assert!(has(&p, "Sync group G has only 1 virtual router(s) - this probably isn't what you want"));
    assert!(has(&p, "(VI_1) ignoring eth1 tracked interface weight due to SYNC group"));
    assert_eq!(p.config.vrrp.instances[0].sync_group.as_deref(), Some("G"));
}

#[test]
fn lvs_sync_daemon_interface_deprecated() {
    let p = inst("lvs_sync_daemon_interface eth0");
    assert!(has(&p, "(VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated."));
    assert!(p.diags.iter().any(|d| d.message == "        Please use global lvs_sync_daemon"));
    // As keepalived: the global sync daemon, following this instance.
    let sd = p.config.global.lvs_sync_daemon.as_ref().expect("global lvs_sync_daemon set");
    assert_eq!((sd.interface.as_str(), sd.vrrp_instance.as_deref()), ("eth0", Some("VI_1")));
    // A global lvs_sync_daemon given first wins.
    let p = parse(
        "global_defs {\nlvs_sync_daemon eth1 VI_9\n}\nvrrp_instance VI_1 {\ninterface eth0\nvirtual_router_id 1\n\
         lvs_sync_daemon_interface eth0\n}\n",
    );
    assert!(has(&p, "(VI_1) lvs_sync_daemon_interface has already been specified as eth1 - ignoring"));
    assert_eq!(p.config.global.lvs_sync_daemon.as_ref().map(|s| s.interface.as_str()), Some("eth1"));
}

#[test]
fn misc_keywords() {
    let p = inst(
        "priority 0\nversion 4\nstate FOO\nnopreempt\npreempt_delay 2000\ngarp_master_repeat 0\ndown_timer_adverts 200\n\
         smtp_alert maybe\nskip_check_adv_addr\ngarp_extra_if all 10\nvmac_garp_intvl 5\nkernel_rx_buf_size\nmcast_dst_ip 10.0.0.1\n\
         use_vmac 01:00:5e:00:00:01\nthread_timer_expired\nlinkbeat_use_polling\ndebug 9",
    );
    for m in [
        "(VI_1) Priority not valid! must be between 1 & 255. Using default 100",
        "(VI_1): Version must be either 2 or 3",
        "(VI_1) unknown state 'FOO', defaulting to BACKUP",
        "(VI_1) Preempt_delay not valid! must be between 0-1000",
        "(VI_1): garp_master_repeat must be greater than 0, setting to 1",
        "(VI_1): Invalid down_timer_adverts [1:100] '200'",
        "Invalid vrrp_instance smtp_alert parameter maybe",
        "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"",
        "(VI_1) invalid kernel_rx_buf_size specified",
        "(VI_1) mcast_dst_ip 10.0.0.1 not multicast. Skipping...",
        "VMAC MAC address is multicast 01:00:5e:00:00:01 - ignoring",
        "(VI_1) thread_timer_expired - please replace with keyword 'timer_expired_backup'",
        "(VI_1) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block",
        "(VI_1) Debug value '9' not valid; must be between 0-4",
    ] {
        assert!(has(&p, m), "missing: {m}\n{:#?}", p.diags.list);
    }
    let v = &p.config.vrrp.instances[0];
    assert!(v.nopreempt && v.skip_check_adv_addr && v.garp_extra_if_all);
    assert_eq!(v.garp_extra_if, Some(5));
    assert_eq!(v.timer_expired_backup, Some(254));
}

#[test]
fn misc_root_blocks() {
    let p = parse(
        "garp_group {\n interface eth0\n}\ngarp_group {\n garp_interval 0.001\n interfaces {\n eth1 eth9\n }\n}\n\
         linkbeat_interfaces {\n eth0 MII\n eth9\n eth1 FOO\n}\ninterface_up_down_delays {\n eth0 1 2\n}\n\
         track_group TG {\n group {\n VI_1\n }\n}\ntrack_group {\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n}\n",
    );
    assert!(has(&p, "garp group 0 does not have any delay set - removing"));
    assert!(has(&p, "WARNING - interface eth9 specified for garp_group doesn't exist"));
    assert!(has(&p, "unknown interface eth9 specified for linkbeat interface"));
    assert!(has(&p, "extra characters FOO in linkbeat interface"));
    assert!(has(&p, "track_group must have a name - skipping"));
    assert_eq!(p.config.vrrp.up_down_delays[0].up_us, 2_000_000);
    assert_eq!(p.config.vrrp.garp_groups.len(), 1);
    assert_eq!(p.config.ip.track_groups[0].name, "TG");
}

#[test]
fn duplicates_and_names() {
    let p = parse(
        "vrrp_instance {\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\nvrrp_instance A {\n}\n",
    );
    assert!(has(&p, "vrrp_instance must have a name"));
    assert!(has(&p, "vrrp instance A already defined"));
    let p = parse(
        "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 1\n}\n",
    );
    assert!(has(&p, "A and B both use VRID 1 with IPv4 on interface eth0"));
}

/// A sample (tests/data/samples) parsed, and keepalived 2.2.7's `-t`
/// output for it (tests/data/config-test-2.2.7). Either missing fails.
fn sample(name: &str) -> (Parsed, String) {
    let read = |p: String| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let text = read(format!("{SAMPLES}/{name}"));
    let out = read(format!("{RESULTS}/{name}.netns.out"));
    (parse_str(&format!("{SAMPLES}/{name}"), &text, &opts()), out)
}

/// keepalived's lines without the "(file: Line N) " prefix.
fn expected(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| match (l.starts_with('('), l.find(") ")) {
            (true, Some(i)) if l[..i].contains("Line ") => l[i + 2..].to_string(),
            _ => l.to_string(),
        })
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn samples_vrrp_lines() {
    // Lines this area produces (others – global_defs, address/route entries,
    // script security – come from other areas).
    let mine = |l: &str| {
        l.contains("vrrp_instance")
            || l.contains("Unknown keyword 'VI_")
            || l.contains("lvs_sync_daemon")
            || l.contains("Sync group")
            || l.contains("track script")
            || l.contains("vrrp_script")
            || l.contains("Cannot use VMAC")
            || l.contains("Non-existent interface")
            || l.contains("Initial state master")
    };
    for name in [
        "keepalived.conf.vrrp",
        "keepalived.conf.vrrp.localcheck",
        "keepalived.conf.vrrp.lvs_syncd",
        "keepalived.conf.vrrp.routes",
        "keepalived.conf.vrrp.rules",
        "keepalived.conf.vrrp.scripts",
        "keepalived.conf.vrrp.static_ipaddress",
        "keepalived.conf.vrrp.sync",
        "etc.keepalived.conf",
        "etc.keepalived.conf.sample",
        "keepalived.conf.SSL_GET",
        "keepalived.conf.conditional_conf",
        "json_tracking.rendered_2vlans.conf",
        "keepalived.conf.track_interface",
        "test_mk_lots.generated.conf",
        "docker.keepalived.conf",
    ] {
        let (p, out) = sample(name);
        for l in expected(&out).iter().filter(|l| mine(l)) {
            assert!(
                p.diags.iter().any(|d| d.message.trim_end() == l || d.message.starts_with(l.as_str())),
                "{name}: missing {l:?}\n{:#?}",
                p.diags.list
            );
        }
    }
}

#[test]
fn use_ipvlan_words() {
    let p = inst("use_ipvlan ipv1 10.0.0.5/24 private group 5");
    let v = &p.config.vrrp.instances[0];
    let ip = v.use_ipvlan.as_ref().unwrap();
    assert_eq!(ip.ifname.as_deref(), Some("ipv1"));
    assert_eq!(ip.addr, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(ip.prefix, Some(24));
    assert_eq!(ip.mode.as_deref(), Some("private"));
    assert_eq!(ip.group.as_deref(), Some("5"));
    // The address is the instance's source; the feature is implemented.
    assert_eq!(v.src_ip, Some("10.0.0.5".parse().unwrap()));
    assert!(!has(&p, "not implemented"), "{:?}", p.diags);
    let p = inst("use_ipvlan 10.0.0.6 vepa bridge");
    let ip = p.config.vrrp.instances[0].use_ipvlan.clone().unwrap();
    assert_eq!((ip.prefix, ip.mode.as_deref()), (None, Some("vepa")));
    assert!(has(&p, "(VI_1) ipvlan type already specified - ignoring 'bridge'"));
    assert!(has(&inst("use_ipvlan"), "(VI_1) IPv4 ipvlan requires a source ip address to be configured"));
}
