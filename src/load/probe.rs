//! Single requests, one at a time, on one keep-alive connection: how long the target takes
//! when nothing else is sent. Between steps this tells whether a server has worked off the
//! backlog the last step left it (a server keeps working on requests a client gave up on).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::{Conn, Link, Outcome};
use crate::Error;
use crate::target::{Connector, RequestTemplate};

/// Sends probe requests from the calling thread.
pub struct Prober {
    runtime: tokio::runtime::Runtime,
    link: Link,
    conn: RefCell<Option<Conn>>,
}

impl Prober {
    pub fn new(
        template: &Arc<RequestTemplate>,
        connector: &Connector,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Run(format!("cannot start a runtime: {e}")))?;
        Ok(Prober {
            runtime,
            link: Link {
                template: Arc::clone(template),
                connector: connector.clone(),
                timeout,
            },
            conn: RefCell::new(None),
        })
    }

    /// The time one request took, or `None` when it failed.
    pub fn once(&self) -> Option<Duration> {
        let mut conn = self.conn.borrow_mut().take();
        let started = Instant::now();
        if conn.as_mut().is_some_and(|c| c.is_stale(started)) {
            conn = None;
        }
        let mut sent = self.runtime.block_on(self.link.send(conn, 0));
        let took = started.elapsed();
        if let Some(conn) = sent.conn.as_mut() {
            conn.idle_from(started + took);
        }
        *self.conn.borrow_mut() = sent.conn;
        matches!(sent.outcome, Outcome::Success).then_some(took)
    }
}
