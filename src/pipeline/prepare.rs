//! Turns TARGET and the payload flags into a request template and a connector, starting the
//! embedded model server when there is no TARGET.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::Error;
use crate::aws::credentials::{self, LiveCredentials};
use crate::aws::runtime::{self, InvokeOptions, InvokeSigner, SIGNING_NAME};
use crate::aws::sigv4::Signer;
use crate::aws::{Aws, AwsOptions};
use crate::cli::{SageMakerArgs, TargetArgs, TlsArgs};
use crate::endpoint::llm::StreamSpec;
use crate::endpoint::sagemaker;
use crate::endpoint::{
    Connector, Endpoint, PayloadSet, RequestTemplate, SAGEMAKER_PAYLOAD_LIMIT, Scheme,
};
use crate::report::Progress;
use crate::results::{PartialLog, SageMakerTarget, TargetInfo};
use crate::server::{self, RunningServer, SAMPLE_PAYLOAD, ServerConfig, WhenFull};

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
        when_full: WhenFull::Unavailable,
    }
}

/// Everything a load run needs about its target.
pub struct Prepared {
    pub template: Arc<RequestTemplate>,
    pub connector: Connector,
    pub info: TargetInfo,
    /// The embedded server, kept alive for the run (none with a TARGET).
    pub server: Option<RunningServer>,
    /// A `sagemaker://` target's AWS side (for `--cloudwatch` and DescribeEndpoint).
    pub sagemaker: Option<SageMakerSession>,
    /// `FILE.partial.jsonl` beside `--json FILE` (none for `--json -`), created only once
    /// the target is ready, so bad input leaves no file behind.
    pub partial: Option<PartialLog>,
}

/// What the calls beside a `sagemaker://` load need: the AWS configuration, the
/// credentials kept fresh in the background, and the endpoint.
pub struct SageMakerSession {
    pub aws: Aws,
    pub credentials: Arc<LiveCredentials>,
    pub target: SageMakerTarget,
}

impl SageMakerSession {
    /// A signer for SageMaker's APIs in the endpoint's region.
    pub fn signer(&self) -> Signer {
        Signer::new(
            SIGNING_NAME,
            &self.target.region,
            Arc::clone(&self.credentials),
        )
    }
}

/// A `sagemaker://` target resolved: where requests go, the headers InvokeEndpoint takes,
/// and the AWS configuration that signs them.
struct SageMakerPlan {
    endpoint: Endpoint,
    headers: Vec<String>,
    aws: Aws,
    info: SageMakerTarget,
}

fn plan_sagemaker(
    name: String,
    args: &SageMakerArgs,
    stream: bool,
) -> Result<SageMakerPlan, Error> {
    let options = InvokeOptions {
        target_model: args.target_model.clone(),
        target_variant: args.target_variant.clone(),
        target_container_hostname: args.target_container_hostname.clone(),
        inference_component: args.inference_component.clone(),
        custom_attributes: args.custom_attributes.clone(),
        inference_id: args.inference_id.clone(),
    };
    let headers = options.headers()?;
    let aws = Aws::load(&AwsOptions {
        region: args.aws.region.clone(),
        profile: args.aws.profile.clone(),
    })?;
    let region = aws.region();
    let service_env = std::env::var("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME").ok();
    let base = runtime::base_url(
        args.endpoint_url.as_deref(),
        service_env.as_deref(),
        aws.config.endpoint_url(),
        &region,
    );
    let endpoint = sagemaker::invocation_endpoint(&base, &name, stream)?;
    Ok(SageMakerPlan {
        endpoint,
        headers,
        aws,
        info: SageMakerTarget {
            endpoint: name,
            region,
            variant: args.target_variant.clone(),
        },
    })
}

/// SageMaker flags given with a target that is not `sagemaker://`: say so rather than ignore them.
fn reject_sagemaker_flags(args: &SageMakerArgs) -> Result<(), Error> {
    let given = [
        ("--region", args.aws.region.is_some()),
        ("--aws-profile", args.aws.profile.is_some()),
        ("--endpoint-url", args.endpoint_url.is_some()),
        ("--target-model", args.target_model.is_some()),
        ("--target-variant", args.target_variant.is_some()),
        (
            "--target-container-hostname",
            args.target_container_hostname.is_some(),
        ),
        ("--inference-component", args.inference_component.is_some()),
        ("--custom-attributes", args.custom_attributes.is_some()),
        ("--inference-id", args.inference_id.is_some()),
        ("--cloudwatch", args.cloudwatch),
    ];
    match given.iter().find(|(_, set)| *set) {
        Some((flag, _)) => Err(Error::Input(format!(
            "{flag} only applies to sagemaker://ENDPOINT targets"
        ))),
        None => Ok(()),
    }
}

