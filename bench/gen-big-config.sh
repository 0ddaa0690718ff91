#!/usr/bin/env bash
# Generate keepalived's test/mk_lots shape, scaled up: 1,000 VRRPv3
# instances (250 sync groups of 4, VRIDs 1-250 on eth0..eth3) and 100
# virtual servers with 100 real servers each (10,000 real servers, each
# with a TCP_CHECK).
set -eu
cat <<'HDR'
@high net_namespace high
@medium net_namespace medium
@low net_namespace low

global_defs {
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 1
    vrrp_garp_lower_prio_delay 0
    vrrp_garp_lower_prio_repeat 2
    vrrp_lower_prio_no_advert true
}
HDR
for g in $(seq 0 249); do
    printf '\nvrrp_sync_group sync_%d {\n\tgroup {\n' "$g"
    for n in 0 1 2 3; do printf '\t\tVI_%d_%d\n' "$g" "$n"; done
    printf '\t}\n}\n'
done
for g in $(seq 0 249); do
    for n in 0 1 2 3; do
        [ "$g" -lt 100 ] && vmac=use_vmac || vmac=
        cat <<INST

vrrp_instance VI_${g}_${n} {
	state BACKUP
	interface eth${n}
	virtual_router_id $((g + 1))
@high	priority 170
@medium	priority 127
@low	priority 85
	advert_int 1
	version 3
	$vmac

	virtual_ipaddress {
		10.$((100 + n)).$((g / 250)).$((g % 250 + 1))/32
	}
}
INST
    done
done
for v in $(seq 0 99); do
    printf '\nvirtual_server 10.200.%d.%d 80 {\n\tdelay_loop 6\n\tlb_algo wlc\n\tlb_kind NAT\n\tprotocol TCP\n' $((v / 250)) $((v % 250 + 1))
    for r in $(seq 0 99); do
        printf '\treal_server 10.%d.%d.%d 8080 {\n\t\tweight 1\n\t\tTCP_CHECK {\n\t\t\tconnect_timeout 3\n\t\t}\n\t}\n' $((50 + v / 50)) $((v % 50)) $((r + 1))
    done
    printf '}\n'
done
