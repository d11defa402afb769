//! Connections to the endpoint: plain TCP or TLS (rustls, see tls.rs), TCP_NODELAY set. The
//! host is resolved before the load starts and again every 30 s while it runs, and new
//! connections are spread over all its addresses (real endpoints, SageMaker's runtime and
//! load balancers, answer with several that rotate).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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

/// How long resolved addresses are used before the host is resolved again.
const RESOLVE_EVERY: Duration = Duration::from_secs(30);

/// The endpoint's addresses, shared by every connection of a run.
struct Addresses {
    host: String,
    port: u16,
    /// The addresses and when they were resolved.
    list: RwLock<(Arc<[SocketAddr]>, Instant)>,
    /// The address the next connection tries first.
    next: AtomicUsize,
    /// A resolution is under way (one at a time; the others use the list they have).
    refreshing: AtomicBool,
    /// The host is an IP address: nothing to resolve again.
    literal: bool,
}

impl Addresses {
    fn new(host: &str, port: u16, list: Vec<SocketAddr>) -> Self {
        Addresses {
            host: host.to_string(),
            port,
            list: RwLock::new((Arc::from(list), Instant::now())),
            next: AtomicUsize::new(0),
            refreshing: AtomicBool::new(false),
            literal: host.parse::<IpAddr>().is_ok(),
        }
    }

    fn current(&self) -> (Arc<[SocketAddr]>, Instant) {
        match self.list.read() {
            Ok(guard) => (Arc::clone(&guard.0), guard.1),
            Err(poisoned) => {
                let guard = poisoned.into_inner();
                (Arc::clone(&guard.0), guard.1)
            }
        }
    }

    fn first(&self) -> SocketAddr {
        let (list, _) = self.current();
        list[0]
    }

    /// Every address once, starting with the next one in turn.
    fn in_turn(&self) -> Vec<SocketAddr> {
        let (list, _) = self.current();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % list.len();
        list[first..]
            .iter()
            .chain(&list[..first])
            .copied()
            .collect()
    }

    /// Resolves the host again when the list is older than `RESOLVE_EVERY`; a failed or
    /// empty answer keeps the old list.
    async fn refresh_if_stale(&self) {
        let (_, resolved) = self.current();
        if self.literal
            || resolved.elapsed() < RESOLVE_EVERY
            || self.refreshing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let fresh: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map(Iterator::collect)
            .unwrap_or_default();
        let mut guard = match self.list.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !fresh.is_empty() {
            guard.0 = Arc::from(fresh);
        }
        guard.1 = Instant::now();
        drop(guard);
        self.refreshing.store(false, Ordering::Release);
    }
}

/// Opens connections to one endpoint.
#[derive(Clone)]
pub struct Connector {
    addrs: Arc<Addresses>,
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
            .map_err(|source| Error::Network {
                message: format!(
                    "cannot resolve host '{}' ({source}); check the URL and your DNS",
                    endpoint.host
                ),
                source,
            })?
            .collect();
        if addrs.is_empty() {
            return Err(Error::Run(format!(
                "host '{}' has no address",
                endpoint.host
            )));
        }
        Ok(Connector {
            addrs: Arc::new(Addresses::new(&endpoint.host, endpoint.port, addrs)),
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
            Ok(Err(source)) => Err(Error::Network {
                message: tls::handshake_failure(&source, &self.authority).unwrap_or_else(|| {
                    format!(
                        "cannot connect to {} ({source}); is the server running and the URL right?",
                        self.addrs.first()
                    )
                }),
                source,
            }),
            Err(_) => Err(Error::Run(format!(
                "connecting to {} took longer than {} s; is the host reachable?",
                self.addrs.first(),
                timeout.as_secs_f64()
            ))),
        }
    }

    /// A TCP connection to the next address in turn (the others if it refuses).
    async fn tcp(&self) -> std::io::Result<TcpStream> {
        self.addrs.refresh_if_stale().await;
        let mut last_err = None;
        for addr in self.addrs.in_turn() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two addresses of one host (127.0.0.1 and 127.0.0.2 are both this machine): new
    /// connections alternate between them.
    #[test]
    fn connections_are_spread_over_every_address() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let a = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let b = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
            let list = vec![a.local_addr().unwrap(), b.local_addr().unwrap()];
            let connector = Connector {
                addrs: Arc::new(Addresses::new("example.test", 80, list.clone())),
                authority: "example.test".into(),
                tls: None,
            };
            let mut peers = Vec::new();
            for _ in 0..4 {
                let stream = connector.tcp().await.unwrap();
                peers.push(stream.peer_addr().unwrap());
            }
            assert_eq!(peers, [list[0], list[1], list[0], list[1]]);
        });
    }
}