/// TLS flags given with a target that is not `https://`: say so rather than ignore them.
fn reject_tls_flags(args: &TlsArgs, target: &str) -> Result<(), Error> {
    match args.given() {
        Some(flag) => Err(Error::Input(format!(
            "{flag} only applies to https:// targets; {target}"
        ))),
        None => Ok(()),
    }
}

/// The one warning line --insecure prints.
const INSECURE_WARNING: &str =
    "warning: --insecure: any certificate is accepted; the server's identity is not checked";

/// Prepares the target of `find` or `run`: checks the flags, starts the embedded server
/// when there is no TARGET, builds and signs the request template, and probes the target.
pub fn prepare(args: &TargetArgs, progress: &Progress) -> Result<Prepared, Error> {
    crate::report::check_report_files(args.report_files())?;
    super::llm::check_flags(&args.stream)?;
    let Chosen {
        endpoint,
        server,
        kind,
        sagemaker,
    } = choose_endpoint(args, progress)?;
    let tls = args.tls.options()?;
    let (payloads, stream_spec) = payloads(args, &endpoint, server.is_some(), progress)?;
    let info = TargetInfo {
        kind: kind.into(),
        url: endpoint.url(),
        payload: payloads.source.clone(),
        sagemaker: sagemaker.as_ref().map(|p| p.info.clone()),
    };
    let mut template = template(args, &endpoint, payloads, sagemaker.as_ref())?;
    if let Some(spec) = stream_spec {
        template = template.with_stream(spec);
    }
    let (template, session) = match sagemaker {
        Some(plan) => {
            let (template, session) = sign(template, plan, &endpoint)?;
            (template, Some(session))
        }
        None => (template, None),
    };
    let connector = Connector::new(&endpoint, &tls)?;
    if args.tls.insecure {
        eprintln!("{INSECURE_WARNING}");
    }
    probe(&connector, args.timeout.min(Duration::from_secs(10)))?;
    let partial = args
        .json
        .as_deref()
        .filter(|path| !crate::results::is_stdio(path))
        .map(PartialLog::create)
        .transpose()?;
    Ok(Prepared {
        template: Arc::new(template),
        connector,
        info,
        server,
        sagemaker: session,
        partial,
    })
}

/// Where requests go, and what stands behind it.
struct Chosen {
    endpoint: Endpoint,
    /// The embedded server, when there is no TARGET.
    server: Option<RunningServer>,
    /// `TargetInfo::kind`: sagemaker, http, https or embedded.
    kind: &'static str,
    sagemaker: Option<SageMakerPlan>,
}

/// TARGET resolved (`sagemaker://`, a URL, or none: the embedded server started), refusing
/// flags that do not apply to it.
fn choose_endpoint(args: &TargetArgs, progress: &Progress) -> Result<Chosen, Error> {
    let sagemaker_target = args
        .target
        .as_deref()
        .and_then(sagemaker::parse_target)
        .transpose()?;
    let chosen = |endpoint, server, kind| Chosen {
        endpoint,
        server,
        kind,
        sagemaker: None,
    };
    match (&args.target, sagemaker_target) {
        (_, Some(name)) => {
            reject_tls_flags(
                &args.tls,
                "sagemaker:// always uses AWS's public certificates",
            )?;
            let plan = plan_sagemaker(name, &args.sagemaker, args.stream.stream)?;
            Ok(Chosen {
                endpoint: plan.endpoint.clone(),
                server: None,
                kind: "sagemaker",
                sagemaker: Some(plan),
            })
        }
        (Some(raw), None) => {
            reject_sagemaker_flags(&args.sagemaker)?;
            let endpoint = Endpoint::parse(raw)?;
            let kind = match endpoint.scheme {
                Scheme::Http => {
                    reject_tls_flags(&args.tls, &format!("{raw} is plain http"))?;
                    "http"
                }
                Scheme::Https => "https",
            };
            Ok(chosen(endpoint, None, kind))
        }
        (None, None) => {
            reject_sagemaker_flags(&args.sagemaker)?;
            reject_tls_flags(
                &args.tls,
                "without TARGET the embedded server speaks plain http",
            )?;
            let (endpoint, running) = if args.stream.stream {
                embedded_llm(args, progress)?
            } else {
                embedded_model(progress)?
            };
            Ok(chosen(endpoint, Some(running), "embedded"))
        }
    }
}

