//! Tallies in the form a shard's document carries them: latency histograms (and, streaming,
//! time-to-first-token and inter-token ones) in HdrHistogram's
//! standard interchange encoding (V2, deflate-compressed, base64: what the Java, C, Go and
//! Rust implementations read and write) and the counters beside them; read back, they add
//! exactly, so merged shards give the percentiles of one histogram of every request.

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

use super::stream::StreamTally;
use super::tally::{MAX_LATENCY_US, SIGNIFICANT_DIGITS, Tally};
use super::window::Window;
use crate::Error;
use crate::results::{
    StreamTallyRecord, TallyRecord, WindowRecord, stream_counters, tally_counters,
};

/// The V2 compressed encoding's first four bytes.
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// The uncompressed V2 encoding's first four bytes.
const V2_COOKIE: u32 = 0x1c84_9313;
/// The V2 header: cookie, payload length, normalizing offset, digits, low, high, ratio.
const V2_HEADER: usize = 40;
/// The most a tally's histogram decompresses to: its counts as LEB128 (at most 9 bytes
/// each) for every bucket of 1 µs .. 1 h at 3 digits, with room to spare. A corrupt or
/// hostile length beyond it is refused before anything is allocated for it.
const MAX_DECOMPRESSED: u64 = 4 * 1024 * 1024;

/// A histogram as base64 of its V2 deflate encoding.
pub fn encode(h: &Histogram<u64>) -> Result<String, Error> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| Error::setup("cannot encode a latency histogram", e))?;
    Ok(STANDARD.encode(bytes))
}

/// Reads a histogram peakrps encoded (latency in µs, 1 µs .. 1 h, 3 significant digits);
/// the error says what is wrong with it in a few words.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64 ({e})"))?;
    let v2 = inflate(&bytes)?;
    check_header(&v2)?;
    Deserializer::new()
        .deserialize(&mut v2.as_slice())
        .map_err(|e| format!("not a valid HdrHistogram V2 encoding ({e:?})"))
}

/// The uncompressed V2 encoding inside a compressed one, refusing oversized ones.
fn inflate(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let not_v2 = || "not an HdrHistogram V2 compressed encoding".to_string();
    let cookie = bytes.get(..4).ok_or_else(not_v2)?;
    let length = bytes.get(4..8).ok_or_else(not_v2)?;
    if u32::from_be_bytes(cookie.try_into().map_err(|_| not_v2())?) != V2_COMPRESSED_COOKIE {
        return Err(not_v2());
    }
    let length = u32::from_be_bytes(length.try_into().map_err(|_| not_v2())?) as usize;
    let compressed = bytes.get(8..8 + length).ok_or_else(|| {
        format!(
            "cut short ({} of {length} compressed bytes)",
            bytes.len() - 8
        )
    })?;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("its compressed data is corrupt ({e})"))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err("it decompresses to more than any latency histogram holds".into());
    }
    Ok(out)
}

