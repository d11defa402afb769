//! The embedded LLM's engine: continuous batching on one thread, with a documented cost so
//! its capacity at any SLO follows from a formula. Each engine step admits waiting sequences
//! while fewer than `batch` run, then takes
//!
//! ```text
//! step(b, P) = decode_step + decode_per_seq × b + prefill_per_token × P
//! ```
//!
//! where b is the number of sequences running and P the prompt tokens of the sequences
//! admitted in this step (their prefill). At the end of the step every running sequence
//! emits one token (a new one its first). So, for a prompt of P tokens:
//!
//! - TTFT on an idle server: `step(1, P)`;
//! - inter-token latency at a steady batch b: `step(b, 0)`, and `step(b, P)` in a step that
//!   also admits one new prompt;
//! - output tokens per second at batch b: about `b / step(b, 0)`;
//! - past `batch` concurrent requests the others wait for a free slot: throughput stops
//!   growing and latency grows with the queue, so the peak concurrency is
//!   `min(batch, largest b with step(b, P) ≤ max ITL and TTFT within max TTFT)`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

/// The engine's shape and cost (flags of `serve --llm`).
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// Sequences decoded together at most.
    pub batch: usize,
    pub prefill_per_token: Duration,
    pub decode_step: Duration,
    pub decode_per_seq: Duration,
}

impl EngineConfig {
    /// The time of one step with `batch` sequences running, `prefill_tokens` of them new.
    pub fn step(&self, batch: usize, prefill_tokens: u64) -> Duration {
        let per_token = self.prefill_per_token.as_secs_f64() * prefill_tokens as f64;
        self.decode_step
            + self.decode_per_seq * u32::try_from(batch).unwrap_or(u32::MAX)
            + Duration::from_secs_f64(per_token)
    }

    /// TTFT of one request of `prompt_tokens` on an idle server.
    pub fn idle_ttft(&self, prompt_tokens: u64) -> Duration {
        self.step(1, prompt_tokens)
    }

    /// The highest concurrency that keeps every inter-token gap within `max_itl` (a step
    /// that also admits one prompt of `prompt_tokens` included) and TTFT on an idle server
    /// within `max_ttft`, and needs no queueing: the formula's peak. 0 when even one
    /// request misses the SLOs.
    pub fn peak_concurrency(
        &self,
        prompt_tokens: u64,
        max_itl: Duration,
        max_ttft: Duration,
    ) -> usize {
        if self.idle_ttft(prompt_tokens) > max_ttft {
            return 0;
        }
        (1..=self.batch)
            .take_while(|&b| self.step(b, prompt_tokens) <= max_itl)
            .last()
            .unwrap_or(0)
    }

    /// Output tokens per second with `batch` sequences running and none admitted.
    pub fn tokens_per_second(&self, batch: usize) -> f64 {
        batch as f64 / self.step(batch, 0).as_secs_f64()
    }
}

/// What a sequence sends back to its request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Emitted {
    /// The next token's text.
    Token(String),
    /// The sequence is complete: its prompt and output lengths.
    Done {
        prompt_tokens: u64,
        output_tokens: u64,
    },
}

/// A request handed to the engine.
pub struct Sequence {
    pub prompt_tokens: u64,
    pub max_tokens: u64,
    /// Where the tokens go; the sequence is dropped when its client has gone.
    pub tokens: UnboundedSender<Emitted>,
    /// Picks the words the sequence "generates".
    pub seed: u64,
    generated: u64,
}

impl Sequence {
    pub fn new(
        prompt_tokens: u64,
        max_tokens: u64,
        tokens: UnboundedSender<Emitted>,
        seed: u64,
    ) -> Self {
        Sequence {
            prompt_tokens,
            max_tokens: max_tokens.max(1),
            tokens,
            seed,
            generated: 0,
        }
    }

    /// Emits the next token; false when the sequence is over (finished or abandoned).
    fn emit(&mut self) -> bool {
        let word = WORDS[((self.seed + self.generated) % WORDS.len() as u64) as usize];
        self.generated += 1;
        if self
            .tokens
            .send(Emitted::Token(format!("{word} ")))
            .is_err()
        {
            return false;
        }
        if self.generated < self.max_tokens {
            return true;
        }
        let _ = self.tokens.send(Emitted::Done {
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.generated,
        });
        false
    }
}

const WORDS: [&str; 12] = [
    "the", "model", "streams", "one", "token", "at", "a", "time", "while", "the", "batch", "grows",
];

