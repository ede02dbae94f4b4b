//! Money: exact amounts in micro-units of a currency, parsed from decimal text.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize, Serializer};

/// An amount of money in micro-units of its currency (1.50 = 1_500_000), exact under sums on
/// both databases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    const SCALE: i64 = 1_000_000;

    /// From stored micro-units.
    pub fn from_micros(micros: i64) -> Self {
        Money(micros)
    }

    /// The stored micro-units.
    pub fn micros(self) -> i64 {
        self.0
    }
}

impl FromStr for Money {
    type Err = String;

    /// Parses `12`, `12.5` or `12.345678`; refuses negatives, exponents and more than six
    /// decimals rather than rounding silently.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not an amount like 12.50");
        let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac_micros: i64 = format!("{frac:0<6}").parse().map_err(|_| bad())?;
        whole
            .checked_mul(Self::SCALE)
            .and_then(|w| w.checked_add(frac_micros))
            .map(Money)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Self::SCALE;
        let frac = self.0 % Self::SCALE;
        let frac = format!("{frac:06}");
        let trimmed = frac.trim_end_matches('0');
        if trimmed.len() <= 2 {
            write!(f, "{whole}.{trimmed:0<2}")
        } else {
            write!(f, "{whole}.{trimmed}")
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A decimal amount as JSON allows it: a string or a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AmountInput {
    Text(String),
    Number(serde_json::Number),
}

/// Significant digits a JSON number may carry: every decimal of up to 15 significant digits
/// survives the binary floating point JSON numbers are read into, longer ones may not.
pub const MAX_NUMBER_DIGITS: usize = 15;

impl AmountInput {
    /// The amount as [`Money`]. Strings are exact whatever their length; JSON numbers are
    /// accepted up to [`MAX_NUMBER_DIGITS`] significant digits and refused beyond, rather
    /// than silently rounded (`1234567890123.456789` must be sent as a string).
    pub fn parse(&self) -> Result<Money, String> {
        match self {
            AmountInput::Text(s) => s.parse(),
            AmountInput::Number(n) => {
                let text = n.to_string();
                let digits = text
                    .trim_start_matches(['-', '0', '.'])
                    .chars()
                    .filter(char::is_ascii_digit)
                    .count();
                if digits > MAX_NUMBER_DIGITS || text.contains(['e', 'E']) {
                    return Err(format!(
                        "{text} has more than {MAX_NUMBER_DIGITS} significant digits as a JSON number; \
                         send it as a string, e.g. \"1234567890123.456789\""
                    ));
                }
                text.parse()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_are_exact_or_refused_never_rounded() {
        let number = |text: &str| AmountInput::Number(serde_json::from_str(text).unwrap());
        assert_eq!(number("12.5").parse().unwrap().to_string(), "12.50");
        assert_eq!(
            number("123456789012.345").parse().unwrap().micros(),
            123_456_789_012_345_000
        );
        let err = number("1234567890123.456789").parse().unwrap_err();
        assert!(err.contains("as a string"), "{err}");
        let exact = AmountInput::Text("1234567890123.456789".into())
            .parse()
            .unwrap();
        assert_eq!(exact.to_string(), "1234567890123.456789");
    }

    #[test]
    fn money_parses_and_prints_exactly() {
        for (text, micros, shown) in [
            ("12", 12_000_000, "12.00"),
            ("12.5", 12_500_000, "12.50"),
            ("0.000001", 1, "0.000001"),
            ("1999.99", 1_999_990_000, "1999.99"),
        ] {
            let m: Money = text.parse().unwrap();
            assert_eq!(m.micros(), micros);
            assert_eq!(m.to_string(), shown);
        }
        for bad in ["", "-1", "1e3", "1.2345678", "1,50", "abc", ".5"] {
            assert!(bad.parse::<Money>().is_err(), "{bad}");
        }
    }
}