/// The header must announce what peakrps records (so the histograms add) and a payload
/// that is really there.
fn check_header(v2: &[u8]) -> Result<(), String> {
    let word = |at: usize| {
        v2.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let long = |at: usize| {
        v2.get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
    };
    let short = || "its V2 header is cut short".to_string();
    if word(0).ok_or_else(short)? != V2_COOKIE {
        return Err("not an HdrHistogram V2 encoding inside the compression".into());
    }
    let payload = word(4).ok_or_else(short)? as usize;
    if v2.len() < V2_HEADER || payload > v2.len() - V2_HEADER {
        return Err(format!(
            "its header announces {payload} bytes of counts, {} are there",
            v2.len().saturating_sub(V2_HEADER)
        ));
    }
    let digits = word(12).ok_or_else(short)?;
    let (low, high) = (long(16).ok_or_else(short)?, long(24).ok_or_else(short)?);
    if (low, high, digits) != (1, MAX_LATENCY_US, u32::from(SIGNIFICANT_DIGITS)) {
        return Err(format!(
            "it records {low}..{high} with {digits} significant digits, not peakrps's 1..{MAX_LATENCY_US} µs with {SIGNIFICANT_DIGITS}"
        ));
    }
    Ok(())
}

/// A tally and the time it covers, as a shard's document carries it.
pub fn record(tally: &Tally, span: Duration) -> Result<TallyRecord, Error> {
    Ok(tally_counters!(copy tally => TallyRecord {
        span_s: span.as_secs_f64(),
        cut: tally.cut,
        latency: encode(&tally.latency)?,
        latency_ok: encode(&tally.latency_ok)?,
        stream: tally.stream.as_deref().map(stream_record).transpose()?,
        windows: Vec::new(),
    }))
}

/// The streaming part of a tally, as a shard's document carries it.
fn stream_record(s: &StreamTally) -> Result<StreamTallyRecord, Error> {
    Ok(stream_counters!(copy s => StreamTallyRecord {
        ttft: encode(&s.ttft)?,
        itl: encode(&s.itl)?,
        busy_s: s.busy.as_secs_f64(),
    }))
}

/// The streaming part read back; the error names the histogram or counter at fault.
fn stream_tally_of(record: &StreamTallyRecord) -> Result<StreamTally, String> {
    let ttft = decode(&record.ttft).map_err(|e| format!("its stream.ttft histogram is {e}"))?;
    let itl = decode(&record.itl).map_err(|e| format!("its stream.itl histogram is {e}"))?;
    if ttft.len() != record.with_tokens {
        return Err(format!(
            "its stream.ttft histogram holds {} requests but its stream.with_tokens says {}",
            ttft.len(),
            record.with_tokens
        ));
    }
    if record.with_usage + record.without_usage != record.with_tokens {
        return Err(format!(
            "its stream.with_usage {} and stream.without_usage {} do not add up to stream.with_tokens {}",
            record.with_usage, record.without_usage, record.with_tokens
        ));
    }
    for (name, x) in [
        ("tokens_arrived", record.tokens_arrived),
        ("pace_sum", record.pace_sum),
    ] {
        if !(x.is_finite() && x >= 0.0) {
            return Err(format!("its stream.{name} {x} is not a count"));
        }
    }
    let busy = Duration::try_from_secs_f64(record.busy_s)
        .map_err(|_| format!("its stream.busy_s {} is not a duration", record.busy_s))?;
    Ok(stream_counters!(copy record => StreamTally { ttft, itl, busy }))
}

/// The windows a step's stability is judged on, as a shard's document carries them.
pub fn window_records(windows: &[Window]) -> Result<Vec<WindowRecord>, Error> {
    windows
        .iter()
        .map(|w| {
            Ok(WindowRecord {
                index: w.index,
                tally: record(&w.tally, w.duration)?,
            })
        })
        .collect()
}

/// A tally read back, and the time it covers; the error names the histogram at fault.
pub fn tally_of(record: &TallyRecord) -> Result<(Tally, Duration), String> {
    let latency = decode(&record.latency).map_err(|e| format!("its latency histogram is {e}"))?;
    let latency_ok =
        decode(&record.latency_ok).map_err(|e| format!("its latency_ok histogram is {e}"))?;
    if latency.len() != record.successes + record.errors.total() {
        return Err(format!(
            "its latency histogram holds {} requests but its counts say {}",
            latency.len(),
            record.successes + record.errors.total()
        ));
    }
    let span = Duration::try_from_secs_f64(record.span_s)
        .map_err(|_| format!("its span_s {} is not a duration", record.span_s))?;
    let stream = record.stream.as_ref().map(stream_tally_of).transpose()?;
    let tally = tally_counters!(copy record => Tally {
        latency,
        latency_ok,
        cut: record.cut,
        first_error: None,
        stream: stream.map(Box::new),
    });
    Ok((tally, span))
}

/// The windows of a record read back, in order.
pub fn windows_of(record: &TallyRecord) -> Result<Vec<Window>, String> {
    record
        .windows
        .iter()
        .map(|w| {
            let (tally, duration) =
                tally_of(&w.tally).map_err(|e| format!("window {}: {e}", w.index))?;
            Ok(Window {
                index: w.index,
                duration,
                tally,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{StreamRecord, percentile_ms, stream_figures};
    use std::time::Instant;

    /// Latencies spread over five orders of magnitude, as a long tail gives.
    fn latencies(n: usize, seed: u64) -> Vec<Duration> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n)
            .map(|_| Duration::from_micros((10f64.powf(2.0 + rng.f64() * 5.0)) as u64))
            .collect()
    }

    /// N shards' histograms, each through the interchange form and back, added, give the
    /// same percentiles (and the same histogram) as one histogram of every value.
    #[test]
    fn merged_shards_equal_one_histogram_of_all_values() {
        let all = latencies(20_000, 7);
        let mut whole = Tally::new();
        let mut merged = Tally::new();
        for shard in all.chunks(all.len() / 4 + 1) {
            let mut tally = Tally::new();
            for &latency in shard {
                tally.record_success(latency);
                whole.record_success(latency);
            }
            let record = record(&tally, Duration::from_secs(1)).unwrap();
            assert!(record.latency.starts_with("HISTFAAA"), "{}", record.latency);
            let (back, _) = tally_of(&record).unwrap();
            merged.merge(&back);
        }
        assert_eq!(merged.latency, whole.latency);
        for p in [50.0, 90.0, 99.0, 99.9, 100.0] {
            assert_eq!(
                percentile_ms(&merged.latency, p),
                percentile_ms(&whole.latency, p),
                "p{p}"
            );
        }
        assert_eq!(merged.successes, 20_000);
    }

    /// An averaged percentile is what merging must not do: the shards here differ, so the
    /// mean of their p99s is far from the p99 of all requests, which the merge gets.
    #[test]
    fn merging_is_not_averaging_percentiles() {
        let mut fast = Tally::new();
        let mut slow = Tally::new();
        let mut every = Vec::new();
        for i in 0..1000 {
            fast.record_success(Duration::from_millis(1 + i % 3));
            slow.record_success(Duration::from_millis(100 + i % 50));
            every.extend([1 + i % 3, 100 + i % 50]);
        }
        every.sort_unstable();
        // The nearest-rank p99 of the plain list of every value.
        let exact = every[(every.len() * 99).div_ceil(100) - 1] as f64;
        let averaged =
            (percentile_ms(&fast.latency, 99.0) + percentile_ms(&slow.latency, 99.0)) / 2.0;
        let (mut merged, _) = tally_of(&record(&fast, Duration::ZERO).unwrap()).unwrap();
        merged.merge(&tally_of(&record(&slow, Duration::ZERO).unwrap()).unwrap().0);
        let p99 = percentile_ms(&merged.latency, 99.0);
        assert!(
            (p99 - exact).abs() <= exact * 0.001,
            "p99 of all {p99}, exact {exact}"
        );
        assert!((averaged - p99).abs() > 50.0, "averaged {averaged}");
    }

    /// One streamed request due at `due`: first token after `ttft_ms`, then `tokens - 1`
    /// more `gap_ms` apart; every other one reports the server's counts.
    fn streamed(t: &mut Tally, due: Instant, ttft_ms: u64, gap_ms: u64, tokens: u64) {
        let reads: Vec<(Instant, u32)> = (0..tokens)
            .map(|i| (due + Duration::from_millis(ttft_ms + i * gap_ms), 1))
            .collect();
        let usage = ttft_ms.is_multiple_of(2).then_some(tokens);
        let record = StreamRecord {
            reads,
            usage_output: usage,
            usage_input: usage.map(|_| 100 + ttft_ms),
        };
        let end = due + Duration::from_millis(ttft_ms + tokens * gap_ms);
        let s = t.stream_mut();
        s.record(due, end, &record);
        for i in 0..record.reads.len() {
            s.record_gaps(&record, i);
        }
        s.tokens_arrived += record.output_tokens() as f64;
        t.record_success(end - due);
    }

    /// Streaming tallies too: shards through the interchange form and back, added, equal
    /// one tally of every request (histograms and counts exactly, float sums to rounding).
    #[test]
    fn merged_stream_shards_equal_one_tally_of_all_requests() {
        let due = Instant::now();
        let mut rng = fastrand::Rng::with_seed(3);
        let requests: Vec<(u64, u64, u64)> = (0..3000)
            .map(|_| (rng.u64(5..5000), rng.u64(1..200), rng.u64(0..40)))
            .collect();
        let mut whole = Tally::new();
        let mut merged = Tally::new();
        for shard in requests.chunks(1000) {
            let mut tally = Tally::new();
            for &(ttft, gap, tokens) in shard {
                streamed(&mut tally, due, ttft, gap, tokens);
                streamed(&mut whole, due, ttft, gap, tokens);
            }
            let record = record(&tally, Duration::from_secs(10)).unwrap();
            let text = serde_json::to_string(&record).unwrap();
            let (back, _) = tally_of(&serde_json::from_str(&text).unwrap()).unwrap();
            merged.merge(&back);
        }
        let (m, w) = (merged.stream.unwrap(), whole.stream.unwrap());
        assert_eq!((&m.ttft, &m.itl), (&w.ttft, &w.itl));
        assert!(
            m.itl.len() > 10_000 && m.ttft.len() < 3000,
            "{}",
            m.ttft.len()
        );
        let counts = |s: &StreamTally| {
            let c = (s.output_tokens, s.input_tokens, s.with_tokens);
            (c, s.with_usage, s.without_usage, s.paces)
        };
        assert_eq!(counts(&m), counts(&w));
        let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * 1e-12;
        assert!(close(m.tokens_arrived, w.tokens_arrived));
        assert!(close(m.pace_sum, w.pace_sum));
        assert!(m.busy.abs_diff(w.busy) < Duration::from_micros(1));
        let span = Duration::from_secs(10);
        let (fm, fw) = (
            stream_figures(&m, span, 99.0),
            stream_figures(&w, span, 99.0),
        );
        assert_eq!(fm, fw);
    }

    #[test]
    fn a_stream_record_that_disagrees_with_itself_is_refused() {
        let mut t = Tally::new();
        streamed(&mut t, Instant::now(), 10, 5, 4);
        let good = record(&t, Duration::from_secs(1)).unwrap();
        let mut r = good.clone();
        r.stream.as_mut().unwrap().with_tokens = 2;
        assert!(
            tally_of(&r)
                .unwrap_err()
                .contains("stream.ttft histogram holds 1")
        );
        let mut r = good.clone();
        r.stream.as_mut().unwrap().itl = "x".into();
        assert!(
            tally_of(&r)
                .unwrap_err()
                .contains("stream.itl histogram is not base64")
        );
        let mut r = good;
        r.stream.as_mut().unwrap().busy_s = -1.0;
        assert!(tally_of(&r).unwrap_err().contains("stream.busy_s -1"));
    }

    #[test]
    fn corrupt_encodings_are_refused_in_words() {
        let mut t = Tally::new();
        t.record_success(Duration::from_millis(5));
        let good = encode(&t.latency).unwrap();
        let bytes = STANDARD.decode(&good).unwrap();
        let mut flipped = bytes.clone();
        flipped[20] ^= 0xff;
        let mut huge = bytes.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        let other = Histogram::<u64>::new_with_bounds(1, 1000, 2).unwrap();
        let mut other_bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&other, &mut other_bytes)
            .unwrap();
        let cases = [
            ("not base64!".to_string(), "not base64"),
            (STANDARD.encode(&bytes[..bytes.len() - 3]), "cut short"),
            (STANDARD.encode(&flipped), "corrupt"),
            (STANDARD.encode(&huge), "cut short"),
            (STANDARD.encode(b"HIST"), "not an HdrHistogram"),
            (STANDARD.encode(&other_bytes), "significant digits"),
        ];
        for (text, expected) in cases {
            let e = decode(&text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
        assert_eq!(decode(&good).unwrap(), t.latency);
    }

    #[test]
    fn counts_that_disagree_with_the_histogram_are_refused() {
        let mut t = Tally::new();
        t.record_success(Duration::from_millis(5));
        let mut r = record(&t, Duration::from_secs(2)).unwrap();
        r.successes = 2;
        assert!(tally_of(&r).unwrap_err().contains("holds 1 requests"));
    }
}
