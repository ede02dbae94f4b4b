//! The font under every code and the word wrapping that keeps text whole.
//!
//! DejaVu Sans is embedded (licence in `data/fonts/LICENSE-DejaVu.txt`) so PNGs and PDFs look
//! the same on every server, and so its metrics can be used to decide where lines break. SVG
//! and HTML name the same font and fall back to the viewer's sans-serif.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

use super::QrError;

/// DejaVu Sans 2.37, as shipped in Debian's `fonts-dejavu-core`.
pub(crate) const DEJAVU_SANS: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

/// Line height as a multiple of the font size.
pub(crate) const LINE_HEIGHT: f32 = 1.25;

/// DejaVu Sans' ascent and descent in em (1901 and 483 of 2048 units).
pub(crate) const ASCENT: f32 = 0.928;
const DESCENT: f32 = 0.236;

/// Distance from the top of a line box to its baseline, as a multiple of the font size:
/// half the leading plus the ascent, as CSS places text in a line box.
pub(crate) const BASELINE: f32 = (LINE_HEIGHT - ASCENT - DESCENT) / 2.0 + ASCENT;

/// Measures text set in DejaVu Sans.
pub(crate) struct TextMeasure {
    font: FontRef<'static>,
}

impl TextMeasure {
    pub(crate) fn new() -> TextMeasure {
        TextMeasure {
            font: FontRef::try_from_slice(DEJAVU_SANS).expect("the embedded font parses"),
        }
    }

    /// The parsed font, for drawing with the same metrics that were used to wrap.
    pub(crate) fn font(&self) -> &FontRef<'static> {
        &self.font
    }

    /// The ab_glyph scale for a font size in em: ab_glyph scales by ascent minus descent,
    /// while PDF, SVG and CSS font sizes are the em square.
    pub(crate) fn scale(&self, size: f32) -> PxScale {
        let units_per_em = self.font.units_per_em().unwrap_or(2048.0);
        PxScale::from(size * self.font.height_unscaled() / units_per_em)
    }

    /// Advance width of `text` at font size `size` (pixels or points per em; the unit comes
    /// out as it went in).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let font = self.font.as_scaled(self.scale(size));
        let mut width = 0.0;
        let mut previous = None;
        for character in text.chars() {
            let glyph = font.glyph_id(character);
            if let Some(previous) = previous {
                width += font.kern(previous, glyph);
            }
            width += font.h_advance(glyph);
            previous = Some(glyph);
        }
        width
    }

    /// Refuses text with characters the font has no glyph for, which would print as boxes.
    pub(crate) fn check_glyphs(&self, what: &str, text: &str) -> Result<(), QrError> {
        match text
            .chars()
            .find(|&character| !character.is_whitespace() && self.font.glyph_id(character).0 == 0)
        {
            Some(missing) => Err(QrError::Invalid(format!(
                "{what} contains {missing:?} (U+{:04X}), which the DejaVu Sans font cannot \
                 draw; use Latin, Greek or Cyrillic text",
                u32::from(missing)
            ))),
            None => Ok(()),
        }
    }

    /// Breaks `text` at spaces into lines no wider than `max_width` at `size`, using at most
    /// `max_lines` lines. `None` when that is impossible (a word wider than the line, or too
    /// many lines): the caller decides whether to shrink the text or refuse it.
    pub(crate) fn wrap(
        &self,
        text: &str,
        size: f32,
        max_width: f32,
        max_lines: usize,
    ) -> Option<Vec<String>> {
        let mut lines: Vec<String> = Vec::new();
        for word in text.split_whitespace() {
            if self.width(word, size) > max_width {
                return None;
            }
            match lines.last_mut() {
                Some(line) if self.width(&format!("{line} {word}"), size) <= max_width => {
                    line.push(' ');
                    line.push_str(word);
                }
                _ => lines.push(word.to_owned()),
            }
            if lines.len() > max_lines {
                return None;
            }
        }
        Some(lines)
    }

    /// Wraps `text` at the largest size from `sizes` (tried in order) that fits, so a long
    /// store name gets smaller instead of cut. Refuses with a message naming `what` when even
    /// the last size does not fit. Glyph coverage is checked separately ([`Self::check_glyphs`])
    /// because only outputs that embed the font need it.
    pub(crate) fn fit(
        &self,
        what: &str,
        text: &str,
        sizes: &[f32],
        max_width: f32,
        max_lines: usize,
    ) -> Result<(f32, Vec<String>), QrError> {
        for &size in sizes {
            if let Some(lines) = self.wrap(text, size, max_width, max_lines) {
                return Ok((size, lines));
            }
        }
        let smallest = sizes.last().copied().unwrap_or(1.0);
        let longest_word = text
            .split_whitespace()
            .max_by(|a, b| self.width(a, smallest).total_cmp(&self.width(b, smallest)))
            .unwrap_or_default();
        let reason = if self.width(longest_word, smallest) > max_width {
            format!("the word {longest_word:?} is wider than the space")
        } else {
            format!("it needs more than {max_lines} line(s)")
        };
        Err(QrError::Invalid(format!(
            "{what} {text:?} does not fit: {reason}; shorten it (text is never cut)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_onto_lines_within_the_width() {
        let measure = TextMeasure::new();
        let lines = measure
            .wrap("Scan me to chat with   Store 12", 20.0, 120.0, 3)
            .unwrap();
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), "Scan me to chat with Store 12");
        for line in &lines {
            assert!(measure.width(line, 20.0) <= 120.0, "{line}");
        }
    }

    #[test]
    fn text_that_cannot_fit_is_not_wrapped() {
        let measure = TextMeasure::new();
        assert_eq!(measure.wrap("Supercalifragilistic", 20.0, 60.0, 3), None);
        assert_eq!(measure.wrap("a b c d e f g h", 20.0, 15.0, 3), None);
    }

    #[test]
    fn fitting_shrinks_before_refusing() {
        let measure = TextMeasure::new();
        let (size, lines) = measure
            .fit("title", "Downtown Flagship", &[30.0, 20.0, 10.0], 200.0, 1)
            .unwrap();
        assert!(size < 30.0 && lines.len() == 1, "{size} {lines:?}");
        let error = measure
            .fit("title", "Downtown Flagship", &[10.0], 20.0, 1)
            .unwrap_err();
        assert!(error.to_string().contains("never cut"), "{error}");
    }

    #[test]
    fn the_metric_constants_match_the_font() {
        let font = TextMeasure::new().font;
        let units_per_em = font.units_per_em().unwrap();
        assert!((font.ascent_unscaled() / units_per_em - ASCENT).abs() < 0.001);
        assert!((-font.descent_unscaled() / units_per_em - DESCENT).abs() < 0.001);
    }

    #[test]
    fn characters_without_a_glyph_are_refused() {
        let error = TextMeasure::new()
            .check_glyphs("caption", "店 12")
            .unwrap_err();
        assert!(error.to_string().contains("U+5E97"), "{error}");
    }
}
