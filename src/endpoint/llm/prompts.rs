//! Synthetic prompts made per request: request `n` of a run gets the prompt drawn from
//! `(seed, n)`, so no two requests share one (a server's prompt cache would answer a repeated
//! prompt instead of the model) and the same seed gives the same prompts, however long the
//! run. Options: a prefix every prompt shares (a system prompt), or a fixed set of prompts
//! cycled (to measure cache hits on purpose).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use serde_json::Value;

use super::api::{Api, Generation, Prompt, body};

/// How the prompts of a run are drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptSource {
    pub api: Api,
    pub generation: Generation,
    /// Words in each prompt (the shared prefix included).
    pub words: u32,
    pub seed: u64,
    /// Leading words every prompt shares (`--shared-prefix`); 0 for none.
    pub shared_prefix: u32,
    /// `--prompt-set N`: cycle N prompts instead of a fresh one per request.
    pub set: Option<u32>,
}

impl PromptSource {
    /// Prompt number `n` (modulo the set, when there is one).
    pub fn prompt(&self, n: u64) -> Prompt {
        let n = self.set.map_or(n, |k| n % u64::from(k.max(1)));
        let prefix = self.shared_prefix.min(self.words);
        let mut shared = fastrand::Rng::with_seed(self.seed);
        let mut own = fastrand::Rng::with_seed(mix(self.seed, n));
        let words: Vec<&str> = (0..self.words)
            .map(|k| {
                let rng = if k < prefix { &mut shared } else { &mut own };
                WORDS[rng.usize(..WORDS.len())]
            })
            .collect();
        Prompt::Text(words.join(" "))
    }

    /// The request body of prompt number `n`.
    pub fn body(&self, n: u64) -> Bytes {
        match body(self.api, &self.prompt(n), &self.generation) {
            Value::String(text) => Bytes::from(text),
            json => Bytes::from(json.to_string()),
        }
    }

    /// The content type of the bodies.
    pub fn content_type(&self) -> &'static str {
        if self.api == Api::Raw {
            "text/plain"
        } else {
            "application/json"
        }
    }

    /// One line for reports: how many words, which prompts, the output asked for, the seed.
    pub fn describe(&self) -> String {
        let which = match self.set {
            Some(k) => format!("a set of {k} prompts cycled (--prompt-set)"),
            None => "a fresh prompt per request".to_string(),
        };
        let prefix = match self.shared_prefix.min(self.words) {
            0 => String::new(),
            p => format!(", the first {p} words shared"),
        };
        let output = self
            .generation
            .max_tokens
            .map_or(String::new(), |m| format!(", {m} output tokens"));
        format!(
            "synthetic: {which} of {} words{prefix}{output}, seed {}",
            self.words, self.seed
        )
    }
}

/// The prompts a run sends, handed out in turn: each call to `next_body` takes the next
/// prompt number, whichever user or shard asks.
#[derive(Debug)]
pub struct PromptFeed {
    source: PromptSource,
    next: AtomicU64,
}

impl PromptFeed {
    pub fn new(source: PromptSource) -> Arc<Self> {
        Arc::new(PromptFeed {
            source,
            next: AtomicU64::new(0),
        })
    }

    pub fn source(&self) -> &PromptSource {
        &self.source
    }

    /// The body of the next request.
    pub fn next_body(&self) -> Bytes {
        self.source.body(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// Request `n`'s own seed: SplitMix64 of the run's seed and `n`, so nearby numbers give
/// unrelated prompts.
fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed
        .wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const WORDS: [&str; 48] = [
    "the", "model", "answer", "question", "time", "people", "water", "light", "house", "world",
    "school", "number", "story", "country", "river", "city", "market", "music", "garden", "window",
    "morning", "friend", "letter", "paper", "table", "street", "money", "animal", "island",
    "forest", "mountain", "summer", "winter", "travel", "kitchen", "engine", "signal", "bridge",
    "planet", "history", "science", "language", "picture", "family", "journey", "harbor",
    "village", "library",
];
