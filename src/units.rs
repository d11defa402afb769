//! Values as people write them on the command line and in profile files: durations
//! (`500ms`, `30s`, `5m`), rates, fractions, percentiles, prices, safety factors. Each parser
//! says in its error what it expected, for clap and the file readers to show.

use std::time::Duration;

/// The highest request rate peakrps takes anywhere (a flag, a traffic profile): ten million
/// requests per second, far above any one endpoint, low enough that counts stay exact.
pub const MAX_RATE: f64 = 10_000_000.0;

/// The longest duration peakrps takes: a leap year, as the longest traffic profile.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Durations read `500ms`, `30s`, `5m`, `1h`; at most a year.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.starts_with('-') && humantime::parse_duration(&s[1..]).is_ok() {
        return Err(format!(
            "{s} is negative; give a duration of 0 or more, e.g. 30s"
        ));
    }
    if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
        return Err(format!("'{s}' has no unit; write e.g. {s}s or {s}ms"));
    }
    let d = humantime::parse_duration(s)
        .map_err(|_| format!("'{s}' is not a duration; write e.g. 500ms, 30s or 5m"))?;
    if d > MAX_DURATION {
        return Err(format!("{s} is longer than the limit of 366 days"));
    }
    Ok(d)
}

/// A duration above zero (a timeout, a run's length, a window).
pub fn parse_nonzero_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        Err(format!(
            "{} is no time at all; give a duration above 0, e.g. 30s",
            s.trim()
        ))
    } else {
        Ok(d)
    }
}

fn parse_number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("'{s}' is not a finite number"))
    }
}

/// A fraction in [0, 1] (0.05 = 5 %).
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    let v = parse_number(s)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is outside [0, 1]; write a fraction such as 0.05 for 5%"
        ))
    }
}

/// A percentile in (0, 100].
pub fn parse_percentile(s: &str) -> Result<f64, String> {
    let s = s.trim().trim_start_matches(['p', 'P']);
    let v = parse_number(s)?;
    if v > 0.0 && v <= 100.0 {
        Ok(v)
    } else {
        Err(format!("{v} is outside (0, 100]; write e.g. 99 or 99.9"))
    }
}

/// A number above zero (a rate, a target value).
pub fn parse_positive(s: &str) -> Result<f64, String> {
    let v = parse_number(s)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} must be above 0"))
    }
}

/// A price in dollars, 0 or more.
pub fn parse_price(s: &str) -> Result<f64, String> {
    let v = parse_number(s.trim().trim_start_matches('$'))?;
    match v {
        v if v < 0.0 => Err(format!("{v} is negative; write a price such as 1.21")),
        v if v > 1e6 => Err(format!(
            "{v} dollars an hour is not an instance price; write e.g. 1.21"
        )),
        v => Ok(v),
    }
}

/// A safety factor in (0, 1].
pub fn parse_safety_factor(s: &str) -> Result<f64, String> {
    let v = parse_number(s)?;
    crate::results::check_safety_factor(v)
        .map(|()| v)
        .map_err(|e| e.to_string())
}

/// A time compression factor: at least 1 (real time), at most 600 (a minute in 0.1 s).
pub fn parse_speed(s: &str) -> Result<f64, String> {
    let v = parse_number(s)?;
    if (1.0..=600.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is outside [1, 600]; e.g. 10 plays a 60-minute profile in 6 minutes"
        ))
    }
}

/// A request rate in req/s: above 0, at most `MAX_RATE`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let v = parse_number(s)?;
    if v > 0.0 {
        at_most_max_rate(s, v)
    } else {
        Err(format!(
            "{v} is not a usable rate; give requests per second above 0, e.g. 500"
        ))
    }
}

/// A number above zero that is a rate (`simulate --max-rps`): at most `MAX_RATE`.
pub fn parse_positive_rate(s: &str) -> Result<f64, String> {
    at_most_max_rate(s, parse_positive(s)?)
}

