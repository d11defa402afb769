//! Property tests for every parser of user input: durations, rates, headers, target URLs,
//! traffic profiles, results documents and JSONL payloads. Whatever the input, each returns
//! a value or an error, never panics, and what it accepts is consistent.

use std::time::Duration;

use peakrps::endpoint::{Endpoint, PayloadSet, parse_header};
use peakrps::results::Document;
use peakrps::scaling::profile::{parse_csv, parse_toml};
use peakrps::units::{MAX_RATE, parse_duration, parse_fraction, parse_percentile, parse_rate};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn durations_parse_or_refuse(s in ".{0,24}") {
        let _ = parse_duration(&s);
    }

    #[test]
    fn written_durations_read_back(ms in 1u64..10_000_000) {
        prop_assert_eq!(parse_duration(&format!("{ms}ms")), Ok(Duration::from_millis(ms)));
        prop_assert_eq!(parse_duration(&format!("{ms}s")), Ok(Duration::from_secs(ms)));
    }

    #[test]
    fn numbers_parse_inside_their_ranges(s in ".{0,16}") {
        if let Ok(v) = parse_fraction(&s) {
            prop_assert!((0.0..=1.0).contains(&v));
        }
        if let Ok(v) = parse_percentile(&s) {
            prop_assert!(v > 0.0 && v <= 100.0);
        }
        if let Ok(v) = parse_rate(&s) {
            prop_assert!(v > 0.0 && v <= MAX_RATE);
        }
    }

    #[test]
    fn headers_parse_or_refuse(s in "\\PC{0,40}") {
        if let Ok((name, _)) = parse_header(&s) {
            prop_assert!(s.contains(':'));
            prop_assert!(!name.as_str().is_empty());
        }
    }

    #[test]
    fn targets_parse_or_refuse(s in "(http|https|ftp|sagemaker)?(://)?[a-z0-9:\\[\\]./@%?-]{0,30}") {
        if let Ok(e) = Endpoint::parse(&s) {
            prop_assert!(!e.host.is_empty());
            // What was accepted reads back to an equivalent endpoint.
            prop_assert_eq!(Endpoint::parse(&e.url()).ok(), Some(e));
        }
    }

    #[test]
    fn csv_profiles_parse_or_name_the_line(s in "(minute,rps\n)?([0-9x., -]{0,12}\n){0,6}") {
        if let Ok(p) = parse_csv(&s, "p.csv") {
            prop_assert!(p.rps.iter().all(|r| r.is_finite() && (0.0..=MAX_RATE).contains(r)));
        }
    }

    #[test]
    fn toml_profiles_parse_or_refuse(s in "(\\[\\[stage\\]\\]\n)?((duration|rps|from_rps|to_rps) = (\"[0-9]{1,3}m\"|[0-9.-]{1,6})\n){0,5}") {
        if let Ok(p) = parse_toml(&s, "p.toml") {
            prop_assert!(p.rps.iter().all(|r| r.is_finite() && (0.0..=MAX_RATE).contains(r)));
        }
    }

    #[test]
    fn results_documents_parse_or_refuse(s in "\\{(\"schema\": \"peakrps\\.(find|run|simulate|other)/v[0-9]\")?[ ,\"a-z:0-9\\[\\]{}]{0,40}\\}?") {
        let _ = Document::parse(&s);
    }

    #[test]
    fn jsonl_payloads_load_or_name_the_line(lines in proptest::collection::vec("[\\[\\]{}0-9,\" a-z:]{0,12}", 0..6)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        std::fs::write(&path, lines.join("\n")).unwrap();
        match PayloadSet::load(&path) {
            Ok(set) => prop_assert!(!set.is_empty()),
            Err(e) => prop_assert!(e.to_string().contains("p.jsonl")),
        }
    }
}
