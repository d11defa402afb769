//! Traffic profiles for the scaling simulator (DESIGN.md "Traffic profiles"): a CSV of
//! `minute,rps` rows or a TOML list of stages, expanded to one request rate per minute.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::Error;
use crate::units::{MAX_RATE, readable, thousands};

/// The longest profile accepted: a leap year of minutes (keeps a typo like `duration = "100y"`
/// from asking for gigabytes).
pub const MAX_MINUTES: usize = 366 * 24 * 60;

/// Offered traffic, one request rate (requests per second, averaged over the minute) per minute.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficProfile {
    pub rps: Vec<f64>,
}

impl TrafficProfile {
    /// A profile from per-minute rates (used by tests and callers that build one in code).
    pub fn from_rates(rps: Vec<f64>) -> Self {
        TrafficProfile { rps }
    }

    /// Reads a profile: `.csv` files are CSV, `.toml` files TOML, anything else (and `-`,
    /// standard input) is judged by its first line (a `minute,rps` header means CSV).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let name = path.display().to_string();
        let text = crate::results::read_text(path)
            .map_err(|e| Error::file(path, format!("--traffic {name}: cannot read it ({e})"), e))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => parse_csv(&text, &name),
            Some("toml") => parse_toml(&text, &name),
            _ if looks_like_csv(&text) => parse_csv(&text, &name),
            _ => parse_toml(&text, &name),
        }
    }

    pub fn minutes(&self) -> usize {
        self.rps.len()
    }

    /// The highest per-minute rate.
    pub fn peak(&self) -> f64 {
        self.rps.iter().copied().fold(0.0, f64::max)
    }

    /// Requests offered over the whole profile.
    pub fn total_requests(&self) -> f64 {
        self.rps.iter().map(|r| r * 60.0).sum()
    }
}

fn looks_like_csv(text: &str) -> bool {
    text.lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.to_ascii_lowercase().replace(['"', ' '], "") == "minute,rps")
}

/// `file:line: message` or `file:line:column: message`.
fn at(name: &str, line: usize, column: Option<usize>, message: &str) -> Error {
    match column {
        Some(c) => Error::Input(format!("{name}:{line}:{c}: {message}")),
        None => Error::Input(format!("{name}:{line}: {message}")),
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

/// Parses `minute,rps` CSV: a header, then one row per minute with no gaps. Blank lines and
/// lines starting with `#` are skipped; fields may be double-quoted.
pub fn parse_csv(text: &str, name: &str) -> Result<TrafficProfile, Error> {
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((header_line, header)) = rows.next() else {
        return Err(Error::Input(format!(
            "{name}: the traffic profile is empty"
        )));
    };
    check_csv_header(header, header_line, name)?;
    let mut rps = Vec::new();
    let mut previous: Option<u64> = None;
    for (line, row) in rows {
        let (minute, rate) = csv_row(row, line, name)?;
        if let Some(p) = previous
            && Some(minute) != p.checked_add(1)
        {
            let msg = format!(
                "minute {minute} follows minute {p}; the profile needs one row per minute, in order, without gaps"
            );
            return Err(at(name, line, None, &msg));
        }
        previous = Some(minute);
        push_minute(&mut rps, rate, name, line)?;
    }
    finish(rps, name)
}

fn check_csv_header(header: &str, line: usize, name: &str) -> Result<(), Error> {
    let fields: Vec<String> = header
        .split(',')
        .map(|f| unquote(f).to_ascii_lowercase())
        .collect();
    if fields == ["minute", "rps"] {
        Ok(())
    } else {
        Err(at(
            name,
            line,
            Some(1),
            &format!("the header is '{header}'; a CSV profile starts with 'minute,rps'"),
        ))
    }
}

fn unquote(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(f)
        .trim()
}

fn csv_row(row: &str, line: usize, name: &str) -> Result<(u64, f64), Error> {
    let fields: Vec<&str> = row.split(',').collect();
    if fields.len() != 2 {
        let msg = format!(
            "expected 2 fields (minute,rps), found {}: '{row}'",
            fields.len()
        );
        return Err(at(name, line, None, &msg));
    }
    let rps_column = fields[0].chars().count() + 2;
    let minute_text = unquote(fields[0]);
    let minute: u64 = minute_text.parse().map_err(|_| {
        at(
            name,
            line,
            Some(1),
            &format!("minute '{minute_text}' is not a whole number of minutes"),
        )
    })?;
    let rps_text = unquote(fields[1]);
    let rps = parse_rate(rps_text).map_err(|m| at(name, line, Some(rps_column), &m))?;
    Ok((minute, rps))
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) => check_rate(v),
        Err(_) => Err(format!("rps '{text}' is not a number")),
    }
}

