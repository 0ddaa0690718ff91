//! Fuzz target bodies, shared by the cargo-fuzz targets (`fuzz/`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`) so the two cannot drift. Not part of the API.

/// Bytes as the rtnetlink datagrams the children read: dump answers of links and addresses
/// (both decoders: netlink-packet-route and ours), monitor notifications, the link detail of
/// the VMAC code, acknowledgements with extended-ack text; and as a proc connector datagram.
pub fn route(data: &[u8]) {
    let _ = crate::transport::fuzz_answer(data, true, &crate::decode_link);
    let _ = crate::transport::fuzz_answer(data, true, &crate::decode_addr);
    let _ = crate::transport::fuzz_answer(data, false, &crate::decode_link);
    for m in crate::messages(data) {
        let Ok(m) = m else { break };
        let _ = (crate::monitor::decode_link(m.bytes), crate::monitor::decode_addr(m.bytes));
        let _ = crate::vmac::parse_link(m.payload);
    }
    for p in crate::procmon::parse_datagram(data) {
        let _ = p;
    }
}

/// Bytes as the generic netlink answers of the IPVS family resolution and queries.
pub fn ipvs(data: &[u8]) {
    crate::ipvs::fuzz_answers(data);
}
