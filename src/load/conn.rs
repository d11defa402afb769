//! Connections to the endpoint: one HTTP/1.1 connection per virtual user (no pool), plain TCP
//! or TLS (rustls), TCP_NODELAY set. The host is resolved once, before the load starts.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::wire::Io;
use crate::Error;
use crate::target::{Endpoint, Scheme};

/// Opens connections to one endpoint.
#[derive(Clone)]
pub struct Connector {
    addrs: Vec<SocketAddr>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Connector {
    /// Resolves the endpoint's host and prepares TLS when the scheme asks for it.
    pub fn new(endpoint: &Endpoint) -> Result<Self, Error> {
        let addrs: Vec<SocketAddr> = (endpoint.host.as_str(), endpoint.port)
            .to_socket_addrs()
            .map_err(|e| {
                Error::Run(format!(
                    "cannot resolve host '{}' ({e}); check the URL and your DNS",
                    endpoint.host
                ))
            })?
            .collect();
        if addrs.is_empty() {
            return Err(Error::Run(format!(
                "host '{}' has no address",
                endpoint.host
            )));
        }
        let tls = match endpoint.scheme {
            Scheme::Http => None,
            Scheme::Https => Some(tls_connector(&endpoint.host)?),
        };
        Ok(Connector { addrs, tls })
    }

    /// Opens one connection (TCP, then TLS for https).
    pub async fn connect(&self) -> std::io::Result<Box<dyn Io>> {
        let stream = self.tcp().await?;
        match &self.tls {
            None => Ok(Box::new(stream)),
            Some((connector, name)) => Ok(Box::new(connector.connect(name.clone(), stream).await?)),
        }
    }

    /// Checks that something listens before any load is sent, so "nothing listening" is one
    /// clear message instead of a table of connect errors.
    pub async fn probe(&self, timeout: Duration) -> Result<(), Error> {
        match tokio::time::timeout(timeout, self.connect()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Error::Run(format!(
                "cannot connect to {} ({e}); is the server running and the URL right?",
                self.addrs[0]
            ))),
            Err(_) => Err(Error::Run(format!(
                "connecting to {} took longer than {} s; is the host reachable?",
                self.addrs[0],
                timeout.as_secs_f64()
            ))),
        }
    }

    async fn tcp(&self) -> std::io::Result<TcpStream> {
        let mut last_err = None;
        for addr in &self.addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
    }
}

fn tls_connector(host: &str) -> Result<(TlsConnector, ServerName<'static>), Error> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Run(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| Error::Input(format!("'{host}' is not a valid TLS server name")))?;
    Ok((TlsConnector::from(Arc::new(config)), name))
}
