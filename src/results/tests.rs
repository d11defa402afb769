use super::*;

fn error_of(text: &str) -> String {
    match Document::parse(text) {
        Ok(doc) => panic!("parsed {doc:?}"),
        Err(e) => e,
    }
}

#[test]
fn bad_documents_give_one_line() {
    let cases = [
        ("", "invalid JSON"),
        ("{\"schema\": ", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("{}", "no \"schema\" field"),
        ("{\"schema\": 3}", "no \"schema\" field"),
        (
            "{\"schema\": \"peakrps.find/v2\"}",
            "another version of peakrps",
        ),
        (
            "{\"schema\": \"k6.summary\"}",
            "not a peakrps results file?",
        ),
        (
            "{\"schema\": \"peakrps.find/v1\", \"steps\": []}",
            "not a valid peakrps.find/v1 document",
        ),
        ("{\"schema\": \"peakrps.run/v1\"}", "missing field"),
    ];
    for (text, expected) in cases {
        let e = error_of(text);
        assert!(e.contains(expected), "{text:?} gave {e:?}");
        assert!(!e.contains('\n'), "{e:?}");
    }
}

fn summary() -> Summary {
    Summary {
        rps: 301.7,
        requests: 6034,
        success_ratio: 0.9998,
        errors: ErrorCounts {
            timeout: 1,
            ..ErrorCounts::default()
        },
        latency_ms: LatencySummary {
            p50: 26.1,
            p90: 26.9,
            p99: 29.8,
            max: 31.2,
        },
        duration_s: 20.0,
        ..Summary::default()
    }
}

fn find() -> FindResults {
    let step = Step {
        concurrency: Some(8),
        passed: true,
        ..testing::step(summary(), 29.8)
    };
    FindResults {
        schema: FindResults::SCHEMA.into(),
        version: "0.1.0".into(),
        started_at: "2026-11-29T17:00:00Z".into(),
        target: TargetInfo {
            kind: "http".into(),
            url: "http://127.0.0.1:8080/invocations".into(),
            payload: "body.json".into(),
            sagemaker: None,
        },
        mode: "concurrency".into(),
        settings: FindSettings {
            window_s: 2.0,
            warmup_s: 1.0,
            step_duration_s: 30.0,
            stability: 0.1,
            min_success: 0.99,
            percentile: 99.0,
            max_latency_ms: None,
            min_gain: 0.05,
            precision: 0.1,
            max_concurrency: 1024,
            timeout_s: 60.0,
            arrival: None,
            max_inflight: None,
            search: None,
            stream: None,
        },
        peak: Some(Peak {
            rps: step.summary.rps,
            concurrency: step.concurrency,
            offered_rps: None,
            latency_ms: step.summary.latency_ms,
            success_ratio: step.summary.success_ratio,
            reason: "latency rose".into(),
            rps_ci: None,
            stream: None,
        }),
        steps: vec![step],
        recommendation: Recommendation::new(301.7, 0.5).ok(),
        stop_reason: "latency rose".into(),
        interrupted: false,
        cloudwatch: None,
        error: None,
        model: None,
        instance: None,
        shard: None,
    }
}

/// The JSON of `find()` with the field at `path` (object keys, or an index into an array)
/// taken out.
fn without(path: &[&str]) -> String {
    let mut value = serde_json::to_value(find()).expect("serializes");
    let (last, parents) = path.split_last().expect("a path");
    let mut node = &mut value;
    for key in parents {
        node = match key.parse::<usize>() {
            Ok(i) => &mut node[i],
            Err(_) => &mut node[*key],
        };
    }
    node.as_object_mut()
        .expect("an object")
        .remove(*last)
        .expect("the field was there");
    value.to_string()
}

#[test]
fn a_document_reads_back_as_written() {
    let text = serde_json::to_string_pretty(&find()).expect("serializes");
    assert_eq!(Document::parse(&text), Ok(Document::Find(find())));
    assert_eq!(find().steps[0].summary.successes(), 6033);
}

#[test]
fn a_missing_field_is_named_not_defaulted() {
    for (path, field) in [
        (&["peak"][..], "`peak`"),
        (&["recommendation"][..], "`recommendation`"),
        (&["interrupted"][..], "`interrupted`"),
        (&["steps", "0", "failure"][..], "`failure`"),
        (&["steps", "0", "offered_rps"][..], "`offered_rps`"),
        (&["steps", "0", "errors"][..], "`errors`"),
        (&["settings", "max_latency_ms"][..], "`max_latency_ms`"),
    ] {
        let e = error_of(&without(path));
        assert!(
            e.contains("missing field") && e.contains(field),
            "{path:?}: {e}"
        );
    }
    // Fields written only when they say something may be left out.
    let mut value = serde_json::to_value(find()).expect("serializes");
    value["steps"][0]["partial"] = serde_json::Value::Bool(true);
    let Ok(Document::Find(read)) = Document::parse(&value.to_string()) else {
        panic!("not read")
    };
    assert!(read.steps[0].partial && read.cloudwatch.is_none());
}

#[test]
fn find_results_are_refused_by_name_where_another_schema_is_needed() {
    let run = "{\"schema\": \"peakrps.run/v1\"}";
    let e = find_results_from(run, "--from r.json", "policy").unwrap_err();
    assert_eq!(
        e.to_string(),
        "--from r.json is a peakrps.run/v1 document; policy needs peakrps.find/v1 (the results of `peakrps find --json FILE`)"
    );
    let text = serde_json::to_string(&find()).expect("serializes");
    assert_eq!(find_results_from(&text, "f", "policy").ok(), Some(find()));
}

#[test]
fn a_shards_part_is_refused_where_the_whole_run_is_needed() {
    let mut results = find();
    results.shard = Some(ShardInfo {
        run_id: "r".into(),
        count: 3,
        index: Some(1),
        start_at: "2026-12-01T12:00:00.000Z".into(),
        load: None,
        plan: vec![1.0, 2.0],
        safety_factor: Some(0.5),
    });
    let text = serde_json::to_string(&results).expect("serializes");
    let e = find_results_from(&text, "--from s.json", "policy").unwrap_err();
    assert!(e.to_string().contains("`peakrps merge`"), "{e}");
    // A merged document (no index) is the whole run.
    if let Some(shard) = results.shard.as_mut() {
        shard.index = None;
    }
    let text = serde_json::to_string(&results).expect("serializes");
    assert_eq!(find_results_from(&text, "m", "policy").ok(), Some(results));
}
