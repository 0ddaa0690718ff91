#!/usr/bin/env bash
# Generate the VRRP scale benchmark config: VRIDS VRRPv3 IPv4 instances
# (default 250) on each of IFACES interfaces eth0..eth{IFACES-1} (default 4),
# i.e. 1,000 instances, advert_int ADVERT (default 1), priority 100, all
# starting in BACKUP (nobody else is on the links, so each becomes MASTER
# after its master-down timer). One VIP per instance: 10.<if>.<vrid>.1/16
# on eth<if> (whose own address is 10.<if>.255.254/16, see vrrp-scale.sh).
# Few gratuitous ARPs, as in the lab configs. PRIORITY (default 100) sets
# every instance's priority (vrrp-scale.sh PEER=backup uses 50 for the peer).
# RT_PRIORITY=N adds keepalived's `vrrp_rt_priority N` (SCHED_RR for the VRRP child).
#
# Usage: [VRIDS=250] [IFACES=4] [ADVERT=1] [PRIORITY=100] [RT_PRIORITY=N] bench/gen-vrrp-scale.sh > scale.conf
set -eu
VRIDS=${VRIDS:-250}
IFACES=${IFACES:-4}
ADVERT=${ADVERT:-1}
PRIORITY=${PRIORITY:-100}
cat <<'HDR'
global_defs {
    router_id scale
HDR
# With a realtime class, the start (1,000 VIPs and adverts in one go) runs longer than the
# default RLIMIT_RTTIME of 10 ms without blocking: the kernel would kill the child (both
# implementations, as keepalived sets the limit).
[ -n "${RT_PRIORITY:-}" ] && printf "    vrrp_rt_priority %s\n    vrrp_rlimit_rttime 2000000\n" "$RT_PRIORITY"
cat <<'HDR'
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 1
    vrrp_garp_master_refresh 0
    vrrp_garp_lower_prio_repeat 1
}
HDR
for ((i = 0; i < IFACES; i++)); do
    for ((v = 1; v <= VRIDS; v++)); do
        cat <<INST

vrrp_instance VI_${i}_${v} {
    state BACKUP
    interface eth${i}
    virtual_router_id ${v}
    version 3
    priority ${PRIORITY}
    advert_int ${ADVERT}
    virtual_ipaddress {
        10.${i}.${v}.1/16
    }
}
INST
    done
done
