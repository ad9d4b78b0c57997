//! TLS for the link: the server's self-signed certificate (made once, kept in
//! its folder), its SHA-256 fingerprint, and a client that accepts exactly the
//! pinned certificate (no certificate authority is involved) and still checks
//! that the server holds its key.

use std::{path::Path, sync::Arc, time::Duration};

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::{
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider},
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime},
    DigitallySignedStruct, SignatureScheme,
};
use sha2::{Digest, Sha256};

use crate::{control::ALPN, identity::hex};

/// Certificate file in the server's folder (DER).
pub const CERT_FILE: &str = "hint-server-cert.der";
/// Private key file in the server's folder (PKCS#8 DER, readable by its owner only).
pub const KEY_FILE: &str = "hint-server-key.der";
/// Silence after which either side drops the connection.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Keep-alive interval (well inside [`IDLE_TIMEOUT`]).
pub const KEEP_ALIVE: Duration = Duration::from_secs(1);

/// The server's certificate and key.
#[derive(Debug, Clone)]
pub struct ServerIdentity {
    /// Certificate, DER.
    pub cert: Vec<u8>,
    /// PKCS#8 private key, DER.
    pub key: Vec<u8>,
}

impl ServerIdentity {
    /// A new self-signed certificate.
    pub fn generate() -> Result<Self, String> {
        let c = rcgen::generate_simple_self_signed(vec!["knowledge-boost-hint-server".into()])
            .map_err(|e| format!("cannot make a certificate: {e}"))?;
        Ok(Self {
            cert: c.cert.der().to_vec(),
            key: c.key_pair.serialize_der(),
        })
    }

    /// The identity kept in `dir`, made and saved there on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        if cert.exists() && key.exists() {
            let read = |p: &Path| {
                std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
            };
            return Ok(Self {
                cert: read(&cert)?,
                key: read(&key)?,
            });
        }
        let id = Self::generate()?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let write = |p: &Path, b: &[u8]| {
            std::fs::write(p, b).map_err(|e| format!("cannot write {}: {e}", p.display()))
        };
        write(&key, &id.key)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("cannot restrict {}: {e}", key.display()))?;
        }
        write(&cert, &id.cert)?;
        Ok(id)
    }

    /// The certificate's fingerprint, as clients pin it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert)
    }
}

/// SHA-256 of a DER certificate, lower-case hex.
pub fn fingerprint(cert_der: &[u8]) -> String {
    hex(&Sha256::digest(cert_der))
}

/// Normalises a fingerprint as a user may paste it (colons, spaces, upper case).
pub fn normalise_fingerprint(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// rustls with *ring*: TLS 1.3 with X25519 and P-256/P-384 key exchange.
/// rustls 0.23.48 deprecates it only for lacking post-quantum key exchange,
/// which its aws-lc-rs provider adds at the price of a CMake and C build in
/// every plugin build; the link's secrets live for one session.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn transport() -> quinn::TransportConfig {
    let mut t = quinn::TransportConfig::default();
    t.max_idle_timeout(Some(IDLE_TIMEOUT.try_into().expect("a few seconds")));
    t.keep_alive_interval(Some(KEEP_ALIVE));
    t
}

/// The server's QUIC configuration (TLS 1.3, the link's ALPN, datagrams on).
pub fn server_config(id: &ServerIdentity) -> Result<quinn::ServerConfig, String> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key.clone()));
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(id.cert.clone())], key)
        .map_err(|e| format!("bad server certificate: {e}"))?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| e.to_string())?;
    let mut cfg = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    cfg.transport_config(Arc::new(transport()));
    Ok(cfg)
}

/// A client configuration that trusts only the certificate of `fingerprint`.
pub fn client_config(fingerprint: &str) -> Result<quinn::ClientConfig, String> {
    let pinned = normalise_fingerprint(fingerprint);
    if pinned.len() != 64 {
        return Err(format!(
            "the server fingerprint must be 64 hex digits (SHA-256), got `{fingerprint}`"
        ));
    }
    let provider = provider();
    let verifier = Pinned {
        fingerprint: pinned,
        provider: provider.clone(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicClientConfig::try_from(tls).map_err(|e| e.to_string())?;
    let mut cfg = quinn::ClientConfig::new(Arc::new(crypto));
    cfg.transport_config(Arc::new(transport()));
    Ok(cfg)
}

/// Accepts the one certificate whose SHA-256 is `fingerprint`; signatures are
/// checked as usual, so a copy of the certificate without its key is refused.
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity) == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate is {}, not the pinned {}",
                fingerprint(end_entity),
                self.fingerprint
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
