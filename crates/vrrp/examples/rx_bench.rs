//! Receive-path throughput: 1,000 backup instances, adverts from their masters round-robin.
//! `cargo run --release -p keepalived-vrrp --example rx_bench`
use keepalived_vrrp::*;
use std::net::{IpAddr, Ipv4Addr};

fn main() {
    let n = 1000usize;
    let instances = (0..n)
        .map(|k| {
            let mut c = InstanceConfig::new(&format!("VI_{k}"), (k % 255) as u8 + 1, 100);
            c.vips = vec![IpAddr::V4(Ipv4Addr::new(10, (k >> 8) as u8, k as u8, 1))];
            c
        })
        .collect();
    let mut r = Router::new(RouterConfig { options: EngineOptions::default(), instances, groups: vec![] });
    let mut out = Vec::with_capacity(64);
    r.handle(Instant(0), Input::Start, &mut out);
    out.clear();
    let adverts: Vec<RxAdvert> = (0..n)
        .map(|k| {
            RxAdvert::new(
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)),
                IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
                2,
                (k % 255) as u8 + 1,
                200,
                100,
            )
            .with_addrs(&[IpAddr::V4(Ipv4Addr::new(10, (k >> 8) as u8, k as u8, 1))])
        })
        .collect();
    let total = 10_000_000usize;
    let start = std::time::Instant::now();
    for k in 0..total {
        let i = k % n;
        r.handle_advert(Instant(k as u64), i, &adverts[i], &mut out);
        out.clear();
    }
    let el = start.elapsed();
    println!("{total} adverts in {:?}: {:.2} M adverts/s", el, total as f64 / el.as_secs_f64() / 1e6);
}
