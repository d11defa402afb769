//! TLS for https:// targets: rustls with the aws-lc-rs provider, trusting the public roots plus a
//! private CA (--ca-cert), or any certificate (--insecure); and what a failed handshake means.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_rustls::TlsConnector;

use crate::Error;

/// How an https:// target's certificate is checked. The default trusts the public roots
/// (webpki-roots) only; `load` reads --ca-cert's file, so what is here has been checked.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// CA certificates trusted in addition to the public roots (from --ca-cert).
    extra_roots: Vec<CertificateDer<'static>>,
    /// Accept any certificate: the server's identity is not checked (handshake signatures are).
    insecure: bool,
}

impl TlsOptions {
    /// The options of --ca-cert FILE and --insecure; a file that gives no usable CA
    /// certificate is an `Error::Input` naming it.
    pub fn load(ca_cert: Option<&Path>, insecure: bool) -> Result<Self, Error> {
        let extra_roots = match ca_cert {
            Some(path) => load_ca_file(path)?,
            None => Vec::new(),
        };
        Ok(TlsOptions {
            extra_roots,
            insecure,
        })
    }
}

/// The client side of TLS for one server name.
pub fn connector(
    host: &str,
    options: &TlsOptions,
) -> Result<(TlsConnector, ServerName<'static>), Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::setup("TLS setup failed", e))?;
    let mut config = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate::new(&provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // Each was added to a store once already, in `load_ca_file`.
        roots.add_parsable_certificates(options.extra_roots.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| Error::Input(format!("'{host}' is not a valid TLS server name")))?;
    Ok((TlsConnector::from(Arc::new(config)), name))
}

/// Every certificate in a PEM file: at least one, each usable as a trust anchor, or an
/// `Error::Input` naming the file.
fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let say = |why: String| {
        format!(
            "--ca-cert {}: {why}; give a PEM file with your CA's certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )
    };
    let text = std::fs::read(path)
        .map_err(|e| Error::file(path, say(format!("cannot read it ({e})")), e))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(say(format!("not valid PEM ({e})")), e))?;
    if certs.is_empty() {
        return Err(Error::Input(say("no certificate in it".into())));
    }
    let mut check = RootCertStore::empty();
    for cert in &certs {
        check.add(cert.clone()).map_err(|e| {
            Error::invalid(say(format!("a certificate in it cannot be used ({e})")), e)
        })?;
    }
    Ok(certs)
}

/// What a failed handshake says to the user when its cause is known: the certificate, or a
/// server that answered in plain HTTP (`None` for any other failure).
pub fn handshake_failure(error: &std::io::Error, authority: &str) -> Option<String> {
    certificate_failure(error, authority).or_else(|| plain_http_answer(error, authority))
}

/// An https:// target whose server answered in plain HTTP: its first bytes ("HTTP/1.1 400")
/// are no TLS record, which rustls calls a corrupt message of type InvalidContentType.
fn plain_http_answer(error: &std::io::Error, authority: &str) -> Option<String> {
    let cause = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    matches!(
        cause,
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
    )
    .then(|| {
        format!(
            "TLS handshake with {authority} failed: the server answered in plain HTTP, not TLS; use http://{authority}/… instead of https://"
        )
    })
}

/// What a failed handshake says to the user when the certificate was the cause (`None` for
/// any other failure). `authority` is HOST[:PORT].
fn certificate_failure(error: &std::io::Error, authority: &str) -> Option<String> {
    let rustls::Error::InvalidCertificate(cause) =
        error.get_ref()?.downcast_ref::<rustls::Error>()?
    else {
        return None;
    };
    let advice = match cause {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
            "the certificate is not trusted ({cause}); pass --ca-cert FILE with your CA, or --insecure to skip the check"
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!(
                "the certificate does not name this host ({cause}); use a host name it names, or --insecure to skip the check"
            )
        }
        _ => format!(
            "the certificate was rejected ({cause}); fix the server's certificate, or pass --insecure to skip the check"
        ),
    };
    Some(format!("TLS handshake with {authority} failed: {advice}"))
}

/// --insecure: any certificate chain is accepted, but the handshake's signatures are still
/// checked with the provider's algorithms, so the session is with the holder of that key.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AcceptAnyCertificate {
    fn new(provider: &CryptoProvider) -> Self {
        AcceptAnyCertificate {
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for AcceptAnyCertificate {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_error(e: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn unknown_issuer_points_to_the_flags() {
        let e = io_error(CertificateError::UnknownIssuer.into());
        let text = certificate_failure(&e, "localhost:8443").unwrap();
        assert!(text.starts_with("TLS handshake with localhost:8443 failed: the certificate is not trusted (UnknownIssuer)"), "{text}");
        assert!(
            text.contains("--ca-cert FILE") && text.contains("--insecure"),
            "{text}"
        );
    }

    #[test]
    fn a_plain_http_answer_points_to_http() {
        let e = io_error(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType,
        ));
        let text = handshake_failure(&e, "127.0.0.1:8080").unwrap();
        assert!(
            text.contains("answered in plain HTTP") && text.contains("use http://127.0.0.1:8080/"),
            "{text}"
        );
        assert!(certificate_failure(&e, "127.0.0.1:8080").is_none());
    }

    #[test]
    fn other_failures_are_not_about_the_certificate() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(certificate_failure(&refused, "h:1").is_none());
        let alert = io_error(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert!(certificate_failure(&alert, "h:1").is_none());
    }

    #[test]
    fn a_file_without_a_certificate_is_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing.pem");
        for (path, why) in [
            (&empty, "no certificate in it"),
            (&missing, "cannot read it"),
        ] {
            match TlsOptions::load(Some(path), false) {
                Err(e) if e.exit_code() == 2 => {
                    let text = e.to_string();
                    assert!(
                        text.contains(&path.display().to_string()) && text.contains(why),
                        "{text}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
