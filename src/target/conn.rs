//! Connections to the endpoint: plain TCP or TLS (rustls, see tls.rs), TCP_NODELAY set. The
//! host is resolved once, before the load starts.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::tls::{self, TlsOptions};
use super::{Endpoint, Scheme};
use crate::Error;

/// A connection's byte stream: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Opens connections to one endpoint.
#[derive(Clone)]
pub struct Connector {
    addrs: Vec<SocketAddr>,
    /// HOST[:PORT] as the URL names it, for messages.
    authority: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Connector {
    /// Prepares TLS when the scheme asks for it (`options` say which certificates to trust;
    /// ignored for http://) and resolves the endpoint's host.
    pub fn new(endpoint: &Endpoint, options: &TlsOptions) -> Result<Self, Error> {
        let tls = match endpoint.scheme {
            Scheme::Http => None,
            Scheme::Https => Some(tls::connector(&endpoint.host, options)?),
        };
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
        Ok(Connector {
            addrs,
            authority: endpoint.authority(),
            tls,
        })
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
            Ok(Err(e)) => Err(Error::Run(
                tls::certificate_failure(&e, &self.authority).unwrap_or_else(|| {
                    format!(
                        "cannot connect to {} ({e}); is the server running and the URL right?",
                        self.addrs[0]
                    )
                }),
            )),
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
