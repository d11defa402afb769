//! peakrps: find the peak sustainable request rate of one inference endpoint instance and turn
//! it into an autoscaling target. The binary in `main.rs` is a thin shell over this library.
//!
//! The map, one line a module, lowest layer first (a module uses only those above it;
//! `tests/architecture.rs` checks it):
//!
//! - `error`    — the error type and the exit code of each kind
//! - `results`  — the results documents (find, run, simulate, compare, shard tallies), each
//!   defined once
//! - `units`    — durations, rates, fractions as people write them
//! - `stats`    — HDR histograms (and their V2 interchange form), windows, step summaries,
//!   stability, confidence intervals, TTFT/ITL tallies
//! - `aws`      — credentials, SigV4, SageMaker runtime and control plane, CloudWatch, autoscaling
//! - `endpoint` — what requests go to: URLs, connections (TCP, TLS), payloads, the request
//!   template, the LLM APIs (OpenAI, TGI, raw) and their streams
//! - `server`   — the embedded SageMaker-contract model server, and its LLM with continuous
//!   batching
//! - `load`     — the engine: closed-loop users, open-loop arrivals on pooled connections,
//!   HTTP/1.1 and token streams on the wire, a shard's share of the load
//! - `search`   — the step schedule, pass/fail rules, the walk guided by the fitted curve (USL,
//!   bounds), fixed plans, recovery between steps, the peak
//! - `scaling`  — policies, the target-tracking controller, the simulator (invocations and
//!   concurrency metrics), the live comparison
//! - `report`   — by format: terminal tables and progress, CSV, HTML pages from templates, SVG
//!   charts; the numbers and wording they share
//! - `cli`      — every flag, its default and its help text
//! - `pipeline` — what a measuring command (find, run) does around its load: the target
//!   prepared, limits raised, Ctrl-C caught, shards resolved, results written, how it ended
//! - `commands` — one module per subcommand (find, run, policy, simulate, report, serve,
//!   merge, compare, completions and man): flags in, library calls, how the command ended

pub mod aws;
pub mod cli;
pub mod commands;
pub mod endpoint;
pub mod error;
pub mod load;
pub mod pipeline;
pub mod report;
pub mod results;
pub mod scaling;
pub mod search;
pub mod server;
pub mod stats;
pub mod units;

pub use error::Error;
