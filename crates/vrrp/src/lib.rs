//! keepalived-rs VRRP engine.