fn check_rate(v: f64) -> Result<f64, String> {
    if v.is_finite() && v > MAX_RATE {
        Err(format!(
            "rps {} is above the limit of {} req/s",
            readable(v),
            thousands(MAX_RATE)
        ))
    } else if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!(
            "rps {v} must be a finite number of requests per second, 0 or more"
        ))
    }
}

fn push_minute(rps: &mut Vec<f64>, rate: f64, name: &str, line: usize) -> Result<(), Error> {
    if rps.len() >= MAX_MINUTES {
        let msg = format!("the profile is longer than {MAX_MINUTES} minutes (a year); shorten it");
        return Err(at(name, line, None, &msg));
    }
    rps.push(rate);
    Ok(())
}

fn finish(rps: Vec<f64>, name: &str) -> Result<TrafficProfile, Error> {
    if rps.is_empty() {
        Err(Error::Input(format!(
            "{name}: the traffic profile has no minutes"
        )))
    } else {
        Ok(TrafficProfile { rps })
    }
}

// ---------------------------------------------------------------------------------------------
// TOML

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StagesDoc {
    #[serde(default)]
    stage: Vec<Spanned<StageDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageDoc {
    duration: Spanned<String>,
    rps: Option<Spanned<f64>>,
    from_rps: Option<Spanned<f64>>,
    to_rps: Option<Spanned<f64>>,
}

/// How fast one stage's traffic goes: steady, or a linear ramp from its first minute
/// (`from_rps`) to its last (`to_rps`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Steady(f64),
    Ramp { from: f64, to: f64 },
}

/// Parses a TOML list of stages:
///
/// ```toml
/// [[stage]]
/// duration = "10m"
/// rps = 1000              # or from_rps = 100, to_rps = 1000 for a linear ramp
/// ```
///
/// A ramp's first minute runs at `from_rps` and its last at `to_rps`, the minutes between on
/// the straight line; a one-minute ramp runs at their mean. Durations are whole minutes.
pub fn parse_toml(text: &str, name: &str) -> Result<TrafficProfile, Error> {
    let doc: StagesDoc = toml::from_str(text).map_err(|e| toml_error(&e, text, name))?;
    if doc.stage.is_empty() {
        return Err(Error::Input(format!(
            "{name}: no [[stage]] found; a TOML profile is a list of [[stage]] tables with duration and rps (or from_rps and to_rps)"
        )));
    }
    let mut rps = Vec::new();
    for (i, stage) in doc.stage.iter().enumerate() {
        let (minutes, shape) = stage_plan(stage, i + 1, text, name)?;
        if rps.len().saturating_add(minutes) > MAX_MINUTES {
            let (line, _) = line_column(text, stage.span().start);
            let msg =
                format!("the profile is longer than {MAX_MINUTES} minutes (a year); shorten it");
            return Err(at(name, line, None, &msg));
        }
        rps.extend((0..minutes).map(|m| shape.at(m, minutes)));
    }
    finish(rps, name)
}

impl Shape {
    fn at(self, minute: usize, minutes: usize) -> f64 {
        match self {
            Shape::Steady(r) => r,
            Shape::Ramp { from, to } if minutes <= 1 => (from + to) / 2.0,
            Shape::Ramp { from, to } => from + (to - from) * minute as f64 / (minutes - 1) as f64,
        }
    }
}

