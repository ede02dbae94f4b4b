//! Statistics for the funnel report.
//!
//! Everything here is plain arithmetic on counts and durations, with no
//! dependency beyond `serde` for serialising results into the report:
//!
//! - [`wilson`]: a proportion (lead rate, qualification rate, …) with its 95 %
//!   Wilson score interval, which behaves well for small samples and for
//!   proportions near 0 or 1, unlike the textbook normal ("Wald") interval.
//! - [`two_proportion`]: the pooled two-proportion z-test, two-sided at 95 %,
//!   used to say whether direct-to-chat and landing-page campaigns really
//!   differ on a rate, or whether the difference is within noise.
//! - [`percentile`]: nearest-rank percentiles of durations (time to first
//!   message, time to purchase, …).
//! - [`ratio`]: a division that refuses to produce `inf` or `NaN` (cost per
//!   lead with no leads, …).
//!
//! Functions never panic: impossible inputs (more successes than trials,
//! NaN, …) give `None` values rather than errors.

use serde::Serialize;

/// The two-sided 95 % critical value of the standard normal distribution.
const Z_95: f64 = 1.959964;

/// Significance level of [`two_proportion`].
const ALPHA: f64 = 0.05;

/// Minimum successes and minimum failures per group for the normal
/// approximation behind [`two_proportion`] to be trusted.
const MIN_SUCCESSES_AND_FAILURES: u64 = 5;

/// A proportion with its 95 % Wilson score interval.
///
/// `value`, `low` and `high` are `None` when `trials == 0`, or when the input
/// is impossible (`successes > trials`). Otherwise
/// `0 <= low <= value <= high <= 1`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// Number of successes (for example leads).
    pub successes: u64,
    /// Number of trials (for example clicks).
    pub trials: u64,
    /// `successes / trials`.
    pub value: Option<f64>,
    /// Lower bound of the 95 % Wilson score interval.
    pub low: Option<f64>,
    /// Upper bound of the 95 % Wilson score interval.
    pub high: Option<f64>,
}

/// The proportion `successes / trials` with its 95 % Wilson score interval
/// (z = 1.959964).
///
/// ```text
/// centre     = (p + z²/2n) / (1 + z²/n)
/// half-width = z · sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)
/// ```
///
/// With no trials, or with more successes than trials, every value is `None`.
pub fn wilson(successes: u64, trials: u64) -> Rate {
    let undefined = Rate {
        successes,
        trials,
        value: None,
        low: None,
        high: None,
    };
    if trials == 0 || successes > trials {
        return undefined;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    // The interval always contains p; pin the exact ends at 0 and 1 so that
    // rounding cannot put them a hair outside [0, 1] or on the wrong side of p.
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half_width).clamp(0.0, p)
    };
    let high = if successes == trials {
        1.0
    } else {
        (centre + half_width).clamp(p, 1.0)
    };
    Rate {
        value: Some(p),
        low: Some(low),
        high: Some(high),
        ..undefined
    }
}

/// The result of a pooled two-proportion z-test, two-sided, at 95 %.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    /// `(p_a - p_b) / se` with the pooled standard error; negative when group
    /// A's rate is lower. `None` when a group has no trials, the input is
    /// impossible, or the pooled rate is 0 or 1 (no variation to test).
    pub z: Option<f64>,
    /// Two-sided p-value from the normal distribution; `None` with `z`.
    pub p_value: Option<f64>,
    /// `true` only if `min_sample_ok` and `p_value < 0.05`.
    pub significant: bool,
    /// Each group has at least 5 successes and at least 5 failures, the rule
    /// of thumb under which the normal approximation holds. When `false`, the
    /// z and p-value are still reported but the difference is never called
    /// significant.
    pub min_sample_ok: bool,
}

