//! `--cloudwatch`: what SageMaker itself measured during a test. ModelLatency (the container's
//! time) and OverheadLatency (SageMaker's own), per minute, from AWS/SageMaker, to set beside
//! the client's figures: the difference is the network and the client.

use std::time::{Duration, Instant, SystemTime};

use super::{Aws, sdk_error};
use crate::Error;
use crate::results::{CloudWatchFigures, MetricSummary, VariantLatency};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{Datapoint, Dimension, DimensionFilter, Statistic};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

pub const NAMESPACE: &str = "AWS/SageMaker";
const PERIOD_S: i32 = 60;

/// What to read.
#[derive(Clone, Debug)]
pub struct Query {
    pub endpoint: String,
    /// `--target-variant`; otherwise the variants CloudWatch lists for the endpoint.
    pub variant: Option<String>,
    pub start: SystemTime,
    pub end: SystemTime,
    /// Successful requests the client counted: data are complete when CloudWatch has as many.
    pub expected_invocations: u64,
    /// How long to wait for late datapoints.
    pub wait: Duration,
}

fn floor_minute(t: SystemTime) -> SystemTime {
    let s = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs(s - s % 60)
}

fn ceil_minute(t: SystemTime) -> SystemTime {
    let floor = floor_minute(t);
    if floor == t {
        t
    } else {
        floor + Duration::from_secs(60)
    }
}

fn rfc3339(t: SystemTime) -> String {
    DateTime::from(t).fmt(Format::DateTime).unwrap_or_default()
}

/// Reads the figures, waiting up to `query.wait` for CloudWatch to catch up.
pub fn read(
    aws: &Aws,
    query: &Query,
    mut on_wait: impl FnMut(&str),
) -> Result<CloudWatchFigures, Error> {
    let client = Client::new(&aws.config);
    let start = floor_minute(query.start);
    let end = ceil_minute(query.end).max(start + Duration::from_secs(60));
    let deadline = Instant::now() + query.wait;
    loop {
        let figures = aws.block_on(fetch(&client, query, start, end))?;
        let counted: f64 = figures
            .variants
            .iter()
            .filter_map(|v| v.model_latency.as_ref())
            .map(|m| m.samples)
            .sum();
        let complete = counted >= query.expected_invocations as f64 && !figures.variants.is_empty();
        if complete || Instant::now() >= deadline {
            let note = (!complete).then(|| {
                format!(
                    "CloudWatch had {counted:.0} of the {} invocations the client saw succeed when we stopped waiting; its data arrive 1-3 minutes late",
                    query.expected_invocations
                )
            });
            return Ok(CloudWatchFigures { note, ..figures });
        }
        on_wait(&format!(
            "waiting for CloudWatch: {counted:.0} of {} invocations reported so far",
            query.expected_invocations
        ));
        std::thread::sleep(
            Duration::from_secs(15).min(deadline.saturating_duration_since(Instant::now())),
        );
    }
}

async fn fetch(
    client: &Client,
    query: &Query,
    start: SystemTime,
    end: SystemTime,
) -> Result<CloudWatchFigures, Error> {
    let variants = match &query.variant {
        Some(v) => vec![v.clone()],
        None => list_variants(client, &query.endpoint).await?,
    };
    let mut out = Vec::new();
    for variant in variants {
        let model_latency = statistics(
            client,
            &query.endpoint,
            &variant,
            "ModelLatency",
            start,
            end,
        )
        .await?;
        let overhead_latency = statistics(
            client,
            &query.endpoint,
            &variant,
            "OverheadLatency",
            start,
            end,
        )
        .await?;
        out.push(VariantLatency {
            variant,
            model_latency,
            overhead_latency,
        });
    }
    Ok(CloudWatchFigures {
        namespace: NAMESPACE.into(),
        endpoint: query.endpoint.clone(),
        start: rfc3339(start),
        end: rfc3339(end),
        period_s: PERIOD_S as u32,
        variants: out,
        note: None,
    })
}

/// The variants CloudWatch has ModelLatency for on this endpoint.
async fn list_variants(client: &Client, endpoint: &str) -> Result<Vec<String>, Error> {
    let filter = DimensionFilter::builder()
        .name("EndpointName")
        .value(endpoint)
        .build();
    let listed = client
        .list_metrics()
        .namespace(NAMESPACE)
        .metric_name("ModelLatency")
        .dimensions(filter)
        .send()
        .await
        .map_err(|e| sdk_error("ListMetrics", e))?;
    let mut variants: Vec<String> = listed
        .metrics()
        .iter()
        .flat_map(|m| m.dimensions())
        .filter(|d| d.name() == Some("VariantName"))
        .filter_map(|d| d.value().map(str::to_string))
        .collect();
    variants.sort();
    variants.dedup();
    Ok(variants)
}

async fn statistics(
    client: &Client,
    endpoint: &str,
    variant: &str,
    metric: &str,
    start: SystemTime,
    end: SystemTime,
) -> Result<Option<MetricSummary>, Error> {
    let dim = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    let out = client
        .get_metric_statistics()
        .namespace(NAMESPACE)
        .metric_name(metric)
        .dimensions(dim("EndpointName", endpoint))
        .dimensions(dim("VariantName", variant))
        .start_time(DateTime::from(start))
        .end_time(DateTime::from(end))
        .period(PERIOD_S)
        .statistics(Statistic::Average)
        .statistics(Statistic::Maximum)
        .statistics(Statistic::SampleCount)
        .send()
        .await
        .map_err(|e| sdk_error("GetMetricStatistics", e))?;
    Ok(summarize(out.datapoints()))
}

/// Per-minute datapoints (microseconds) to one summary (milliseconds).
pub fn summarize(points: &[Datapoint]) -> Option<MetricSummary> {
    let mut samples = 0.0;
    let mut weighted = 0.0;
    let mut maximum: f64 = 0.0;
    let mut minutes = 0;
    for p in points {
        let (Some(avg), Some(count)) = (p.average(), p.sample_count()) else {
            continue;
        };
        samples += count;
        weighted += avg * count;
        maximum = maximum.max(p.maximum().unwrap_or(avg));
        minutes += 1;
    }
    (samples > 0.0).then(|| MetricSummary {
        average_ms: weighted / samples / 1000.0,
        maximum_ms: maximum / 1000.0,
        samples,
        minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_minute_points_are_weighted_by_count() {
        let p = |avg: f64, max: f64, n: f64| {
            Datapoint::builder()
                .average(avg)
                .maximum(max)
                .sample_count(n)
                .build()
        };
        let s = summarize(&[p(10_000.0, 20_000.0, 100.0), p(20_000.0, 50_000.0, 300.0)]).unwrap();
        assert_eq!(s.average_ms, 17.5);
        assert_eq!(s.maximum_ms, 50.0);
        assert_eq!((s.samples, s.minutes), (400.0, 2));
        assert!(summarize(&[]).is_none());
    }

    #[test]
    fn span_is_whole_minutes() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(125);
        assert_eq!(
            floor_minute(t),
            SystemTime::UNIX_EPOCH + Duration::from_secs(120)
        );
        assert_eq!(
            ceil_minute(t),
            SystemTime::UNIX_EPOCH + Duration::from_secs(180)
        );
        assert_eq!(ceil_minute(floor_minute(t)), floor_minute(t));
        assert_eq!(rfc3339(floor_minute(t)), "1970-01-01T00:02:00Z");
    }
}
