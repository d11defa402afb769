//! The demo model: a small neural network (4 inputs, 8 tanh units, 3 classes) trained at
//! start on Fisher's Iris data, and the request formats it reads (JSON, CSV) and writes.

// Matrix arithmetic reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use serde_json::{Value, json};

/// Fisher's Iris data (public domain), 150 rows: four measurements in cm and the species.
const IRIS: &str = include_str!("iris.csv");
pub const CLASSES: [&str; 3] = ["setosa", "versicolor", "virginica"];
const HIDDEN: usize = 8;

/// A trained classifier. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Model {
    mean: [f64; 4],
    std: [f64; 4],
    w1: [[f64; 4]; HIDDEN],
    b1: [f64; HIDDEN],
    w2: [[f64; HIDDEN]; 3],
    b2: [f64; 3],
}

fn iris() -> Vec<([f64; 4], usize)> {
    IRIS.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let x = [f.first()?, f.get(1)?, f.get(2)?, f.get(3)?].map(|v| v.parse().unwrap_or(0.0));
            Some((x, f.get(4)?.parse().ok()?))
        })
        .collect()
}

impl Model {
    /// Trains the network by full-batch gradient descent (deterministic initial weights).
    // Backpropagation reads clearest with the matrix indices written out.
    #[allow(clippy::needless_range_loop)]
    pub fn train() -> Self {
        let data = iris();
        let n = data.len() as f64;
        let mut mean = [0.0; 4];
        let mut std = [0.0; 4];
        for j in 0..4 {
            mean[j] = data.iter().map(|(x, _)| x[j]).sum::<f64>() / n;
            std[j] = (data
                .iter()
                .map(|(x, _)| (x[j] - mean[j]).powi(2))
                .sum::<f64>()
                / n)
                .sqrt();
        }
        // Small deterministic pseudo-random weights (a fixed LCG), so training is repeatable.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rand = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.5
        };
        let mut m = Model {
            mean,
            std,
            w1: [[0.0; 4]; HIDDEN].map(|r| r.map(|_| rand())),
            b1: [0.0; HIDDEN],
            w2: [[0.0; HIDDEN]; 3].map(|r| r.map(|_| rand())),
            b2: [0.0; 3],
        };
        let rate = 0.3;
        for _ in 0..300 {
            let mut g = Model {
                w1: [[0.0; 4]; HIDDEN],
                b1: [0.0; HIDDEN],
                w2: [[0.0; HIDDEN]; 3],
                b2: [0.0; 3],
                ..m.clone()
            };
            for (x, label) in &data {
                let z = m.standardize(x);
                let h = m.hidden(&z);
                let p = m.output(&h);
                let mut d2 = p;
                d2[*label] -= 1.0;
                for k in 0..3 {
                    g.b2[k] += d2[k];
                    for j in 0..HIDDEN {
                        g.w2[k][j] += d2[k] * h[j];
                    }
                }
                for j in 0..HIDDEN {
                    let back: f64 = (0..3).map(|k| d2[k] * m.w2[k][j]).sum();
                    let d1 = back * (1.0 - h[j] * h[j]);
                    g.b1[j] += d1;
                    for i in 0..4 {
                        g.w1[j][i] += d1 * z[i];
                    }
                }
            }
            for j in 0..HIDDEN {
                m.b1[j] -= rate * g.b1[j] / n;
                for i in 0..4 {
                    m.w1[j][i] -= rate * g.w1[j][i] / n;
                }
            }
            for k in 0..3 {
                m.b2[k] -= rate * g.b2[k] / n;
                for j in 0..HIDDEN {
                    m.w2[k][j] -= rate * g.w2[k][j] / n;
                }
            }
        }
        m
    }

    fn standardize(&self, x: &[f64; 4]) -> [f64; 4] {
        std::array::from_fn(|i| (x[i] - self.mean[i]) / self.std[i])
    }

    fn hidden(&self, z: &[f64; 4]) -> [f64; HIDDEN] {
        std::array::from_fn(|j| {
            (self.b1[j] + (0..4).map(|i| self.w1[j][i] * z[i]).sum::<f64>()).tanh()
        })
    }

    fn output(&self, h: &[f64; HIDDEN]) -> [f64; 3] {
        let logits: [f64; 3] = std::array::from_fn(|k| {
            self.b2[k] + (0..HIDDEN).map(|j| self.w2[k][j] * h[j]).sum::<f64>()
        });
        let max = logits.iter().copied().fold(f64::MIN, f64::max);
        let e = logits.map(|l| (l - max).exp());
        let sum: f64 = e.iter().sum();
        e.map(|v| v / sum)
    }

    /// Class probabilities for one row of measurements.
    pub fn predict(&self, x: &[f64; 4]) -> [f64; 3] {
        self.output(&self.hidden(&self.standardize(x)))
    }

    /// Probabilities averaged over `copies` slightly jittered copies of the row (test-time
    /// augmentation): `copies` forward passes, the knob that scales the work per request.
    pub fn predict_augmented(&self, x: &[f64; 4], copies: u32) -> [f64; 3] {
        let copies = copies.max(1);
        let mut sum = [0.0; 3];
        for c in 0..copies {
            let jitter = (f64::from(c % 7) - 3.0) * 1e-3;
            let p = self.predict(&x.map(|v| v + jitter));
            for k in 0..3 {
                sum[k] += p[k];
            }
        }
        sum.map(|v| v / f64::from(copies))
    }

    /// Share of the training rows classified right.
    pub fn accuracy(&self) -> f64 {
        let data = iris();
        let right = data
            .iter()
            .filter(|(x, y)| argmax(&self.predict(x)) == *y)
            .count();
        right as f64 / data.len() as f64
    }
}

