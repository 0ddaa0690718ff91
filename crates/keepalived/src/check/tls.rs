//! SSL_GET's TLS client (keepalived check_ssl.c `build_ssl_ctx`, `ssl_connect`) over rustls.
//!
//! As 2.2.7, the server's certificate is not verified (OpenSSL's default `SSL_VERIFY_NONE`): an
//! expired, self-signed or wrong-name certificate passes. The handshake's signatures are still checked
//! (the server must hold the key of the certificate it sends) when webpki can read the certificate
//! (not for an X.509 v1 one). The root `SSL { }` block gives the
//! client certificate chain and key (sent when the server asks) and a CA file, loaded (a bad one is
//! an error, as in 2.2.7) but, as in 2.2.7, not used to verify anything.
//!
//! Differences from 2.2.7 (OpenSSL): TLS 1.2 and 1.3 only, rustls's cipher suites; an encrypted key
//! (`password`) cannot be read (rustls reads unencrypted PEM keys only): it fails as a bad key file.
use keepalived_config::lvs::model::SslConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::net::IpAddr;
use std::sync::Arc;

/// Accepts any certificate (keepalived does not verify), checks handshake signatures.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        lenient(verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        lenient(verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A certificate webpki cannot parse (an X.509 v1 certificate, which OpenSSL accepts) leaves the
/// signature unchecked: with the certificate itself unverified, the check proves nothing more.
fn lenient(r: Result<HandshakeSignatureValid, rustls::Error>) -> Result<HandshakeSignatureValid, rustls::Error> {
    match r {
        Err(rustls::Error::InvalidCertificate(_)) => Ok(HandshakeSignatureValid::assertion()),
        r => r,
    }
}

/// The `SSL { }` client certificate, sent whenever the server asks (as OpenSSL does; rustls's own
/// resolver would also refuse an X.509 v1 certificate).
#[derive(Debug)]
struct ClientCert(Arc<CertifiedKey>);

impl ResolvesClientCert for ClientCert {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn certs(path: &str) -> Result<Vec<CertificateDer<'static>>, ()> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path).map_err(|_| ())?.collect();
    certs.ok().filter(|c| !c.is_empty()).ok_or(())
}

/// The client configuration; `Err` with 2.2.7's log line (`SSL error : Cant load … file...`).
pub fn client_config(ssl: Option<&SslConfig>) -> Result<Arc<ClientConfig>, &'static str> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|_| "SSL error: cannot create new SSL context")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerify(provider.clone())));
    let Some(ssl) = ssl else { return Ok(Arc::new(builder.with_no_client_auth())) };
    let chain = match &ssl.certificate {
        Some(f) => Some(certs(f).map_err(|()| "SSL error : Cant load certificate file...")?),
        None => None,
    };
    let key = match &ssl.key {
        Some(f) => Some(PrivateKeyDer::from_pem_file(f).map_err(|_| "SSL error : Cant load key file...")?),
        None => None,
    };
    if let Some(f) = &ssl.ca {
        certs(f).map_err(|()| "SSL error : Cant load CA file...")?;
    }
    let config = match (chain, key) {
        (Some(c), Some(k)) => {
            let key = provider.key_provider.load_private_key(k).map_err(|_| "SSL error : Cant load key file...")?;
            builder.with_client_cert_resolver(Arc::new(ClientCert(Arc::new(CertifiedKey::new(c, key)))))
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// keepalived `init_ssl_ctx`'s lines when the context cannot be built.
pub fn log_init_failure(ssl: Option<&SslConfig>, line: &str) {
    let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(null)".into());
    tracing::info!("{line}");
    tracing::info!("Error Initialize SSL, ctx Instance");
    tracing::info!("  SSL  keyfile:{}", show(ssl.and_then(|s| s.key.as_ref())));
    tracing::info!("  SSL password:{}", show(ssl.and_then(|s| s.password.as_ref())));
    tracing::info!("  SSL   cafile:{}", show(ssl.and_then(|s| s.ca.as_ref())));
    tracing::info!("Terminate...");
}

/// The name given to rustls: `sni` (when SNI is on and a name is known) as a DNS name, which rustls
/// sends as SNI; otherwise the server's address, for which rustls sends no SNI.
pub fn server_name(sni: Option<&str>, addr: IpAddr) -> ServerName<'static> {
    sni.and_then(|n| ServerName::try_from(n.to_string()).ok())
        .filter(|n| matches!(n, ServerName::DnsName(_)))
        .unwrap_or(ServerName::IpAddress(addr.into()))
}
