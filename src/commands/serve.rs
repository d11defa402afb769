//! `peakrps serve`: the embedded model server in the foreground until Ctrl-C.

use super::Completion;
use crate::Error;
use crate::cli::ServeArgs;
use crate::pipeline::Interrupt;
use crate::server::{self, ServerConfig};

pub fn serve(args: &ServeArgs) -> Result<Completion, Error> {
    if let Some(flag) = args.llm.given_without_llm() {
        return Err(Error::Input(format!("{flag} only applies to serve --llm")));
    }
    if args.llm.llm {
        return serve_llm(args);
    }
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |w| w as usize,
    );
    let config = ServerConfig {
        host: args.host.clone(),
        port: args.port,
        workers,
        max_queue: args.max_queue,
        work_per_request: args.work_per_request,
        service_time: args.service_time,
        when_full: args.when_full,
    };
    // Every client connection is an open file: allow as many as the OS lets this process.
    let _ = crate::pipeline::limits::raise_open_files_limit();
    let interrupt = Interrupt::install();
    let running = server::start(&config)?;
    let capacity = config
        .nominal_capacity()
        .map(|c| format!(", capacity ≈ {c:.0} req/s"))
        .unwrap_or_default();
    eprintln!(
        "peakrps model server listening on http://{} ({} workers, queue {}{capacity}); POST /invocations, GET /ping; Ctrl-C stops",
        running.addr, config.workers, config.max_queue
    );
    while !interrupt.is_set() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // What the server measured itself: the ground truth to hold any load tool's figures to.
    if let Some(count) = running.work_done().describe() {
        eprintln!("The server's own count: {count}.");
    }
    drop(running);
    Ok(Completion::Done)
}

/// `serve --llm`: the LLM server in the foreground until Ctrl-C.
fn serve_llm(args: &ServeArgs) -> Result<Completion, Error> {
    if args.workers.is_some() || !args.service_time.is_zero() || args.work_per_request != 1 {
        return Err(Error::Input(
            "--workers, --service-time and --work-per-request shape the Iris server; serve --llm takes --batch, --prefill-per-token, --decode-step and --decode-per-seq".into(),
        ));
    }
    let config = crate::pipeline::llm::llm_config(&args.llm, &args.host, args.port);
    let _ = crate::pipeline::limits::raise_open_files_limit();
    let interrupt = Interrupt::install();
    let running = crate::server::llm::start(&config)?;
    eprintln!(
        "peakrps LLM server listening on http://{} ({}); POST /v1/chat/completions, /v1/completions, /invocations; Ctrl-C stops",
        running.addr,
        config.describe(u64::from(crate::pipeline::llm::DEFAULT_PROMPT_TOKENS))
    );
    while !interrupt.is_set() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(running);
    Ok(Completion::Done)
}
