//! `peakrps compare RESULTS…`: several find results (one per instance type or
//! configuration) with their prices, side by side, and the cheapest.

use std::path::Path;

use super::Completion;
use crate::Error;
use crate::cli::CompareArgs;
use crate::pipeline::output::{self, Output};
use crate::report;
use crate::results::{self, CompareResults, Input, Terms};

pub fn compare(args: &CompareArgs) -> Result<Completion, Error> {
    let out = Output::of(args.json.as_deref(), &args.reports)?;
    report::check_report_files(args.reports.files())?;
    let prices = prices(&args.prices)?;
    if args.results.iter().filter(|p| results::is_stdio(p)).count() > 1 {
        return Err(Error::Input(
            "standard input (-) can hold only one of the results".into(),
        ));
    }
    let inputs = args
        .results
        .iter()
        .map(|path| read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let terms = Terms {
        prices: &prices,
        safety_factor: args.safety_factor,
        traffic: args.traffic,
    };
    let comparison = results::compare(inputs, &terms)?;
    out.emit(&report::compare_report(&comparison, out.color()));
    if comparison.cheapest.is_none() {
        eprintln!(
            "No candidate has a price: give --price NAME=DOLLARS_PER_HOUR (or run find with --instance-price) to pick the cheapest."
        );
    }
    write(&comparison, args)?;
    Ok(Completion::Done)
}

fn write(comparison: &CompareResults, args: &CompareArgs) -> Result<(), Error> {
    if let Some(path) = &args.json {
        results::write_json(path, comparison)?;
        eprintln!("{}", output::written("Comparison", path));
    }
    for line in report::write_reports(comparison, args.reports.files())? {
        eprintln!("{line}");
    }
    Ok(())
}

/// A find result, named by the instance type it recorded, else by its file name.
fn read(path: &Path) -> Result<Input, Error> {
    let source = path.display().to_string();
    let text = results::read_text(path)
        .map_err(|e| Error::Input(format!("{source}: cannot read it ({e})")))?;
    let results = results::find_results_from(&text, &source, "compare")?;
    let name = results
        .instance
        .as_ref()
        .and_then(|i| i.type_name.clone())
        .unwrap_or_else(|| file_name(path));
    Ok(Input {
        name,
        source,
        results,
    })
}

/// "results/ml.g5.xlarge.json" → "ml.g5.xlarge"; "-" → "stdin".
fn file_name(path: &Path) -> String {
    if results::is_stdio(path) {
        return "stdin".into();
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    name.strip_suffix(".json").unwrap_or(&name).to_string()
}

/// Every `--price NAME=DOLLARS`; a name given twice is refused.
fn prices(flags: &[String]) -> Result<Vec<(String, f64)>, Error> {
    let mut prices: Vec<(String, f64)> = Vec::new();
    for flag in flags {
        let (name, price) = parse_price_flag(flag)?;
        if prices.iter().any(|(n, _)| *n == name) {
            return Err(Error::Input(format!("--price {name}: given twice")));
        }
        prices.push((name, price));
    }
    Ok(prices)
}

/// `NAME=DOLLARS` (dollars per instance-hour).
fn parse_price_flag(text: &str) -> Result<(String, f64), Error> {
    let bad = |why: &str| Error::Input(format!("--price {text}: {why}"));
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=DOLLARS_PER_HOUR, e.g. ml.g5.xlarge=1.41"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the name before = is empty"));
    }
    let price = crate::units::parse_price(value).map_err(|why| bad(&why))?;
    Ok((name.to_string(), price))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_name_equals_dollars_and_nothing_else() {
        assert_eq!(
            parse_price_flag("ml.g5.xlarge=1.41").ok(),
            Some(("ml.g5.xlarge".to_string(), 1.41))
        );
        assert_eq!(
            parse_price_flag("a=$0.5").ok(),
            Some(("a".to_string(), 0.5))
        );
        for bad in ["ml.g5.xlarge", "=1.4", "a=", "a=cheap", "a=-1", "a=NaN"] {
            let err = parse_price_flag(bad).expect_err(bad);
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(
                err.to_string().starts_with(&format!("--price {bad}: ")),
                "{err}"
            );
        }
        let twice = prices(&["a=1".to_string(), "a=2".to_string()]).expect_err("twice");
        assert_eq!(twice.to_string(), "--price a: given twice");
    }

    #[test]
    fn candidates_are_named_by_their_file_without_json() {
        assert_eq!(
            file_name(Path::new("out/ml.g5.xlarge.json")),
            "ml.g5.xlarge"
        );
        assert_eq!(file_name(Path::new("-")), "stdin");
    }
}