fn stage_plan(
    stage: &Spanned<StageDoc>,
    number: usize,
    text: &str,
    name: &str,
) -> Result<(usize, Shape), Error> {
    let fail = |span: std::ops::Range<usize>, msg: String| {
        let (line, column) = line_column(text, span.start);
        at(name, line, Some(column), &format!("stage {number}: {msg}"))
    };
    let s = stage.get_ref();
    let minutes = stage_minutes(&s.duration).map_err(|m| fail(s.duration.span(), m))?;
    let rate = |v: &Spanned<f64>| check_rate(*v.get_ref()).map_err(|m| fail(v.span(), m));
    let shape = match (&s.rps, &s.from_rps, &s.to_rps) {
        (Some(r), None, None) => Shape::Steady(rate(r)?),
        (None, Some(f), Some(t)) => Shape::Ramp {
            from: rate(f)?,
            to: rate(t)?,
        },
        (Some(r), _, _) => {
            return Err(fail(
                r.span(),
                "give either rps or from_rps and to_rps, not both".into(),
            ));
        }
        (None, Some(f), None) => {
            return Err(fail(
                f.span(),
                "from_rps needs to_rps (a linear ramp)".into(),
            ));
        }
        (None, None, Some(t)) => {
            return Err(fail(
                t.span(),
                "to_rps needs from_rps (a linear ramp)".into(),
            ));
        }
        (None, None, None) => {
            return Err(fail(
                stage.span(),
                "needs rps, or from_rps and to_rps for a linear ramp".into(),
            ));
        }
    };
    Ok((minutes, shape))
}

fn stage_minutes(duration: &Spanned<String>) -> Result<usize, String> {
    let d = crate::units::parse_duration(duration.get_ref())?;
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 || secs % 60 != 0 || secs == 0 {
        return Err(format!(
            "duration '{}' is not a whole number of minutes; the profile has one rate per minute (write e.g. 10m or 1h30m)",
            duration.get_ref()
        ));
    }
    usize::try_from(secs / 60)
        .ok()
        .filter(|m| *m <= MAX_MINUTES)
        .ok_or_else(|| format!("duration '{}' is longer than a year", duration.get_ref()))
}

