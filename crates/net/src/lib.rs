//! keepalived-net