/// Pooled two-proportion z-test of `a_successes / a_trials` against
/// `b_successes / b_trials`, two-sided, at the 95 % level.
///
/// ```text
/// pooled = (a + b) / (n_a + n_b)
/// se     = sqrt(pooled (1 - pooled) (1/n_a + 1/n_b))
/// z      = (a/n_a - b/n_b) / se,    p = erfc(|z| / √2)
/// ```
pub fn two_proportion(
    a_successes: u64,
    a_trials: u64,
    b_successes: u64,
    b_trials: u64,
) -> Difference {
    let valid = a_trials > 0 && b_trials > 0 && a_successes <= a_trials && b_successes <= b_trials;
    let enough = |successes: u64, trials: u64| {
        successes >= MIN_SUCCESSES_AND_FAILURES
            && trials.saturating_sub(successes) >= MIN_SUCCESSES_AND_FAILURES
    };
    let min_sample_ok = valid && enough(a_successes, a_trials) && enough(b_successes, b_trials);
    let untestable = Difference {
        z: None,
        p_value: None,
        significant: false,
        min_sample_ok,
    };
    if !valid {
        return untestable;
    }
    let (a, na, b, nb) = (
        a_successes as f64,
        a_trials as f64,
        b_successes as f64,
        b_trials as f64,
    );
    let pooled = (a + b) / (na + nb);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if !(standard_error > 0.0 && standard_error.is_finite()) {
        return untestable;
    }
    let z = (a / na - b / nb) / standard_error;
    if !z.is_finite() {
        return untestable;
    }
    let p_value = two_sided_p_value(z);
    Difference {
        z: Some(z),
        p_value: Some(p_value),
        significant: min_sample_ok && p_value < ALPHA,
        min_sample_ok,
    }
}

/// Two-sided p-value of a standard normal statistic: `P(|Z| >= |z|)`.
fn two_sided_p_value(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The complementary error function, `1 - erf(x)`.
///
/// Chebyshev fit from Numerical Recipes (`erfcc`), fractional error below
/// 1.2e-7 everywhere.
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let polynomial = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let tail = t * (-x * x + polynomial).exp();
    if x >= 0.0 { tail } else { 2.0 - tail }
}

/// Nearest-rank percentile of an ascending `sorted` list of durations in
/// seconds: the element at index `ceil(p · n) - 1`, so `p = 0.5` is the
/// median and `p = 0.9` the 90th percentile.
///
/// `p` is a fraction, clamped to `[0, 1]` (`p = 0` gives the minimum). `None`
/// when the list is empty or `p` is NaN. The list must already be sorted; an
/// unsorted list gives a meaningless element but never a panic.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() || p.is_nan() {
        return None;
    }
    let n = sorted.len() as f64;
    let rank = p.clamp(0.0, 1.0) * n;
    // 0.9 × 30 is 27.000000000000004 in binary floating point; a rank that
    // close to a whole number is that whole number.
    let rounded = rank.round();
    let rank = if (rank - rounded).abs() < 1e-9 {
        rounded
    } else {
        rank.ceil()
    };
    let index = (rank as usize).saturating_sub(1).min(sorted.len() - 1);
    sorted.get(index).copied()
}

