//! Numbers as every report writes them, terminal and HTML alike: milliseconds, rates,
//! success percentages, significant digits, chart figures and grouped thousands.

/// Milliseconds to a precision that matters: 1234, 25.3, 0.42.
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Requests per second: one decimal below 10 000, none above.
pub fn rps(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A success ratio as a percentage, rounded down so that 99.96% never reads as 100.0% and a
/// step below --min-success never reads as reaching it.
pub fn pct(ratio: f64) -> String {
    format!("{:.1}%", (ratio * 1000.0 + 1e-6).floor() / 10.0)
}

/// MAX_RPS as the document keeps it, to two decimals at most (158.43, 150, 157.3): the one
/// rounding every page and table uses wherever MAX_RPS is named, so that its formulas add up.
pub fn max_rps(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The stability band as `--stability` sets it: 0.1 → "10 %", 0.025 → "2.5 %".
pub fn stability_band(stability: f64) -> String {
    format!("{} %", num(stability * 100.0))
}

/// A number to three significant digits: 40.2, 0.00126, 576.
pub fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// A number as a tick label or figure: integers plainly, others to three significant digits.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if (v - v.round()).abs() < 1e-9 || v.abs() >= 100.0 {
        return format!("{v:.0}");
    }
    let text = if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A rate or target: grouped whole numbers from 1000 up, one decimal below when fractional.
pub fn number(v: f64) -> String {
    if v >= 1000.0 || (v - v.round()).abs() < 1e-9 {
        thousands(v.round() as u64)
    } else {
        format!("{v:.1}")
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(sig3(40.23), "40.2");
        assert_eq!(sig3(0.001262), "0.00126");
        assert_eq!(sig3(576.34), "576");
        assert_eq!(sig3(0.0), "0");
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(num(4.0), "4");
        assert_eq!(num(158.43), "158");
        assert_eq!(num(25.26), "25.3");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(2.5), "2.5");
    }

    #[test]
    fn max_rps_keeps_the_documents_two_decimals() {
        assert_eq!(max_rps(158.43), "158.43");
        assert_eq!(max_rps(150.0), "150");
        assert_eq!(max_rps(157.3), "157.3");
    }

    #[test]
    fn the_stability_band_is_the_setting() {
        assert_eq!(stability_band(0.10), "10 %");
        assert_eq!(stability_band(0.025), "2.5 %");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(number(9051.0), "9,051");
        assert_eq!(number(1057.6), "1,058");
        assert_eq!(number(301.7), "301.7");
    }
}
