//! The SMTP/DNS/UDP/PING parsers on arbitrary bytes: never a panic, the
//! SMTP line buffer bounded.
use keepalived_check::{dns, ping, smtp, udp};
use keepalived_config::lvs::model::UdpCheck;
use proptest::prelude::*;

proptest! {
    #[test]
    fn smtp_dialogue_takes_any_bytes(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..700), 0..12)) {
        let mut d = smtp::Dialog::new("h", "[10.0.0.1]:25");
        for c in chunks {
            let (room, _) = d.read_room();
            prop_assert!(room < smtp::BUFF_MAX);
            if let smtp::Step::Done(_) = d.on_data(&c[..c.len().min(room)]) {
                break;
            }
        }
    }

    #[test]
    fn dns_ping_udp_replies_take_any_bytes(id in any::<u16>(), data in prop::collection::vec(any::<u8>(), 0..1000),
                                           mask in prop::option::of(prop::collection::vec(any::<u8>(), 0..40))) {
        let _ = dns::judge(id, &data);
        let _ = ping::judge(false, id, &data);
        let _ = ping::judge(true, id, &data);
        let c = UdpCheck {
            payload: None,
            require_reply: true,
            reply_data: Some(data.iter().rev().take(30).copied().collect()),
            reply_mask: mask,
            min_reply_length: 0,
            max_reply_length: 255,
        };
        let _ = udp::reply_ok(&c, &data);
    }

    #[test]
    fn dns_queries_for_any_name(name in "[a-z0-9.-]{0,80}", t in prop::sample::select(vec!["A", "NS", "SOA", "TXT", "AAAA", "x"])) {
        let _ = dns::query(1, t, &name);
    }
}