pub fn argmax(p: &[f64; 3]) -> usize {
    (0..3).fold(0, |best, k| if p[k] > p[best] { k } else { best })
}

/// Reads the rows of a request: CSV (one row of four numbers per line) or JSON (a row, a
/// list of rows, or `{"instances": rows}`).
pub fn parse_rows(body: &[u8], csv: bool) -> Result<Vec<[f64; 4]>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
    let rows = if csv {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                let v: Result<Vec<f64>, _> =
                    line.split(',').map(|f| f.trim().parse::<f64>()).collect();
                v.map_err(|_| format!("CSV line {}: expected four numbers", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let value = value.get("instances").cloned().unwrap_or(value);
        let as_row =
            |v: &Value| -> Option<Vec<f64>> { v.as_array()?.iter().map(Value::as_f64).collect() };
        match &value {
            Value::Array(items) if items.iter().all(Value::is_number) => {
                vec![as_row(&value).unwrap_or_default()]
            }
            Value::Array(items) => items
                .iter()
                .map(|r| {
                    as_row(r)
                        .ok_or_else(|| "each instance must be a list of four numbers".to_string())
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => {
                return Err(
                    "expected a list of four numbers, a list of such lists, or {\"instances\": …}"
                        .into(),
                );
            }
        }
    };
    if rows.is_empty() {
        return Err("no rows in the request".into());
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            <[f64; 4]>::try_from(r.as_slice()).map_err(|_| {
                format!(
                    "row {}: expected 4 features (sepal and petal length and width), got {}",
                    i + 1,
                    r.len()
                )
            })
        })
        .collect()
}

/// The response body: JSON `{"predictions": [{"label", "probabilities"}]}` or CSV labels.
pub fn render(predictions: &[[f64; 3]], csv: bool) -> String {
    if csv {
        predictions
            .iter()
            .map(|p| format!("{}\n", CLASSES[argmax(p)]))
            .collect()
    } else {
        let items: Vec<Value> = predictions
            .iter()
            .map(|p| json!({"label": CLASSES[argmax(p)], "probabilities": p.map(|v| (v * 1e4).round() / 1e4)}))
            .collect();
        json!({ "predictions": items }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trained_model_classifies_iris() {
        let m = Model::train();
        assert!(m.accuracy() > 0.93, "accuracy {}", m.accuracy());
        assert_eq!(CLASSES[argmax(&m.predict(&[5.1, 3.5, 1.4, 0.2]))], "setosa");
        assert_eq!(
            CLASSES[argmax(&m.predict(&[6.7, 3.0, 5.8, 2.2]))],
            "virginica"
        );
        let a = m.predict_augmented(&[5.9, 3.0, 4.2, 1.5], 50);
        assert_eq!(CLASSES[argmax(&a)], "versicolor");
    }

    #[test]
    fn parses_json_and_csv_or_says_why_not() {
        assert_eq!(parse_rows(b"[1,2,3,4]", false).unwrap().len(), 1);
        assert_eq!(
            parse_rows(b"{\"instances\": [[1,2,3,4],[5,6,7,8]]}", false)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            parse_rows(b"1,2,3,4\n5,6,7,8\n", true).unwrap()[1],
            [5.0, 6.0, 7.0, 8.0]
        );
        assert!(
            parse_rows(b"[1,2,3]", false)
                .unwrap_err()
                .contains("expected 4 features")
        );
        assert!(
            parse_rows(b"{oops", false)
                .unwrap_err()
                .contains("invalid JSON")
        );
        assert!(
            parse_rows(b"1,x,3,4", true)
                .unwrap_err()
                .contains("CSV line 1")
        );
        assert_eq!(render(&[[0.9, 0.05, 0.05]], true), "setosa\n");
        assert!(
            render(&[[0.9, 0.05, 0.05]], false)
                .starts_with("{\"predictions\":[{\"label\":\"setosa\"")
        );
    }
}