fn at_most_max_rate(s: &str, v: f64) -> Result<f64, String> {
    if v > MAX_RATE {
        Err(format!(
            "{} req/s is above the limit of {} req/s",
            s.trim(),
            thousands(MAX_RATE)
        ))
    } else {
        Ok(v)
    }
}

/// A number as a person reads it: `2500.5`, and `1e30` rather than thirty-one digits.
pub fn readable(v: f64) -> String {
    if v.abs() >= 1e15 {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A span of time as a person reads it: its two largest units, `2533 days 6 h`, `3 h 12 min`,
/// `4 min 5 s`, and tenths of a second below a minute (`12.3 s`).
pub fn readable_span(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        return format!("{:.1} s", d.as_secs_f64());
    }
    let units = [(86_400, "days"), (3_600, "h"), (60, "min"), (1, "s")];
    let Some(first) = units.iter().position(|&(size, _)| secs >= size) else {
        return format!("{secs} s");
    };
    let (size, name) = units[first];
    let (next_size, next_name) = units[first + 1];
    let name = if size == 86_400 && secs / size == 1 {
        "day"
    } else {
        name
    };
    format!(
        "{} {name} {} {next_name}",
        secs / size,
        secs % size / next_size
    )
}

/// A whole number with thousands separators: 10,000,000.
pub fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("fast")
                .unwrap_err()
                .contains("not a duration")
        );
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(
            parse_nonzero_duration("0s")
                .unwrap_err()
                .contains("no time at all")
        );
        assert!(
            parse_duration("400d")
                .unwrap_err()
                .contains("limit of 366 days")
        );
        assert!(parse_duration("100000000000y").is_err());
        assert_eq!(
            parse_duration("-5s").unwrap_err(),
            "-5s is negative; give a duration of 0 or more, e.g. 30s"
        );
    }

    #[test]
    fn rates_have_a_ceiling_that_is_named() {
        assert_eq!(parse_rate("500"), Ok(500.0));
        assert!(parse_rate("0").is_err());
        assert_eq!(
            parse_rate("1e30").unwrap_err(),
            "1e30 req/s is above the limit of 10,000,000 req/s"
        );
        assert!(
            parse_positive_rate("0")
                .unwrap_err()
                .contains("must be above 0")
        );
        assert!(
            parse_positive_rate("2e7")
                .unwrap_err()
                .contains("above the limit")
        );
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(readable(1e30), "1e30");
        assert_eq!(readable(2500.5), "2500.5");
    }

    #[test]
    fn spans_read_in_their_two_largest_units() {
        assert_eq!(readable_span(Duration::from_millis(12_345)), "12.3 s");
        assert_eq!(readable_span(Duration::from_secs(245)), "4 min 5 s");
        assert_eq!(
            readable_span(Duration::from_secs(3 * 3600 + 720)),
            "3 h 12 min"
        );
        assert_eq!(
            readable_span(Duration::from_secs(86_400 + 7200)),
            "1 day 2 h"
        );
        assert_eq!(
            readable_span(Duration::from_secs_f64(218_856_323.2)),
            "2533 days 1 h"
        );
    }

    #[test]
    fn numbers_are_range_checked() {
        assert_eq!(parse_percentile("p99.9"), Ok(99.9));
        assert!(parse_percentile("0").is_err());
        assert!(parse_percentile("101").is_err());
        assert!(parse_fraction("1.5").is_err());
        assert!(parse_fraction("NaN").is_err());
        assert!(parse_safety_factor("0").is_err());
        assert_eq!(parse_safety_factor("1"), Ok(1.0));
        assert_eq!(parse_price("$1.21"), Ok(1.21));
        assert!(parse_price("-1").is_err());
        assert!(parse_price("1e300").is_err());
        assert!(parse_positive("0").is_err());
        assert_eq!(parse_positive("314.67"), Ok(314.67));
    }
}