/// `--stream` without TARGET: the embedded LLM server, started.
fn embedded_llm(
    args: &TargetArgs,
    progress: &Progress,
) -> Result<(Endpoint, RunningServer), Error> {
    let config = super::llm::demo_llm();
    let running = crate::server::llm::start(&config)?;
    let url = format!("http://{}/v1/chat/completions", running.addr);
    let endpoint = Endpoint::parse(&url)?;
    let prompt = u64::from(
        args.stream
            .prompt_tokens
            .unwrap_or(super::llm::DEFAULT_PROMPT_TOKENS),
    );
    progress.note(&format!(
        "No TARGET given: using the embedded LLM server at {url} ({}).",
        config.describe(prompt)
    ));
    Ok((endpoint, running))
}

/// No TARGET: the embedded model server, started.
fn embedded_model(progress: &Progress) -> Result<(Endpoint, RunningServer), Error> {
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
    Ok((endpoint, running))
}

/// The request bodies (`--payload`, streaming prompts, or the embedded model's sample),
/// with what is worth a note about them.
fn payloads(
    args: &TargetArgs,
    endpoint: &Endpoint,
    embedded: bool,
    progress: &Progress,
) -> Result<(PayloadSet, Option<StreamSpec>), Error> {
    let user_payloads = args.payload.as_deref().map(PayloadSet::load).transpose()?;
    let mut stream_spec = None;
    let payloads = match user_payloads {
        _ if args.stream.stream => {
            let api = super::llm::api_of(&args.stream, &endpoint.path.to_string());
            let (set, spec) = super::llm::stream_payloads(&args.stream, api, user_payloads)?;
            stream_spec = Some(spec);
            set
        }
        Some(set) => set,
        None => {
            if !embedded {
                progress.note("No --payload given: sending the embedded model's sample request (one Iris flower as JSON).");
            }
            PayloadSet::from_bodies(
                vec![Bytes::from_static(SAMPLE_PAYLOAD.as_bytes())],
                "application/json",
            )
        }
    };
    if let (None, Some(note)) = (&args.content_type, &payloads.content_type_note) {
        progress.note(note);
    }
    if payloads.largest() > SAGEMAKER_PAYLOAD_LIMIT {
        progress.note(&format!(
            "warning: a request body is {} bytes, over SageMaker's 6 MB real-time limit; a SageMaker endpoint would reject it",
            payloads.largest()
        ));
    }
    Ok((payloads, stream_spec))
}

/// The request template: the bodies, their headers, and InvokeEndpoint's own headers.
fn template(
    args: &TargetArgs,
    endpoint: &Endpoint,
    payloads: PayloadSet,
    sagemaker: Option<&SageMakerPlan>,
) -> Result<RequestTemplate, Error> {
    let mut headers = args.headers.clone();
    if let Some(plan) = sagemaker {
        headers.extend(plan.headers.iter().cloned());
    }
    RequestTemplate::new(
        endpoint.clone(),
        payloads,
        args.content_type.as_deref(),
        args.accept.as_deref(),
        &headers,
    )
}

/// A `sagemaker://` target's requests signed (SigV4, credentials kept fresh), after the
/// warning that the load goes to a real endpoint.
fn sign(
    template: RequestTemplate,
    plan: SageMakerPlan,
    endpoint: &Endpoint,
) -> Result<(RequestTemplate, SageMakerSession), Error> {
    eprintln!("{}", sagemaker::PRODUCTION_WARNING);
    let credentials = credentials::load(&plan.aws)?;
    let session = SageMakerSession {
        aws: plan.aws,
        credentials,
        target: plan.info,
    };
    let bodies: Vec<Bytes> = (0..template.payloads.len())
        .map(|i| template.payloads.body(i))
        .collect();
    let signer = InvokeSigner::new(
        session.signer(),
        &endpoint.url(),
        bodies.iter().map(|b| &b[..]),
    );
    Ok((template.with_signer(Arc::new(signer)), session))
}

fn probe(connector: &Connector, timeout: Duration) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Run(format!("cannot start a runtime: {e}")))?;
    tokio::task::LocalSet::new().block_on(&rt, connector.probe(timeout))
}