/// `numerator / denominator`, or `None` when the denominator is 0, either
/// input is not finite, or the quotient overflows.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator == 0.0 || !numerator.is_finite() || !denominator.is_finite() {
        return None;
    }
    let quotient = numerator / denominator;
    quotient.is_finite().then_some(quotient)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance
    }

    #[test]
    fn wilson_matches_hand_computed_interval() {
        // p = 0.8, n = 10, z² = 3.84146: centre 0.71675, half-width 0.22658.
        let rate = wilson(8, 10);
        assert_eq!(rate.successes, 8);
        assert_eq!(rate.trials, 10);
        assert_eq!(rate.value, Some(0.8));
        assert!(close(rate.low.unwrap(), 0.4902, 1e-4), "{rate:?}");
        assert!(close(rate.high.unwrap(), 0.9433, 1e-4), "{rate:?}");
    }

    #[test]
    fn wilson_half_is_symmetric() {
        // 50 / 100: centre exactly 0.5, interval 0.4038 .. 0.5962.
        let rate = wilson(50, 100);
        assert!(close(rate.low.unwrap(), 0.4038, 1e-4), "{rate:?}");
        assert!(close(rate.high.unwrap(), 0.5962, 1e-4), "{rate:?}");
        assert!(close(rate.low.unwrap() + rate.high.unwrap(), 1.0, 1e-12));
    }

    #[test]
    fn wilson_zero_trials_is_undefined() {
        let rate = wilson(0, 0);
        assert_eq!((rate.value, rate.low, rate.high), (None, None, None));
        assert_eq!((rate.successes, rate.trials), (0, 0));
    }

    #[test]
    fn wilson_zero_successes_starts_at_zero() {
        // Upper bound z²/(n + z²) = 3.84146 / 23.84146 = 0.16113.
        let rate = wilson(0, 20);
        assert_eq!(rate.value, Some(0.0));
        assert_eq!(rate.low, Some(0.0));
        assert!(close(rate.high.unwrap(), 0.1611, 1e-4), "{rate:?}");
    }

    #[test]
    fn wilson_all_successes_ends_at_one() {
        // Lower bound n/(n + z²) = 20 / 23.84146 = 0.83887.
        let rate = wilson(20, 20);
        assert_eq!(rate.value, Some(1.0));
        assert_eq!(rate.high, Some(1.0));
        assert!(close(rate.low.unwrap(), 0.8389, 1e-4), "{rate:?}");
    }

    #[test]
    fn wilson_impossible_input_is_undefined() {
        let rate = wilson(11, 10);
        assert_eq!((rate.value, rate.low, rate.high), (None, None, None));
    }

    #[test]
    fn wilson_single_trial_and_huge_counts_stay_in_bounds() {
        for (successes, trials) in [
            (0, 1),
            (1, 1),
            (1, 3),
            (u64::MAX / 2, u64::MAX),
            (u64::MAX, u64::MAX),
        ] {
            let rate = wilson(successes, trials);
            let (low, value, high) = (rate.low.unwrap(), rate.value.unwrap(), rate.high.unwrap());
            assert!((0.0..=1.0).contains(&low), "{rate:?}");
            assert!(low <= value && value <= high && high <= 1.0, "{rate:?}");
        }
    }

    #[test]
    fn rate_and_difference_serialize_missing_values_as_null() {
        let json = serde_json::to_value(wilson(0, 0)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"successes": 0, "trials": 0, "value": null, "low": null, "high": null})
        );
        let json = serde_json::to_value(two_proportion(0, 0, 1, 2)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"z": null, "p_value": null, "significant": false, "min_sample_ok": false})
        );
    }

    #[test]
    fn two_proportion_matches_hand_computed_values() {
        // p₁ = 0.3, p₂ = 0.5, pooled 0.4, se = sqrt(0.24 × 0.02) = 0.069282,
        // z = -2.88675, p = erfc(2.88675 / √2) = 0.003892.
        let difference = two_proportion(30, 100, 50, 100);
        assert!(close(difference.z.unwrap(), -2.887, 1e-3), "{difference:?}");
        assert!(
            close(difference.p_value.unwrap(), 0.0039, 1e-4),
            "{difference:?}"
        );
        assert!(difference.min_sample_ok);
        assert!(difference.significant);
    }

    #[test]
    fn two_proportion_is_antisymmetric() {
        let ab = two_proportion(30, 100, 50, 100);
        let ba = two_proportion(50, 100, 30, 100);
        assert!(close(ab.z.unwrap(), -ba.z.unwrap(), 1e-12));
        assert!(close(ab.p_value.unwrap(), ba.p_value.unwrap(), 1e-12));
    }

    #[test]
    fn two_proportion_equal_rates_are_not_significant() {
        let difference = two_proportion(20, 100, 40, 200);
        assert!(close(difference.z.unwrap(), 0.0, 1e-12));
        assert!(close(difference.p_value.unwrap(), 1.0, 1e-6));
        assert!(!difference.significant);
    }

    #[test]
    fn two_proportion_small_difference_is_not_significant() {
        // 45 % vs 50 % of 100: z = -0.70799, p = 0.47895.
        let difference = two_proportion(45, 100, 50, 100);
        assert!(
            close(difference.z.unwrap(), -0.7080, 1e-4),
            "{difference:?}"
        );
        assert!(
            close(difference.p_value.unwrap(), 0.4790, 1e-4),
            "{difference:?}"
        );
        assert!(difference.min_sample_ok);
        assert!(!difference.significant);
    }

    #[test]
    fn two_proportion_tiny_samples_are_never_significant() {
        // 4 / 4 against 0 / 4 gives z = 2.83 and p < 0.01, but too few
        // successes and failures for the normal approximation.
        let difference = two_proportion(4, 4, 0, 4);
        assert!(difference.p_value.unwrap() < 0.05, "{difference:?}");
        assert!(!difference.min_sample_ok);
        assert!(!difference.significant);
    }

    #[test]
    fn two_proportion_needs_five_failures_too() {
        let difference = two_proportion(96, 100, 50, 100);
        assert!(!difference.min_sample_ok, "only 4 failures in A");
        assert!(!difference.significant);
        let difference = two_proportion(95, 100, 50, 100);
        assert!(difference.min_sample_ok);
        assert!(difference.significant);
    }

    #[test]
    fn two_proportion_without_trials_or_variation_is_untestable() {
        for (a, na, b, nb) in [
            (0, 0, 5, 10),
            (5, 10, 0, 0),
            (0, 100, 0, 100),
            (100, 100, 50, 50),
            (11, 10, 5, 10),
        ] {
            let difference = two_proportion(a, na, b, nb);
            assert_eq!(difference.z, None, "{a}/{na} vs {b}/{nb}");
            assert_eq!(difference.p_value, None);
            assert!(!difference.significant);
        }
    }

    #[test]
    fn two_proportion_handles_huge_counts() {
        let difference = two_proportion(u64::MAX / 3, u64::MAX, u64::MAX / 2, u64::MAX);
        assert!(difference.z.unwrap() < -1e6);
        assert_eq!(difference.p_value, Some(0.0));
        assert!(difference.significant);
    }

    #[test]
    fn erfc_matches_reference_values() {
        // Reference values of erfc to 10 digits.
        for (x, expected) in [
            (0.0, 1.0),
            (0.5, 0.4795001222),
            (1.0, 0.1572992071),
            (2.0, 0.004677734981),
            (-1.0, 1.842700793),
            (3.0, 0.00002209049700),
        ] {
            let actual = erfc(x);
            assert!(
                ((actual - expected) / expected).abs() < 1.2e-7,
                "erfc({x}) = {actual}"
            );
        }
        assert_eq!(erfc(f64::INFINITY), 0.0);
        assert!(close(two_sided_p_value(1.959964), 0.05, 1e-6));
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let durations = [15, 20, 35, 40, 50];
        // ceil(0.5 × 5) - 1 = 2, ceil(0.9 × 5) - 1 = 4, ceil(0.4 × 5) - 1 = 1.
        assert_eq!(percentile(&durations, 0.5), Some(35));
        assert_eq!(percentile(&durations, 0.9), Some(50));
        assert_eq!(percentile(&durations, 0.4), Some(20));
        assert_eq!(percentile(&durations, 0.3), Some(20));
        assert_eq!(percentile(&durations, 1.0), Some(50));
        assert_eq!(percentile(&durations, 0.0), Some(15));
    }

    #[test]
    fn percentile_of_even_count_takes_lower_middle() {
        let durations = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&durations, 0.5), Some(5));
        assert_eq!(percentile(&durations, 0.9), Some(9));
    }

    #[test]
    fn percentile_is_not_fooled_by_floating_point() {
        // 0.9 × 30 = 27.000000000000004; the rank is 27, not 28.
        let durations: Vec<i64> = (1..=30).collect();
        assert_eq!(percentile(&durations, 0.9), Some(27));
        let durations: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&durations, 0.57), Some(57));
    }

    #[test]
    fn percentile_edge_cases() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[42], 0.5), Some(42));
        assert_eq!(percentile(&[42], 0.9), Some(42));
        assert_eq!(percentile(&[1, 2], f64::NAN), None);
        assert_eq!(percentile(&[1, 2], -1.0), Some(1));
        assert_eq!(percentile(&[1, 2], 7.0), Some(2));
        assert_eq!(percentile(&[1, 2], f64::INFINITY), Some(2));
        assert_eq!(percentile(&[i64::MIN, i64::MAX], 0.9), Some(i64::MAX));
    }

    #[test]
    fn ratio_refuses_undefined_results() {
        assert_eq!(ratio(150.0, 12.0), Some(12.5));
        assert_eq!(ratio(0.0, 5.0), Some(0.0));
        assert_eq!(ratio(-3.0, 2.0), Some(-1.5));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, -0.0), None);
        assert_eq!(ratio(0.0, 0.0), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
        assert_eq!(ratio(1.0, f64::NAN), None);
        assert_eq!(ratio(f64::INFINITY, 1.0), None);
        assert_eq!(ratio(1.0, f64::INFINITY), None);
        assert_eq!(ratio(f64::MAX, 0.5), None, "overflow");
    }
}