fn toml_error(e: &toml::de::Error, text: &str, name: &str) -> Error {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            at(name, line, Some(column), &message)
        }
        None => Error::Input(format!("{name}: {message}")),
    }
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<TrafficProfile, Error>) -> String {
        match r {
            Err(Error::Input(m)) => m,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn csv_rows_become_minutes() {
        let p = parse_csv("minute,rps\n0,100\n1,250.5\n\n# a comment\n2,0\n", "t.csv").unwrap();
        assert_eq!(p.rps, vec![100.0, 250.5, 0.0]);
        let quoted = parse_csv(
            "\u{feff}\"minute\",\"rps\"\r\n\"5\",\"10\"\r\n6,20\r\n",
            "q.csv",
        )
        .unwrap();
        assert_eq!(quoted.rps, vec![10.0, 20.0]);
    }

    #[test]
    fn csv_errors_name_file_line_and_column() {
        assert_eq!(
            err(parse_csv("minute,rps\n0,100\n1,abc\n", "t.csv")),
            "t.csv:3:3: rps 'abc' is not a number"
        );
        assert_eq!(
            err(parse_csv("minute,rps\n0,100\n2,100\n", "t.csv")),
            "t.csv:3: minute 2 follows minute 0; the profile needs one row per minute, in order, without gaps"
        );
        assert!(
            err(parse_csv("time,value\n0,1\n", "t.csv")).starts_with("t.csv:1:1: the header is")
        );
        assert!(
            err(parse_csv("minute,rps\n0,1,2\n", "t.csv"))
                .starts_with("t.csv:2: expected 2 fields")
        );
        assert!(
            err(parse_csv("minute,rps\n-1,5\n", "t.csv")).starts_with("t.csv:2:1: minute '-1'")
        );
        assert!(
            err(parse_csv("minute,rps\n0,-5\n", "t.csv")).starts_with("t.csv:2:3: rps -5 must be")
        );
        assert!(err(parse_csv("minute,rps\n0,inf\n", "t.csv")).contains("must be a finite number"));
        assert_eq!(
            err(parse_csv("minute,rps\n0,1e30\n", "t.csv")),
            "t.csv:2:3: rps 1e30 is above the limit of 10,000,000 req/s"
        );
        assert_eq!(
            err(parse_csv("minute,rps\n", "t.csv")),
            "t.csv: the traffic profile has no minutes"
        );
        assert_eq!(
            err(parse_csv("", "t.csv")),
            "t.csv: the traffic profile is empty"
        );
        let max = format!("minute,rps\n{},1\n1,1\n", u64::MAX);
        let e = err(parse_csv(&max, "t.csv"));
        assert!(e.starts_with("t.csv:3: minute 1 follows"), "{e}");
    }

    #[test]
    fn toml_stages_expand_per_minute_with_linear_ramps() {
        let text = r#"
[[stage]]
duration = "2m"
rps = 100

[[stage]]
duration = "5m"
from_rps = 100
to_rps = 500

[[stage]]
duration = "1m"
from_rps = 0
to_rps = 10
"#;
        let p = parse_toml(text, "p.toml").unwrap();
        assert_eq!(
            p.rps,
            vec![100.0, 100.0, 100.0, 200.0, 300.0, 400.0, 500.0, 5.0]
        );
        assert_eq!(p.peak(), 500.0);
        assert_eq!(p.total_requests(), 1705.0 * 60.0);
    }

    #[test]
    fn toml_errors_name_file_line_and_column() {
        let bad_duration = "[[stage]]\nduration = \"10\"\nrps = 5\n";
        assert_eq!(
            err(parse_toml(bad_duration, "p.toml")),
            "p.toml:2:12: stage 1: '10' has no unit; write e.g. 10s or 10ms"
        );
        let partial_minute = "[[stage]]\nduration = \"90s\"\nrps = 5\n";
        assert!(
            err(parse_toml(partial_minute, "p.toml"))
                .starts_with("p.toml:2:12: stage 1: duration '90s' is not a whole number")
        );
        let both = "[[stage]]\nduration = \"1m\"\nrps = 5\n\n[[stage]]\nduration = \"1m\"\nrps = 1\nto_rps = 3\n";
        assert!(
            err(parse_toml(both, "p.toml")).starts_with("p.toml:7:7: stage 2: give either rps")
        );
        let negative = "[[stage]]\nduration = \"1m\"\nrps = -1\n";
        assert!(
            err(parse_toml(negative, "p.toml")).starts_with("p.toml:3:7: stage 1: rps -1 must be")
        );
        let typo = "[[stage]]\nduration = \"1m\"\nrsp = 5\n";
        assert!(
            err(parse_toml(typo, "p.toml")).starts_with("p.toml:3:1: unknown field `rsp`"),
            "{}",
            err(parse_toml(typo, "p.toml"))
        );
        let syntax = "[[stage]]\nduration = \"1m\nrps = 5\n";
        assert!(err(parse_toml(syntax, "p.toml")).starts_with("p.toml:2:"));
        let missing = "[[stage]]\nduration = \"1m\"\n";
        assert!(err(parse_toml(missing, "p.toml")).contains("stage 1: needs rps"));
        assert!(err(parse_toml("", "p.toml")).contains("no [[stage]] found"));
        let huge = "[[stage]]\nduration = \"1000y\"\nrps = 5\n";
        assert!(err(parse_toml(huge, "p.toml")).starts_with("p.toml:2:12: stage 1:"));
        let long =
            "[[stage]]\nduration = \"300d\"\nrps = 5\n[[stage]]\nduration = \"300d\"\nrps = 5\n";
        assert!(err(parse_toml(long, "p.toml")).starts_with("p.toml:4: the profile is longer"));
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "\u{0}",
            "[[stage]]\nduration = 5\n",
            "stage = 3",
            "é,é\n",
            "[[stage]]\nduration = \"1m\"\nrps = nan\n",
            "minute,rps\n0,\"\n",
        ] {
            let _ = parse_toml(text, "x");
            let _ = parse_csv(text, "x");
        }
        assert_eq!(line_column("aé\nb", 2), (1, 2));
    }
}