/// Runs the engine until `new` closes: `admitted` counts sequences running or waiting (the
/// server refuses requests past its limit), and drops as each one ends.
pub fn run(config: &EngineConfig, new: &Receiver<Sequence>, admitted: &Arc<AtomicUsize>) {
    let mut running: Vec<Sequence> = Vec::new();
    let mut waiting: VecDeque<Sequence> = VecDeque::new();
    loop {
        if running.is_empty() && waiting.is_empty() {
            match new.recv_timeout(Duration::from_secs(1)) {
                Ok(seq) => waiting.push_back(seq),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let started = Instant::now();
        waiting.extend(new.try_iter());
        let mut prefill = 0;
        while running.len() < config.batch.max(1) {
            let Some(seq) = waiting.pop_front() else {
                break;
            };
            prefill += seq.prompt_tokens;
            running.push(seq);
        }
        let step = config.step(running.len(), prefill);
        if let Some(rest) = (started + step).checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
        let before = running.len();
        running.retain_mut(Sequence::emit);
        admitted.fetch_sub(before - running.len(), Ordering::AcqRel);
        // A waiting sequence whose client left is dropped without taking a slot.
        let waited = waiting.len();
        waiting.retain(|s| !s.tokens.is_closed());
        admitted.fetch_sub(waited - waiting.len(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EngineConfig {
        EngineConfig {
            batch: 8,
            prefill_per_token: Duration::from_micros(100),
            decode_step: Duration::from_millis(10),
            decode_per_seq: Duration::from_millis(1),
        }
    }

    #[test]
    fn the_formula_gives_ttft_itl_and_the_peak() {
        let c = config();
        assert_eq!(
            c.idle_ttft(256),
            Duration::from_micros(10_000 + 1_000 + 25_600)
        );
        assert_eq!(c.step(4, 0), Duration::from_millis(14));
        assert!((c.tokens_per_second(8) - 8.0 / 0.018).abs() < 1e-9);
        let loose = Duration::from_secs(1);
        assert_eq!(c.peak_concurrency(256, loose, loose), 8, "the batch binds");
        // step(b, 256) = 35.6 ms + b ms ≤ 40 ms: b ≤ 4.
        assert_eq!(c.peak_concurrency(256, Duration::from_millis(40), loose), 4);
        assert_eq!(c.peak_concurrency(256, loose, Duration::from_millis(30)), 0);
    }

    #[test]
    fn sequences_are_batched_and_stream_their_tokens() {
        let c = EngineConfig {
            batch: 2,
            prefill_per_token: Duration::ZERO,
            decode_step: Duration::from_millis(5),
            decode_per_seq: Duration::ZERO,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let admitted = Arc::new(AtomicUsize::new(3));
        let mut outputs = Vec::new();
        for i in 0..3 {
            let (out, got) = tokio::sync::mpsc::unbounded_channel();
            tx.send(Sequence::new(10, 4, out, i)).unwrap();
            outputs.push(got);
        }
        let counter = Arc::clone(&admitted);
        let engine = std::thread::spawn(move || run(&c, &rx, &counter));
        let started = Instant::now();
        let mut done_at = Vec::new();
        for got in &mut outputs {
            let mut tokens = 0;
            loop {
                match got.blocking_recv() {
                    Some(Emitted::Token(_)) => tokens += 1,
                    Some(Emitted::Done { output_tokens, .. }) => {
                        assert_eq!((tokens, output_tokens), (4, 4));
                        break;
                    }
                    None => panic!("the engine dropped a sequence"),
                }
            }
            done_at.push(started.elapsed());
        }
        drop(tx);
        engine.join().unwrap();
        // Two run at once (4 steps), the third waits for a slot (4 more). Only lower bounds
        // and the order are checked, never an upper time: a loaded machine stretches steps.
        // Batched, the first two end in the same step and the third 4 steps later; one at a
        // time, the gaps would be equal.
        assert!(done_at[2] >= Duration::from_millis(40), "{done_at:?}");
        let together = done_at[1] - done_at[0];
        let after = done_at[2] - done_at[1];
        assert!(after >= Duration::from_millis(20), "{done_at:?}");
        assert!(
            together * 4 < after,
            "the first two ran one after the other: {done_at:?}"
        );
        assert_eq!(admitted.load(Ordering::Acquire), 0);
    }
}
