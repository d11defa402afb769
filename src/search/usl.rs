//! Gunther's Universal Scalability Law fitted to the steps measured so far,
//! `X(N) = λN / (1 + σ(N−1) + κN(N−1))`, by weighted least squares (a small
//! Levenberg–Marquardt of our own, started from the closed-form linear fit of `N/X`): the
//! predicted peak `N* = √((1−σ)/κ)`, its throughput, where the curve bends, and how well the
//! curve fits.

/// One measured point: `x` req/s at concurrency `n`, known to within `sd` (one standard
/// error, which weighs the point: weight 1/sd²).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub n: f64,
    pub x: f64,
    pub sd: f64,
}

/// The law's three coefficients: λ the throughput of one user, σ contention (the serial
/// share), κ coherency (the cost of keeping users consistent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usl {
    pub lambda: f64,
    pub sigma: f64,
    pub kappa: f64,
}

impl Usl {
    /// Predicted throughput at concurrency `n`.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / self.denominator(n)
    }

    fn denominator(&self, n: f64) -> f64 {
        1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0)
    }

    /// `N* = √((1−σ)/κ)`, where throughput peaks; `None` when κ is 0 (Amdahl's law: no
    /// peak, only a ceiling λ/σ).
    pub fn peak_concurrency(&self) -> Option<f64> {
        (self.kappa > KAPPA_ZERO).then(|| ((1.0 - self.sigma).max(0.0) / self.kappa).sqrt())
    }

    /// The most throughput the curve reaches: `X(N*)`, or the ceiling λ/σ when κ is 0;
    /// `None` for a straight line (no contention at all).
    pub fn max_throughput(&self) -> Option<f64> {
        match self.peak_concurrency() {
            Some(n) => Some(self.throughput(n.max(1.0))),
            None => (self.sigma > SIGMA_ZERO).then(|| self.lambda / self.sigma),
        }
    }

    /// Where the curve bends: the least concurrency at which it reaches `1 − shortfall` of
    /// its maximum (past it, more load buys less than `shortfall` more throughput). `None`
    /// for a straight line.
    pub fn knee(&self, shortfall: f64) -> Option<f64> {
        let goal = (1.0 - shortfall) * self.max_throughput()?;
        let mut hi = match self.peak_concurrency() {
            Some(n) => n.max(1.0),
            // Amdahl: X(N) = goal solves to N = goal (1 − σ) / (λ − goal σ).
            None => {
                return Some(
                    (goal * (1.0 - self.sigma) / (self.lambda - goal * self.sigma)).max(1.0),
                );
            }
        };
        let mut lo = 1.0;
        if self.throughput(lo) >= goal {
            return Some(lo);
        }
        // X rises monotonically on [1, N*]: bisect for X(N) = goal.
        for _ in 0..100 {
            let mid = (lo + hi) / 2.0;
            if self.throughput(mid) >= goal {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }
}

/// Below these, σ and κ are taken as zero (no contention, no coherency cost).
const SIGMA_ZERO: f64 = 1e-9;
const KAPPA_ZERO: f64 = 1e-12;

/// A fitted curve and how well it fits the points it was fitted to.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub usl: Usl,
    /// Points fitted.
    pub points: usize,
    /// 1 − (residual sum of squares / total sum of squares), on throughput, unweighted.
    pub r_squared: f64,
    /// Measured minus predicted throughput, in req/s, one per point in the order given.
    pub residuals: Vec<f64>,
    /// The residuals' typical size relative to the curve: √(Σ((x − x̂)/x̂)² / (n − 3)).
    pub scatter: f64,
}

/// The fewest points a fit of three coefficients needs; with exactly three it passes
/// through them and says nothing about its quality.
pub const MIN_POINTS: usize = 3;

/// Fits the USL to `points` (at least [`MIN_POINTS`] with distinct concurrencies and
/// positive throughput); `None` when they cannot determine it.
pub fn fit(points: &[Observation]) -> Option<Fit> {
    let points: Vec<Observation> = points
        .iter()
        .copied()
        .filter(|p| p.n >= 1.0 && p.x > 0.0 && p.x.is_finite() && p.sd > 0.0)
        .collect();
    let mut levels: Vec<f64> = points.iter().map(|p| p.n).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    if levels.len() < MIN_POINTS {
        return None;
    }
    let start = linear_start(&points)?;
    let usl = levenberg_marquardt(&points, start);
    Some(quality(&points, usl))
}

/// The closed-form start: `N/X = a + b(N−1) + cN(N−1)` is linear in (a, b, c) = (1, σ, κ)/λ;
/// weighted least squares on it, with each point's weight carried through the transform.
fn linear_start(points: &[Observation]) -> Option<Usl> {
    let rows: Vec<([f64; 3], f64, f64)> = points
        .iter()
        .map(|p| {
            let y = p.n / p.x;
            // sd(N/X) ≈ N sd(X) / X².
            let sd_y = p.n * p.sd / (p.x * p.x);
            ([1.0, p.n - 1.0, p.n * (p.n - 1.0)], y, 1.0 / (sd_y * sd_y))
        })
        .collect();
    let mut a = [[0.0; 3]; 3];
    let mut b = [0.0; 3];
    for (row, y, w) in &rows {
        for i in 0..3 {
            b[i] += w * row[i] * y;
            for j in 0..3 {
                a[i][j] += w * row[i] * row[j];
            }
        }
    }
    let [inv_lambda, s, k] = solve3(a, b).unwrap_or_else(|| {
        // Singular (too few distinct levels for the quadratic term): a line through the
        // lowest point.
        let low = points
            .iter()
            .min_by(|p, q| p.n.total_cmp(&q.n))
            .map_or(1.0, |p| p.n / p.x);
        [low, 0.0, 0.0]
    });
    let lambda = if inv_lambda > 0.0 {
        1.0 / inv_lambda
    } else {
        points.iter().map(|p| p.x / p.n).fold(0.0, f64::max)
    };
    (lambda > 0.0 && lambda.is_finite()).then(|| {
        clamp(Usl {
            lambda,
            sigma: s * lambda,
            kappa: k * lambda,
        })
    })
}

