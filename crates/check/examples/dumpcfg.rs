fn main() {
    let p = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    let parsed = keepalived_config::parse_str("k.conf", &text, &keepalived_config::ParseOptions::default());
    for d in parsed.diags.iter() { eprintln!("{d}"); }
    for vs in &parsed.config.lvs.virtual_servers {
        eprintln!("vs alpha {} omega {}", vs.alpha, vs.omega);
        for rs in &vs.real_servers { eprintln!(" rs alpha {:?} ck {:?}", rs.alpha, rs.checkers.iter().map(|c| c.alpha).collect::<Vec<_>>()); }
    }
    let c = keepalived_check::EngineConfig::from_config(&parsed.config);
    println!("{}", serde_json::to_string(&c.checkers).unwrap());
}
