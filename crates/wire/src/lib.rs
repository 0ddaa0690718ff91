//! keepalived-rs wire formats (see the modules).