/// The coefficients kept within the law's meaning: λ > 0, 0 ≤ σ ≤ 1, κ ≥ 0.
fn clamp(u: Usl) -> Usl {
    Usl {
        lambda: u.lambda.max(f64::MIN_POSITIVE),
        sigma: if u.sigma.is_finite() {
            u.sigma.clamp(0.0, 1.0)
        } else {
            0.0
        },
        kappa: if u.kappa.is_finite() {
            u.kappa.max(0.0)
        } else {
            0.0
        },
    }
}

/// Weighted sum of squared residuals.
fn cost(points: &[Observation], u: &Usl) -> f64 {
    points
        .iter()
        .map(|p| ((p.x - u.throughput(p.n)) / p.sd).powi(2))
        .sum()
}

/// Levenberg–Marquardt on the weighted residuals `(x − X(n))/sd`, each step projected
/// back into the coefficients' bounds.
fn levenberg_marquardt(points: &[Observation], start: Usl) -> Usl {
    let mut u = start;
    let mut current = cost(points, &u);
    let mut damping = 1e-3;
    for _ in 0..200 {
        let (jtj, jtr) = normal_equations(points, &u);
        let mut improved = false;
        while damping < 1e12 {
            let mut a = jtj;
            for (i, row) in a.iter_mut().enumerate() {
                row[i] += damping * jtj[i][i].max(1e-12);
            }
            let Some(delta) = solve3(a, jtr) else {
                damping *= 10.0;
                continue;
            };
            let next = clamp(Usl {
                lambda: u.lambda + delta[0],
                sigma: u.sigma + delta[1],
                kappa: u.kappa + delta[2],
            });
            let next_cost = cost(points, &next);
            if next_cost < current {
                let gain = current - next_cost;
                u = next;
                current = next_cost;
                damping = (damping / 10.0).max(1e-12);
                improved = gain > 1e-12 * current.max(1e-12);
                break;
            }
            damping *= 10.0;
        }
        if !improved {
            break;
        }
    }
    u
}

/// JᵀWJ and JᵀWr for the current coefficients (J: dX/d(λ, σ, κ) at each point).
fn normal_equations(points: &[Observation], u: &Usl) -> ([[f64; 3]; 3], [f64; 3]) {
    let mut jtj = [[0.0; 3]; 3];
    let mut jtr = [0.0; 3];
    for p in points {
        let d = u.denominator(p.n);
        let x = u.lambda * p.n / d;
        let grad = [p.n / d, -x * (p.n - 1.0) / d, -x * p.n * (p.n - 1.0) / d];
        let w = 1.0 / (p.sd * p.sd);
        let r = p.x - x;
        for i in 0..3 {
            jtr[i] += w * grad[i] * r;
            for j in 0..3 {
                jtj[i][j] += w * grad[i] * grad[j];
            }
        }
    }
    (jtj, jtr)
}

/// Solves the 3×3 system `a·v = b` by Gaussian elimination with partial pivoting; `None`
/// when it is singular.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    let scale = a.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-14 * scale.max(f64::MIN_POSITIVE) {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..3 {
            let f = a[row][col] / pivot_row[col];
            for (cell, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *cell -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut v = [0.0; 3];
    for row in (0..3).rev() {
        let tail: f64 = (row + 1..3).map(|k| a[row][k] * v[k]).sum();
        v[row] = (b[row] - tail) / a[row][row];
    }
    v.iter().all(|x| x.is_finite()).then_some(v)
}

/// R², residuals and scatter of `usl` over `points`.
fn quality(points: &[Observation], usl: Usl) -> Fit {
    let n = points.len();
    let mean = points.iter().map(|p| p.x).sum::<f64>() / n as f64;
    let residuals: Vec<f64> = points.iter().map(|p| p.x - usl.throughput(p.n)).collect();
    let ss_res: f64 = residuals.iter().map(|r| r * r).sum();
    let ss_tot: f64 = points.iter().map(|p| (p.x - mean).powi(2)).sum();
    let r_squared = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        0.0
    };
    let relative: f64 = points
        .iter()
        .zip(&residuals)
        .map(|(p, r)| (r / usl.throughput(p.n).max(f64::MIN_POSITIVE)).powi(2))
        .sum();
    let dof = n.saturating_sub(3).max(1) as f64;
    Fit {
        usl,
        points: n,
        r_squared,
        residuals,
        scatter: (relative / dof).sqrt(),
    }
}

#[cfg(test)]
mod tests;
