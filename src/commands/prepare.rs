//! Turns TARGET and the payload flags into a request template and a connector, starting the
//! embedded model server when there is no TARGET.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::Error;
use crate::cli::TargetArgs;
use crate::load::Connector;
use crate::report::{Progress, TargetInfo};
use crate::server::{self, RunningServer, SAMPLE_PAYLOAD, ServerConfig};
use crate::target::{Endpoint, PayloadSet, RequestTemplate, SAGEMAKER_PAYLOAD_LIMIT, Scheme};

/// The embedded server `find` and `run` use without a TARGET: four workers with a fixed
/// 25 ms service time, so its capacity is known (160 req/s) and the demo can be checked.
pub fn demo_server() -> ServerConfig {
    ServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        workers: 4,
        max_queue: 64,
        work_per_request: 1,
        service_time: Duration::from_millis(25),
    }
}

/// Everything a load run needs about its target.
pub struct Prepared {
    pub template: Arc<RequestTemplate>,
    pub connector: Connector,
    pub info: TargetInfo,
    /// Keeps the embedded server alive for the run.
    pub _server: Option<RunningServer>,
}

pub fn prepare(args: &TargetArgs, progress: &Progress) -> Result<Prepared, Error> {
    let (endpoint, server, kind) = match &args.target {
        Some(raw) => {
            let endpoint = Endpoint::parse(raw)?;
            let kind = match endpoint.scheme {
                Scheme::Http => "http",
                Scheme::Https => "https",
            };
            (endpoint, None, kind)
        }
        None => {
            let config = demo_server();
            let running = server::start(&config)?;
            let endpoint = Endpoint::parse(&format!("http://{}/invocations", running.addr))?;
            progress.note(&format!(
                "No TARGET given: using the embedded model server at {} ({} workers × {} ms per request, capacity ≈ {:.0} req/s).",
                endpoint.url(),
                config.workers,
                config.service_time.as_millis(),
                config.nominal_capacity().unwrap_or(0.0)
            ));
            (endpoint, Some(running), "embedded")
        }
    };
    let payloads = match &args.payload {
        Some(path) => PayloadSet::load(path)?,
        None => {
            if server.is_none() {
                progress.note("No --payload given: sending the embedded model's sample request (one Iris flower as JSON).");
            }
            PayloadSet::from_bodies(
                vec![Bytes::from_static(SAMPLE_PAYLOAD.as_bytes())],
                "application/json",
            )
        }
    };
    if payloads.largest() > SAGEMAKER_PAYLOAD_LIMIT {
        progress.note(&format!(
            "warning: a request body is {} bytes, over SageMaker's 6 MB real-time limit; a SageMaker endpoint would reject it",
            payloads.largest()
        ));
    }
    let info = TargetInfo {
        kind: kind.into(),
        url: endpoint.url(),
        payload: payloads.source.clone(),
    };
    let template = RequestTemplate::new(
        endpoint.clone(),
        payloads,
        args.content_type.as_deref(),
        args.accept.as_deref(),
        &args.headers,
    )?;
    let connector = Connector::new(&endpoint)?;
    probe(&connector, args.timeout.min(Duration::from_secs(10)))?;
    Ok(Prepared {
        template: Arc::new(template),
        connector,
        info,
        _server: server,
    })
}

fn probe(connector: &Connector, timeout: Duration) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Run(format!("cannot start a runtime: {e}")))?;
    tokio::task::LocalSet::new().block_on(&rt, connector.probe(timeout))
}
