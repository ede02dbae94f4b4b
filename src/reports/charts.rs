//! Charts for the funnel report, drawn with plotters.
//!
//! Three charts compare direct-to-chat campaigns with landing-page campaigns:
//!
//! - [`funnel`]: grouped columns, one group per funnel step (clicks, page
//!   views, leads, …), one column per campaign kind, each labelled with its
//!   count; a step that does not apply to a kind reads "n/a".
//! - [`over_time`]: one line per kind over days (cost per lead, …); a day
//!   without a value is a gap in the line, not a zero.
//! - [`bars`]: counts per category (store, country, …) and kind, largest
//!   first; columns for a few short categories, horizontal bars otherwise, at
//!   most 15 rows (the smallest folded into "Other").
//!
//! Each chart is laid out once, in CSS pixels on an [`WIDTH`]-wide page, and
//! drawn twice from that layout: as an SVG string meant to be inlined in HTML
//! (no XML declaration, `width="100%"` with a `viewBox`, so it scales down on
//! phones) and as PNG bytes at [`PNG_SCALE`] times the size, sharp enough
//! for print and PDF.
//!
//! Text in the PNG is drawn with DejaVu Sans, the font the project ships in
//! `data/fonts`, embedded in the binary and registered with plotters as
//! `sans-serif`. plotters 0.3.7 places `ab_glyph` glyphs without their left
//! side bearing, which spaces letters unevenly ("d ata"), so PNG text is
//! rasterised here with `ab_glyph` from the same embedded font instead. SVG
//! text names the `sans-serif` family and is drawn by the viewer with its own
//! sans-serif font. Layout measures text with DejaVu Sans, which is wider
//! than most system sans-serif fonts, so labels that fit in the PNG fit in
//! the SVG too.
//!
//! Labels come from users: plotters' SVG backend escapes text (`<script>`
//! becomes `&lt;script&gt;`), control characters, which XML forbids, are
//! replaced before drawing, and labels too wide for their place are cut
//! with an ellipsis.
//!
//! The two campaign kinds always have the same colours ([`SeriesColor`]),
//! chosen to stay distinct for colour-blind readers. Empty data gives a
//! chart reading "No data in this range", and no input (NaN, infinities,
//! huge counts, empty or one-point series) makes these functions panic.

use super::format::{group_thousands, month_abbreviation};
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, Glyph, GlyphId, PxScale, ScaleFont, point};
use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::{
    BitMapBackend, Circle, DrawingArea, DrawingAreaErrorKind, DrawingBackend, IntoDrawingArea,
    PathElement, Rectangle, SVGBackend,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{
    Color, FontDesc, FontFamily, FontStyle, FontTransform, RGBColor, ShapeStyle, WHITE,
    register_font,
};
use time::{Date, Month};

/// Width of every chart in CSS pixels: the SVG's `viewBox` width.
pub const WIDTH: u32 = 800;
/// Height of every chart in CSS pixels, except horizontal bar charts, which
/// grow to give each category a readable row.
pub const HEIGHT: u32 = 400;
/// The PNG has this many device pixels per CSS pixel (1600 × 800 for an
/// 800 × 400 chart).
pub const PNG_SCALE: u32 = 2;

/// Most series drawn in one chart; more would not be readable, and the rest
/// are left out.
const MAX_SERIES: usize = 8;
/// Most funnel steps drawn; the rest are left out.
const MAX_STEPS: usize = 12;
/// Most rows of a bar chart, "Other" included.
const MAX_CATEGORIES: usize = 15;
/// Most categories drawn as columns rather than horizontal bars.
const MAX_COLUMN_CATEGORIES: usize = 6;
/// Most characters of a label considered for drawing.
const MAX_LABEL_CHARS: usize = 200;
/// Plotted values are clamped to ±this, so that axis arithmetic stays finite.
const MAX_MAGNITUDE: f64 = 1e300;

/// Message of the chart drawn for empty data.
const NO_DATA_MESSAGE: &str = "No data in this range";

// ---------------------------------------------------------------------------
// Input and output
// ---------------------------------------------------------------------------

/// The fixed colour of a series.
///
/// The two campaign kinds always get the same colours, on every chart, so a
/// reader learns them once: teal for direct to chat, orange for landing
/// pages. Both contrast with white and stay apart for the common kinds of
/// colour blindness. Other series take Okabe–Ito colours in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesColor {
    /// Teal, `#1b7f5f`.
    DirectToChat,
    /// Orange, `#c2571a`.
    LandingPage,
    /// The n-th extra colour: blue, reddish purple, sky blue, grey, then
    /// again from blue.
    Extra(usize),
}

impl SeriesColor {
    /// The colour as CSS hex, `#rrggbb`, for HTML that sits next to a chart
    /// (a table's swatches, say).
    pub fn css(self) -> String {
        let RGBColor(red, green, blue) = self.rgb();
        format!("#{red:02x}{green:02x}{blue:02x}")
    }

    fn rgb(self) -> RGBColor {
        const EXTRA: [RGBColor; 4] = [
            RGBColor(0x00, 0x72, 0xb2),
            RGBColor(0xcc, 0x79, 0xa7),
            RGBColor(0x56, 0xb4, 0xe9),
            RGBColor(0x66, 0x66, 0x66),
        ];
        match self {
            SeriesColor::DirectToChat => RGBColor(0x1b, 0x7f, 0x5f),
            SeriesColor::LandingPage => RGBColor(0xc2, 0x57, 0x1a),
            SeriesColor::Extra(index) => EXTRA[index % EXTRA.len()],
        }
    }
}

/// A funnel: counts per step for each campaign kind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunnelChart {
    /// Title drawn at the top.
    pub title: String,
    /// Step names in funnel order, e.g. "Clicks", "Page views", "Leads",
    /// "Qualified", "Purchases". At most 12 are drawn.
    pub steps: Vec<String>,
    /// One series per campaign kind.
    pub series: Vec<FunnelSeries>,
}

/// One campaign kind's counts in a [`FunnelChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelSeries {
    /// Legend label, e.g. "Direct to chat".
    pub label: String,
    /// Colour of the series.
    pub color: SeriesColor,
    /// One count per step, in step order. `None` means the step does not
    /// apply to this kind (page views for direct to chat) and reads "n/a";
    /// missing trailing entries count as `None`, extra ones are ignored.
    pub counts: Vec<Option<u64>>,
}

/// Daily values per campaign kind, such as cost per lead.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeChart {
    /// Title drawn at the top.
    pub title: String,
    /// Label of the value axis, e.g. "Cost per lead (USD)".
    pub y_label: String,
    /// One series per campaign kind.
    pub series: Vec<TimeSeries>,
}

/// One campaign kind's values in a [`TimeChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    /// Legend label, e.g. "Landing page".
    pub label: String,
    /// Colour of the series.
    pub color: SeriesColor,
    /// Values by day, in any order. `None` (and NaN or an infinity) means no
    /// value that day: the line has a gap there rather than dropping to zero.
    /// A day that is simply absent does not break the line.
    pub points: Vec<(Date, Option<f64>)>,
}

/// Counts per category (store, country, …) and campaign kind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    /// Title drawn at the top.
    pub title: String,
    /// Label of the value axis, e.g. "Leads".
    pub value_label: String,
    /// The series, one per campaign kind, in legend order.
    pub series: Vec<BarSeries>,
    /// The categories, in any order: they are drawn largest total first. With
    /// more than 15, the 14 largest are drawn and the rest summed into an
    /// "Other" row.
    pub categories: Vec<BarCategory>,
}

/// The legend entry of one series of a [`BarChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    /// Legend label, e.g. "Direct to chat".
    pub label: String,
    /// Colour of the series.
    pub color: SeriesColor,
}

/// One category of a [`BarChart`] with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct BarCategory {
    /// Category name, e.g. a store or a country.
    pub label: String,
    /// One value per series, in the order of [`BarChart::series`]; missing
    /// entries count as 0, extra ones are ignored.
    pub values: Vec<u64>,
}

/// A chart drawn both ways.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// SVG for inline HTML: no XML declaration, `width="100%"`, a `viewBox`
    /// of `0 0 width height`, and `role="img"` with the title as `aria-label`.
    pub svg: String,
    /// PNG of `width × PNG_SCALE` by `height × PNG_SCALE` pixels.
    pub png: Vec<u8>,
    /// Width in CSS pixels: always [`WIDTH`].
    pub width: u32,
    /// Height in CSS pixels: [`HEIGHT`], or more for a horizontal bar chart
    /// with many rows.
    pub height: u32,
}

/// Why a chart could not be drawn.
#[derive(thiserror::Error, Debug)]
pub enum ChartError {
    /// The embedded font file could not be parsed.
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// plotters failed while drawing.
    #[error("drawing the {output} chart failed: {message}")]
    Draw {
        /// "SVG" or "PNG".
        output: &'static str,
        /// plotters' description of the failure.
        message: String,
    },
    /// The drawn bitmap could not be encoded as PNG.
    #[error("encoding the chart as PNG failed: {0}")]
    Png(#[from] image::ImageError),
}

/// Draws a funnel: for each step, one column per series with its count on
/// top, or "n/a" where the step does not apply.
///
/// Draws "No data in this range" when there are no steps, no series, or no
/// count above zero.
pub fn funnel(chart: &FunnelChart) -> Result<Rendered, ChartError> {
    ensure_font()?;
    let series: Vec<LegendItem> = chart
        .series
        .iter()
        .take(MAX_SERIES)
        .map(|series| LegendItem::new(&series.label, series.color))
        .collect();
    let steps: Vec<&str> = chart
        .steps
        .iter()
        .take(MAX_STEPS)
        .map(String::as_str)
        .collect();
    let values: Vec<Vec<Option<u64>>> = (0..steps.len())
        .map(|step| {
            chart
                .series
                .iter()
                .take(MAX_SERIES)
                .map(|series| series.counts.get(step).copied().flatten())
                .collect()
        })
        .collect();
    let has_data = values
        .iter()
        .flatten()
        .any(|value| value.is_some_and(|count| count > 0));
    if !has_data {
        return render(&NoData::new(&chart.title));
    }
    render(&Columns::new(&chart.title, &series, &steps, values, ""))
}

/// Draws one line per series over days, with gaps where a day has no value.
///
/// Draws "No data in this range" when no series has a finite value.
pub fn over_time(chart: &TimeChart) -> Result<Rendered, ChartError> {
    ensure_font()?;
    let series: Vec<DailySeries> = chart
        .series
        .iter()
        .take(MAX_SERIES)
        .map(DailySeries::new)
        .collect();
    if series.iter().all(|series| series.is_empty()) {
        return render(&NoData::new(&chart.title));
    }
    render(&Lines::new(&chart.title, &chart.y_label, series))
}

/// Draws counts per category and series, largest total first: as columns
/// when there are at most 6 categories whose names fit under them, as
/// horizontal bars otherwise.
///
/// Draws "No data in this range" when there are no categories, no series, or
/// no value above zero.
pub fn bars(chart: &BarChart) -> Result<Rendered, ChartError> {
    ensure_font()?;
    let series: Vec<LegendItem> = chart
        .series
        .iter()
        .take(MAX_SERIES)
        .map(|series| LegendItem::new(&series.label, series.color))
        .collect();
    let rows = ranked_categories(&chart.categories, series.len());
    let has_data = rows
        .iter()
        .any(|(_, values)| values.iter().any(|&value| value > 0));
    if series.is_empty() || !has_data {
        return render(&NoData::new(&chart.title));
    }
    let labels: Vec<&str> = rows.iter().map(|(label, _)| label.as_str()).collect();
    // Each category's slot under columns, estimated before layout: the width
    // less the margins and about 90 px of value axis.
    let slot_estimate = (f64::from(WIDTH) - 2.0 * PAD - 90.0) / labels.len() as f64;
    let fits_as_columns = labels.len() <= MAX_COLUMN_CATEGORIES
        && labels
            .iter()
            .all(|label| text_width(&clean_text(label), TICK_EM) <= slot_estimate - 12.0);
    if fits_as_columns {
        let values = rows
            .iter()
            .map(|(_, values)| values.iter().map(|&value| Some(value)).collect())
            .collect();
        render(&Columns::new(
            &chart.title,
            &series,
            &labels,
            values,
            &chart.value_label,
        ))
    } else {
        let values = rows.iter().map(|(_, values)| values.clone()).collect();
        render(&HorizontalBars::new(
            &chart.title,
            &series,
            &labels,
            values,
            &chart.value_label,
        ))
    }
}

/// Categories with one value per series, sorted by total (largest first,
/// ties in input order), the tail folded into "Other (N more)".
fn ranked_categories(categories: &[BarCategory], series_count: usize) -> Vec<(String, Vec<u64>)> {
    let total = |values: &[u64]| values.iter().map(|&value| u128::from(value)).sum::<u128>();
    let mut rows: Vec<(String, Vec<u64>)> = categories
        .iter()
        .map(|category| {
            let values = (0..series_count)
                .map(|index| category.values.get(index).copied().unwrap_or(0))
                .collect();
            (category.label.clone(), values)
        })
        .collect();
    rows.sort_by_cached_key(|(_, values)| std::cmp::Reverse(total(values)));
    if rows.len() > MAX_CATEGORIES {
        let rest = rows.split_off(MAX_CATEGORIES - 1);
        let mut other = vec![0u64; series_count];
        for (_, values) in &rest {
            for (sum, value) in other.iter_mut().zip(values) {
                *sum = sum.saturating_add(*value);
            }
        }
        rows.push((format!("Other ({} more)", rest.len()), other));
    }
    rows
}

// ---------------------------------------------------------------------------
// Look
// ---------------------------------------------------------------------------

/// Margin around the chart.
const PAD: f64 = 16.0;
/// Font sizes in CSS pixels (em). 14 px is the smallest, readable on a phone
/// showing the chart 800 px wide.
const TITLE_EM: f64 = 20.0;
const LEGEND_EM: f64 = 15.0;
const TICK_EM: f64 = 14.0;
const AXIS_LABEL_EM: f64 = 15.0;
const VALUE_EM: f64 = 14.0;
const MESSAGE_EM: f64 = 18.0;

const TEXT_COLOR: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED_COLOR: RGBColor = RGBColor(0x5f, 0x5f, 0x5f);
const GRID_COLOR: RGBColor = RGBColor(0xe2, 0xe2, 0xe2);
const AXIS_COLOR: RGBColor = RGBColor(0x8a, 0x8a, 0x8a);
const PANEL_COLOR: RGBColor = RGBColor(0xf4, 0xf4, 0xf4);

/// Room a line of text takes above and below its baseline, per em of font
/// size: capitals and digits with a little air (DejaVu Sans' capitals are
/// 0.729 em high), and descenders.
const ASCENT: f64 = 0.76;
const DESCENT: f64 = 0.24;
/// Height of DejaVu Sans' capitals and digits, per em: text is centred on a
/// point by centring them.
const CAP_HEIGHT: f64 = 0.729;

// ---------------------------------------------------------------------------
// Font
// ---------------------------------------------------------------------------

/// The font the project ships, embedded so that PNG text never depends on the
/// fonts installed where the report runs.
const FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/fonts/DejaVuSans.ttf"
));

/// Registers the embedded font with plotters, once per process, and parses
/// it for [`text_width`] and PNG text.
///
/// Only the normal style is registered and used: plotters falls back to it
/// for any other style of the family.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        register_font(
            FontFamily::SansSerif.as_str(),
            FontStyle::Normal,
            FONT_BYTES,
        )
        .is_ok()
    });
    if registered && dejavu().is_some() {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// The embedded DejaVu Sans, parsed once.
fn dejavu() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
}

/// A line of text set in DejaVu Sans at `em` pixels: its glyphs, placed
/// along a baseline at y = 0 from x = 0, and its advance width. Empty if the
/// font failed to load.
fn set_line(text: &str, em: f64) -> (Vec<Glyph>, f64) {
    let Some(font) = dejavu() else {
        return (Vec::new(), 0.0);
    };
    // ab_glyph's scale is the height from descender to ascender.
    let per_em = font
        .units_per_em()
        .map_or(1.0, |units| font.height_unscaled() / units);
    let font = font.as_scaled(PxScale::from(em as f32 * per_em));
    let mut glyphs = Vec::new();
    let mut x = 0.0f32;
    let mut previous: Option<GlyphId> = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(previous) = previous {
            x += font.kern(previous, id);
        }
        glyphs.push(id.with_scale_and_position(font.scale(), point(x, 0.0)));
        x += font.h_advance(id);
        previous = Some(id);
    }
    (glyphs, f64::from(x))
}

/// Width in CSS pixels of `text` set in DejaVu Sans at `em` pixels.
fn text_width(text: &str, em: f64) -> f64 {
    set_line(text, em).1
}

/// `text` without control characters (which XML forbids and fonts cannot
/// draw), on one line, trimmed, and at most [`MAX_LABEL_CHARS`] characters.
fn clean_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .take(MAX_LABEL_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.trim().to_owned()
}

/// `text`, cleaned, cut short with an ellipsis if it is wider than
/// `max_width` at `em` pixels.
fn fit_text(text: &str, em: f64, max_width: f64) -> String {
    let text = clean_text(text);
    if text_width(&text, em) <= max_width {
        return text;
    }
    let chars: Vec<char> = text.chars().collect();
    let shortened = |count: usize| {
        let mut prefix: String = chars[..count].iter().collect();
        prefix.truncate(prefix.trim_end().len());
        prefix.push('…');
        prefix
    };
    // Binary search for the longest prefix that fits with its ellipsis.
    let (mut fits, mut too_long) = (0, chars.len());
    while too_long - fits > 1 {
        let middle = (fits + too_long) / 2;
        if text_width(&shortened(middle), em) <= max_width {
            fits = middle;
        } else {
            too_long = middle;
        }
    }
    if fits == 0 {
        String::new()
    } else {
        shortened(fits)
    }
}

// ---------------------------------------------------------------------------
// Numbers and dates
// ---------------------------------------------------------------------------

/// A count with thousands separators: `12,345`.
fn format_count(value: u64) -> String {
    group_thousands(&value.to_string())
}

/// `value` with `decimals` decimals and thousands separators (`-1,234.50`),
/// or in scientific notation from 10¹⁵ up.
fn format_number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return String::new();
    }
    if value.abs() >= 1e15 {
        return format!("{value:.1e}");
    }
    let digits = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    let mut text = group_thousands(whole);
    if !fraction.is_empty() {
        text.push('.');
        text.push_str(fraction);
    }
    let is_zero = digits.bytes().all(|byte| byte == b'0' || byte == b'.');
    if value < 0.0 && !is_zero {
        text.insert(0, '-');
    }
    text
}

/// A count in few characters: `950`, `12.3k`, `4.5M`, `1.2B`.
fn format_compact(value: u64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")];
    let number = value as f64;
    if number >= 1e15 {
        return format!("{number:.1e}");
    }
    for (index, (unit, suffix)) in UNITS.iter().enumerate() {
        if number >= *unit {
            let scaled = number / unit;
            // 999,960 would print as "1000.0k": say "1M" instead.
            if scaled >= 999.95 && index > 0 {
                let (bigger, bigger_suffix) = UNITS[index - 1];
                return format!("{}{bigger_suffix}", trim_decimal(number / bigger, 1));
            }
            let decimals = usize::from(scaled < 100.0);
            return format!("{}{suffix}", trim_decimal(scaled, decimals));
        }
    }
    format_count(value)
}

/// `value` with at most `decimals` decimals, without a trailing `.0`.
fn trim_decimal(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    match text.strip_suffix(".0") {
        Some(trimmed) => trimmed.to_owned(),
        None => text,
    }
}

// ---------------------------------------------------------------------------
// Axes
// ---------------------------------------------------------------------------

/// A linear value axis with round tick values (1, 2, 2.5 or 5 × 10ⁿ apart).
#[derive(Debug, Clone, PartialEq)]
struct ValueAxis {
    low: f64,
    high: f64,
    ticks: Vec<f64>,
    decimals: usize,
}

impl ValueAxis {
    /// An axis covering `min..=max` with about `target_ticks` intervals;
    /// `whole_numbers` keeps ticks on integers (for counts).
    fn new(min: f64, max: f64, target_ticks: usize, whole_numbers: bool) -> ValueAxis {
        let fallback = ValueAxis {
            low: 0.0,
            high: 1.0,
            ticks: vec![0.0, 1.0],
            decimals: 0,
        };
        let clamp = |value: f64| {
            if value.is_finite() {
                value.clamp(-MAX_MAGNITUDE, MAX_MAGNITUDE)
            } else {
                0.0
            }
        };
        let (min, mut max) = (clamp(min.min(max)), clamp(max.max(min)));
        if max <= min {
            max = min + min.abs().max(1.0);
        }
        let raw_step = (max - min) / target_ticks.max(1) as f64;
        if !(raw_step.is_finite() && raw_step > 0.0) {
            return fallback;
        }
        let magnitude = 10f64.powf(raw_step.log10().floor());
        let normalized = raw_step / magnitude;
        let (nice, extra_decimal) = match normalized {
            n if n <= 1.0 => (1.0, 0),
            n if n <= 2.0 => (2.0, 0),
            n if n <= 2.5 => (2.5, 1),
            n if n <= 5.0 => (5.0, 0),
            _ => (10.0, 0),
        };
        let mut step = nice * magnitude;
        if whole_numbers && step < 1.0 {
            step = 1.0;
        }
        let low = (min / step).floor() * step;
        let high = (max / step).ceil() * step;
        let intervals = ((high - low) / step).round();
        if !(low.is_finite() && high.is_finite() && high > low && intervals.is_finite()) {
            return fallback;
        }
        let ticks = (0..=(intervals as usize).min(100))
            .map(|index| {
                let tick = low + index as f64 * step;
                // Avoid "-0" and 0.30000000000000004.
                if tick.abs() < step * 1e-9 { 0.0 } else { tick }
            })
            .collect();
        let decimals = if step >= 1.0 {
            0
        } else {
            let digits = -magnitude.log10().round();
            (digits.clamp(0.0, 6.0) as usize + extra_decimal).min(6)
        };
        ValueAxis {
            low,
            high,
            ticks,
            decimals,
        }
    }

    /// The axis whose tick labels, `label_gap` apart at least, fit along
    /// `length` pixels: the most ticks that fit, up to `max_ticks`.
    fn fitting(max: f64, length: f64, max_ticks: usize, label_gap: f64) -> ValueAxis {
        let mut axis = ValueAxis::new(0.0, max, 1, true);
        for target in (1..=max_ticks).rev() {
            let candidate = ValueAxis::new(0.0, max, target, true);
            let widest = candidate
                .ticks
                .iter()
                .map(|&tick| text_width(&candidate.label(tick), TICK_EM))
                .fold(0.0, f64::max);
            let spacing = length / (candidate.ticks.len().max(2) - 1) as f64;
            if widest + label_gap <= spacing {
                axis = candidate;
                break;
            }
        }
        axis
    }

    fn label(&self, value: f64) -> String {
        format_number(value, self.decimals)
    }

    /// Position of `value` between `start` (at `low`) and `end` (at `high`),
    /// clamped to the axis.
    fn position(&self, value: f64, start: f64, end: f64) -> f64 {
        let value = if value.is_nan() {
            self.low
        } else {
            value.clamp(self.low, self.high)
        };
        start + (value - self.low) / (self.high - self.low) * (end - start)
    }

    fn widest_label(&self) -> f64 {
        self.ticks
            .iter()
            .map(|&tick| text_width(&self.label(tick), TICK_EM))
            .fold(0.0, f64::max)
    }
}

/// A day axis: days as Julian day numbers, each day a slot of equal width,
/// ticks on days or on the first of months, labelled so that they do not
/// collide.
#[derive(Debug, Clone, PartialEq)]
struct DayAxis {
    first: i32,
    last: i32,
    ticks: Vec<(i32, String)>,
}

impl DayAxis {
    fn new(first: i32, last: i32, length: f64) -> DayAxis {
        let (first, last) = (first.min(last), last.max(first));
        let mut axis = DayAxis {
            first,
            last,
            ticks: Vec::new(),
        };
        let day_label = |day: i32| {
            Date::from_julian_day(day)
                .map(|date| format!("{} {}", month_abbreviation(date.month()), date.day()))
                .unwrap_or_default()
        };
        if first == last {
            axis.ticks = vec![(first, day_label(first))];
            return axis;
        }
        let span = i64::from(last) - i64::from(first);
        let min_gap = 16.0;
        for step in [1, 2, 3, 7, 14] {
            if span / step + 1 > 40 {
                continue;
            }
            let ticks: Vec<(i32, String)> = (0..=span / step)
                .map(|index| {
                    let day = first + (index * step) as i32;
                    (day, day_label(day))
                })
                .collect();
            if axis.labels_fit(&ticks, length, min_gap) {
                axis.ticks = ticks;
                return axis;
            }
        }
        for months in [
            1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200, 2400, 6000, 12000, 24000,
        ] {
            let ticks = month_ticks(first, last, months);
            if ticks.is_empty() || ticks.len() > 40 {
                continue;
            }
            if axis.labels_fit(&ticks, length, min_gap) {
                axis.ticks = ticks;
                return axis;
            }
        }
        axis.ticks = vec![(first, day_label(first))];
        axis
    }

    fn labels_fit(&self, ticks: &[(i32, String)], length: f64, min_gap: f64) -> bool {
        let positions: Vec<(f64, f64)> = ticks
            .iter()
            .map(|(day, label)| (self.position(*day, 0.0, length), text_width(label, TICK_EM)))
            .collect();
        positions.windows(2).all(|pair| {
            let ((left, left_width), (right, right_width)) = (pair[0], pair[1]);
            right - left >= (left_width + right_width) / 2.0 + min_gap
        })
    }

    /// Centre of the slot of `day` between `start` and `end`.
    fn position(&self, day: i32, start: f64, end: f64) -> f64 {
        let days = f64::from(self.last) - f64::from(self.first) + 1.0;
        let offset = f64::from(day) - f64::from(self.first) + 0.5;
        start + offset / days * (end - start)
    }
}

/// Ticks on the first day of every `months`-th month within `first..=last`,
/// labelled "Mar 2025".
fn month_ticks(first: i32, last: i32, months: i64) -> Vec<(i32, String)> {
    let (Ok(start), Ok(end)) = (Date::from_julian_day(first), Date::from_julian_day(last)) else {
        return Vec::new();
    };
    let month_index =
        |date: Date| i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1;
    let (start_index, end_index) = (month_index(start), month_index(end));
    if (end_index - start_index) / months > 40 {
        return Vec::new();
    }
    // The first month that starts within the range, rounded up to a multiple
    // of `months` so that ticks fall on round months (quarters on January,
    // April, July and October).
    let first_month = if start.day() == 1 {
        start_index
    } else {
        start_index + 1
    };
    let mut index = (first_month + months - 1).div_euclid(months) * months;
    let mut ticks = Vec::new();
    while index <= end_index {
        let year = index.div_euclid(12) as i32;
        let month = Month::try_from((index.rem_euclid(12) + 1) as u8);
        if let Ok(date) = month.and_then(|month| Date::from_calendar_date(year, month, 1)) {
            let day = date.to_julian_day();
            if (first..=last).contains(&day) {
                ticks.push((
                    day,
                    format!("{} {}", month_abbreviation(date.month()), date.year()),
                ));
            }
        }
        index += months;
    }
    ticks
}

// ---------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// How layout pixels become device pixels, and text becomes drawing, for one
/// backend.
#[derive(Debug, Clone, Copy)]
struct Output {
    name: &'static str,
    /// Device pixels per CSS pixel.
    zoom: f64,
    /// Whether text is drawn as SVG `<text>` elements or rasterised.
    text: TextOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextOutput {
    /// plotters' SVG `<text>`, left for the viewer to lay out.
    SvgElements,
    /// Glyph coverage drawn pixel by pixel.
    Rasterised,
}

const SVG_OUTPUT: Output = Output {
    name: "SVG",
    zoom: 1.0,
    text: TextOutput::SvgElements,
};

const PNG_OUTPUT: Output = Output {
    name: "PNG",
    zoom: PNG_SCALE as f64,
    text: TextOutput::Rasterised,
};

/// plotters' SVG backend writes `font-size` as the font size / 1.24.
const SVG_SIZE_PER_EM: f64 = 1.24;
/// plotters' SVG backend shifts top-anchored text down by `dy="0.76em"`: the
/// baseline is this many em below the anchor.
const SVG_BASELINE_BELOW_TOP: f64 = 0.76;

/// Horizontal alignment of text on its anchor.
#[derive(Debug, Clone, Copy)]
enum Align {
    Start,
    Middle,
    End,
}

/// A drawing area addressed in CSS pixels, whatever the backend's scale.
struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    output: Output,
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    fn device(&self, value: f64) -> i32 {
        // `as` saturates, and NaN becomes 0: never a panic.
        (value * self.output.zoom).round() as i32
    }

    fn point(&self, x: f64, y: f64) -> (i32, i32) {
        (self.device(x), self.device(y))
    }

    fn fill_rect(&self, x0: f64, y0: f64, x1: f64, y1: f64, color: RGBColor) -> DrawResult<DB> {
        let corners = [
            self.point(x0.min(x1), y0.min(y1)),
            self.point(x0.max(x1), y0.max(y1)),
        ];
        self.area.draw(&Rectangle::new(corners, color.filled()))
    }

    fn line(&self, points: &[(f64, f64)], color: RGBColor, width: f64) -> DrawResult<DB> {
        let style = ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: (width * self.output.zoom).round().max(1.0) as u32,
        };
        let points: Vec<(i32, i32)> = points.iter().map(|&(x, y)| self.point(x, y)).collect();
        self.area.draw(&PathElement::new(points, style))
    }

    fn dot(&self, x: f64, y: f64, radius: f64, color: RGBColor) -> DrawResult<DB> {
        let radius = (radius * self.output.zoom).round().max(1.0) as u32;
        self.area
            .draw(&Circle::new(self.point(x, y), radius, color.filled()))
    }

    /// Draws one line of text with its baseline at `baseline`.
    fn text(
        &self,
        text: &str,
        x: f64,
        baseline: f64,
        em: f64,
        color: RGBColor,
        align: Align,
    ) -> DrawResult<DB> {
        self.draw_line_of_text(text, (x, baseline), em, color, align, false)
    }

    /// Draws one line of text with its vertical centre on `y`.
    fn text_centered_on(
        &self,
        text: &str,
        x: f64,
        y: f64,
        em: f64,
        color: RGBColor,
        align: Align,
    ) -> DrawResult<DB> {
        self.text(text, x, y + CAP_HEIGHT * em / 2.0, em, color, align)
    }

    /// Draws text reading bottom to top, centred on `y`, its baseline at
    /// `baseline_x`.
    fn vertical_text(
        &self,
        text: &str,
        baseline_x: f64,
        y: f64,
        em: f64,
        color: RGBColor,
    ) -> DrawResult<DB> {
        self.draw_line_of_text(text, (baseline_x, y), em, color, Align::Middle, true)
    }

    /// Draws `text` from `origin`, a point on its baseline, turned a quarter
    /// anticlockwise if `vertical`.
    fn draw_line_of_text(
        &self,
        text: &str,
        origin: (f64, f64),
        em: f64,
        color: RGBColor,
        align: Align,
        vertical: bool,
    ) -> DrawResult<DB> {
        if text.is_empty() {
            return Ok(());
        }
        match self.output.text {
            TextOutput::SvgElements => self.svg_text(text, origin, em, color, align, vertical),
            TextOutput::Rasterised => {
                self.rasterised_text(text, origin, em, color, align, vertical)
            }
        }
    }

    fn svg_text(
        &self,
        text: &str,
        (x, y): (f64, f64),
        em: f64,
        color: RGBColor,
        align: Align,
        vertical: bool,
    ) -> DrawResult<DB> {
        let h_pos = match align {
            Align::Start => HPos::Left,
            Align::Middle => HPos::Center,
            Align::End => HPos::Right,
        };
        let mut style = FontDesc::new(
            FontFamily::SansSerif,
            svg_font_size(em * self.output.zoom),
            FontStyle::Normal,
        )
        .color(&color)
        .pos(Pos::new(h_pos, VPos::Top));
        // The anchor is `dy` above the baseline, along the text's "down":
        // turned a quarter anticlockwise, "down" points right.
        let shift = SVG_BASELINE_BELOW_TOP * em;
        let anchor = if vertical {
            style = style.transform(FontTransform::Rotate270);
            (x - shift, y)
        } else {
            (x, y - shift)
        };
        self.area
            .draw_text(text, &style, self.point(anchor.0, anchor.1))
    }

    fn rasterised_text(
        &self,
        text: &str,
        (x, y): (f64, f64),
        em: f64,
        color: RGBColor,
        align: Align,
        vertical: bool,
    ) -> DrawResult<DB> {
        let Some(font) = dejavu() else {
            return Ok(());
        };
        let zoom = self.output.zoom;
        let (glyphs, width) = set_line(text, em * zoom);
        let start = match align {
            Align::Start => 0.0,
            Align::Middle => -width / 2.0,
            Align::End => -width,
        } as f32;
        let (origin_x, origin_y) = ((x * zoom) as f32, (y * zoom) as f32);
        let mut coverage = Vec::new();
        for glyph in glyphs {
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            outline.draw(|column, row, alpha| {
                if alpha <= 0.0 {
                    return;
                }
                // Pixel centre relative to the start of the baseline.
                let along = start + bounds.min.x + column as f32 + 0.5;
                let below = bounds.min.y + row as f32 + 0.5;
                let (px, py) = if vertical {
                    (origin_x + below, origin_y - along)
                } else {
                    (origin_x + along, origin_y + below)
                };
                coverage.push(((px.floor() as i32, py.floor() as i32), alpha.min(1.0)));
            });
        }
        for (pixel, alpha) in coverage {
            self.area.draw_pixel(pixel, &color.mix(f64::from(alpha)))?;
        }
        Ok(())
    }
}

/// plotters' SVG font size for `em` pixels, nudged so that the `font-size` it
/// writes (size / 1.24) reads `15`, not `15.000000000000002`.
fn svg_font_size(em: f64) -> f64 {
    let size = em * SVG_SIZE_PER_EM;
    [size, size.next_down(), size.next_up()]
        .into_iter()
        .find(|candidate| candidate / SVG_SIZE_PER_EM == em)
        .unwrap_or(size)
}

/// Something drawable, laid out in CSS pixels.
trait Figure {
    /// Title and legend; the title also labels the SVG for screen readers.
    fn header(&self) -> &Header;
    /// Height in CSS pixels; the width is always [`WIDTH`].
    fn height(&self) -> u32 {
        HEIGHT
    }
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult<DB>;
}

/// Draws `figure` as SVG and as PNG.
fn render(figure: &impl Figure) -> Result<Rendered, ChartError> {
    let (width, height) = (WIDTH, figure.height());

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw_on(&root, figure, SVG_OUTPUT)?;
    }
    let svg = embeddable_svg(&svg, &figure.header().full_title, width, height);

    let (png_width, png_height) = (width * PNG_SCALE, height * PNG_SCALE);
    let mut rgb = vec![0xff; png_width as usize * png_height as usize * 3];
    {
        let backend =
            BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (png_width, png_height))
                .map_err(|error| ChartError::Draw {
                    output: PNG_OUTPUT.name,
                    message: error.to_string(),
                })?;
        draw_on(&backend.into_drawing_area(), figure, PNG_OUTPUT)?;
    }
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(
        &rgb,
        png_width,
        png_height,
        image::ExtendedColorType::Rgb8,
    )?;

    Ok(Rendered {
        svg,
        png,
        width,
        height,
    })
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &impl Figure,
    output: Output,
) -> Result<(), ChartError> {
    let failed = |error: DrawingAreaErrorKind<DB::ErrorType>| ChartError::Draw {
        output: output.name,
        message: error.to_string(),
    };
    root.fill(&WHITE).map_err(failed)?;
    figure
        .draw(&Canvas { area: root, output })
        .map_err(failed)?;
    root.present().map_err(failed)
}

/// Makes plotters' SVG document fit for inline HTML: drops any XML
/// declaration, and replaces the fixed size with `width="100%"` (the
/// `viewBox` keeps the aspect ratio), adding `role="img"` and the title as
/// `aria-label`.
fn embeddable_svg(svg: &str, title: &str, width: u32, height: u32) -> String {
    let svg = svg.find("<svg").map_or(svg, |start| &svg[start..]);
    let fixed_size = format!("<svg width=\"{width}\" height=\"{height}\"");
    let label = escape_xml(title);
    let fluid_size = format!("<svg width=\"100%\" role=\"img\" aria-label=\"{label}\"");
    svg.replacen(&fixed_size, &fluid_size, 1)
}

/// Escapes text for an XML attribute or element.
fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

// ---------------------------------------------------------------------------
// Title and legend
// ---------------------------------------------------------------------------

/// A series' entry in the legend.
#[derive(Debug, Clone)]
struct LegendItem {
    label: String,
    color: RGBColor,
}

impl LegendItem {
    fn new(label: &str, color: SeriesColor) -> LegendItem {
        LegendItem {
            label: clean_text(label),
            color: color.rgb(),
        }
    }
}

/// The top of every chart: the title, then a legend that wraps onto more
/// lines if needed, so it never covers the data.
struct Header {
    /// The title, cut to fit the width.
    title: String,
    /// The whole title, cleaned, for the SVG's `aria-label`.
    full_title: String,
    title_baseline: f64,
    /// Legend entries with their fitted label, left edge and baseline.
    legend: Vec<(LegendItem, f64, f64)>,
    /// Where the header ends.
    bottom: f64,
}

const SWATCH: f64 = 12.0;
const SWATCH_GAP: f64 = 6.0;
const LEGEND_ITEM_GAP: f64 = 24.0;
const LEGEND_LINE_HEIGHT: f64 = 22.0;

impl Header {
    fn new(full_title: &str, legend: &[LegendItem]) -> Header {
        let right = f64::from(WIDTH) - PAD;
        let title = fit_text(full_title, TITLE_EM, right - PAD);
        let title_baseline = PAD + ASCENT * TITLE_EM;
        let mut bottom = if title.is_empty() {
            PAD
        } else {
            title_baseline + DESCENT * TITLE_EM
        };

        let mut placed = Vec::new();
        let (mut x, mut baseline) = (PAD, bottom + 10.0 + ASCENT * LEGEND_EM);
        for item in legend {
            let label = fit_text(&item.label, LEGEND_EM, right - PAD - SWATCH - SWATCH_GAP);
            let item_width = SWATCH + SWATCH_GAP + text_width(&label, LEGEND_EM);
            if x > PAD && x + item_width > right {
                x = PAD;
                baseline += LEGEND_LINE_HEIGHT;
            }
            placed.push((
                LegendItem {
                    label,
                    color: item.color,
                },
                x,
                baseline,
            ));
            x += item_width + LEGEND_ITEM_GAP;
        }
        if !placed.is_empty() {
            bottom = baseline + DESCENT * LEGEND_EM;
        }
        Header {
            title,
            full_title: clean_text(full_title),
            title_baseline,
            legend: placed,
            bottom,
        }
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult<DB> {
        canvas.text(
            &self.title,
            PAD,
            self.title_baseline,
            TITLE_EM,
            TEXT_COLOR,
            Align::Start,
        )?;
        for &(ref item, x, baseline) in &self.legend {
            let middle = baseline - CAP_HEIGHT * LEGEND_EM / 2.0;
            canvas.fill_rect(
                x,
                middle - SWATCH / 2.0,
                x + SWATCH,
                middle + SWATCH / 2.0,
                item.color,
            )?;
            let label_x = x + SWATCH + SWATCH_GAP;
            canvas.text(
                &item.label,
                label_x,
                baseline,
                LEGEND_EM,
                TEXT_COLOR,
                Align::Start,
            )?;
        }
        Ok(())
    }
}

/// The plotting rectangle, in CSS pixels.
#[derive(Debug, Clone, Copy)]
struct PlotArea {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl PlotArea {
    fn width(&self) -> f64 {
        (self.right - self.left).max(1.0)
    }

    fn height(&self) -> f64 {
        (self.bottom - self.top).max(1.0)
    }
}

/// Distance from a value axis' tick labels to the plot.
const TICK_LABEL_GAP: f64 = 8.0;
/// Room taken by a rotated axis label at the left edge.
const VERTICAL_AXIS_LABEL_WIDTH: f64 = (ASCENT + DESCENT) * AXIS_LABEL_EM + 6.0;

/// Draws horizontal grid lines with their labels left of the plot.
fn draw_value_grid<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    axis: &ValueAxis,
    plot: PlotArea,
) -> DrawResult<DB> {
    for &tick in &axis.ticks {
        let y = axis.position(tick, plot.bottom, plot.top);
        let color = if tick == 0.0 { AXIS_COLOR } else { GRID_COLOR };
        canvas.line(&[(plot.left, y), (plot.right, y)], color, 1.0)?;
        let label = axis.label(tick);
        canvas.text_centered_on(
            &label,
            plot.left - TICK_LABEL_GAP,
            y,
            TICK_EM,
            MUTED_COLOR,
            Align::End,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------

/// "No data in this range", under the title.
struct NoData {
    header: Header,
}

impl NoData {
    fn new(title: &str) -> NoData {
        NoData {
            header: Header::new(title, &[]),
        }
    }
}

impl Figure for NoData {
    fn header(&self) -> &Header {
        &self.header
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult<DB> {
        self.header.draw(canvas)?;
        let (width, height) = (f64::from(WIDTH), f64::from(HEIGHT));
        let top = self.header.bottom + 12.0;
        canvas.fill_rect(PAD, top, width - PAD, height - PAD, PANEL_COLOR)?;
        let middle = (top + height - PAD) / 2.0;
        canvas.text_centered_on(
            NO_DATA_MESSAGE,
            width / 2.0,
            middle,
            MESSAGE_EM,
            MUTED_COLOR,
            Align::Middle,
        )
    }
}

/// Grouped columns: the funnel, and bar charts with few categories.
struct Columns {
    header: Header,
    plot: PlotArea,
    axis: ValueAxis,
    axis_label: String,
    /// Group labels, fitted to their slot.
    groups: Vec<String>,
    colors: Vec<RGBColor>,
    /// `values[group][series]`; `None` reads "n/a".
    values: Vec<Vec<Option<u64>>>,
    /// The label above each column, exact or compact to fit its width.
    value_labels: Vec<Vec<String>>,
}

/// Part of a group's slot that its columns take.
const GROUP_FILL: f64 = 0.76;
/// Widest column, so that a few categories do not make slabs.
const MAX_COLUMN_WIDTH: f64 = 96.0;
const COLUMN_GAP: f64 = 2.0;

impl Columns {
    fn new(
        title: &str,
        series: &[LegendItem],
        groups: &[&str],
        values: Vec<Vec<Option<u64>>>,
        axis_label: &str,
    ) -> Columns {
        let header = Header::new(title, series);
        let (width, height) = (f64::from(WIDTH), f64::from(HEIGHT));
        let axis_label = fit_text(axis_label, AXIS_LABEL_EM, height - header.bottom - 40.0);
        let group_label_baseline = height - PAD - DESCENT * TICK_EM;
        let mut plot = PlotArea {
            left: PAD,
            top: header.bottom + 18.0,
            right: width - PAD,
            bottom: group_label_baseline - ASCENT * TICK_EM - 10.0,
        };

        // Room above the tallest column for its label.
        let max = values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .max()
            .unwrap_or(0) as f64;
        let label_room = ASCENT * VALUE_EM + 8.0;
        let needed = max * plot.height() / (plot.height() - label_room).max(1.0);
        let axis = ValueAxis::new(
            0.0,
            needed,
            (plot.height() / 55.0).round().max(2.0) as usize,
            true,
        );

        let axis_label_width = if axis_label.is_empty() {
            0.0
        } else {
            VERTICAL_AXIS_LABEL_WIDTH
        };
        plot.left = PAD + axis_label_width + axis.widest_label() + TICK_LABEL_GAP;

        let slot = plot.width() / groups.len().max(1) as f64;
        let column = column_width(slot, series.len());
        let value_labels = values
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|value| match value {
                        None => "n/a".to_owned(),
                        Some(count) => {
                            let exact = format_count(*count);
                            // Neighbouring labels are a column apart.
                            if text_width(&exact, VALUE_EM) <= column - 4.0 {
                                exact
                            } else {
                                format_compact(*count)
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        let groups = groups
            .iter()
            .map(|group| fit_text(group, TICK_EM, slot - 8.0))
            .collect();
        Columns {
            header,
            plot,
            axis,
            axis_label,
            groups,
            colors: series.iter().map(|item| item.color).collect(),
            values,
            value_labels,
        }
    }
}

/// Width of each of `series` columns in a group's slot.
fn column_width(slot: f64, series: usize) -> f64 {
    (slot * GROUP_FILL / series.max(1) as f64).min(MAX_COLUMN_WIDTH)
}

impl Figure for Columns {
    fn header(&self) -> &Header {
        &self.header
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult<DB> {
        let plot = self.plot;
        self.header.draw(canvas)?;
        draw_value_grid(canvas, &self.axis, plot)?;
        if !self.axis_label.is_empty() {
            let baseline = PAD + ASCENT * AXIS_LABEL_EM;
            let middle = (plot.top + plot.bottom) / 2.0;
            canvas.vertical_text(
                &self.axis_label,
                baseline,
                middle,
                AXIS_LABEL_EM,
                TEXT_COLOR,
            )?;
        }

        let slot = plot.width() / self.groups.len().max(1) as f64;
        let column = column_width(slot, self.colors.len());
        let zero = self.axis.position(0.0, plot.bottom, plot.top);
        for (group_index, group_label) in self.groups.iter().enumerate() {
            let slot_left = plot.left + slot * group_index as f64;
            let columns_left = slot_left + (slot - column * self.colors.len() as f64) / 2.0;
            for (series_index, color) in self.colors.iter().enumerate() {
                let left = columns_left + column * series_index as f64;
                let centre = left + column / 2.0;
                let value = self
                    .values
                    .get(group_index)
                    .and_then(|group| group.get(series_index));
                let label = self
                    .value_labels
                    .get(group_index)
                    .and_then(|group| group.get(series_index))
                    .map_or("", String::as_str);
                match value.copied().flatten() {
                    Some(count) => {
                        let mut top = self.axis.position(count as f64, plot.bottom, plot.top);
                        if count > 0 {
                            // Even the smallest count shows as a sliver.
                            top = top.min(zero - 1.0);
                        }
                        let (x0, x1) = (left + COLUMN_GAP / 2.0, left + column - COLUMN_GAP / 2.0);
                        canvas.fill_rect(x0, top, x1, zero, *color)?;
                        canvas.text(
                            label,
                            centre,
                            top - 6.0,
                            VALUE_EM,
                            TEXT_COLOR,
                            Align::Middle,
                        )?;
                    }
                    None => {
                        canvas.text(
                            label,
                            centre,
                            zero - 6.0,
                            VALUE_EM,
                            MUTED_COLOR,
                            Align::Middle,
                        )?;
                    }
                }
            }
            let baseline = plot.bottom + 10.0 + ASCENT * TICK_EM;
            canvas.text(
                group_label,
                slot_left + slot / 2.0,
                baseline,
                TICK_EM,
                TEXT_COLOR,
                Align::Middle,
            )?;
        }
        Ok(())
    }
}

/// Horizontal bars, one row per category: bar charts with many categories or
/// long names.
struct HorizontalBars {
    header: Header,
    plot: PlotArea,
    height: u32,
    axis: ValueAxis,
    axis_label: String,
    axis_label_baseline: f64,
    tick_label_baseline: f64,
    /// Category labels, fitted to the label column.
    categories: Vec<String>,
    colors: Vec<RGBColor>,
    /// `values[category][series]`.
    values: Vec<Vec<u64>>,
    /// The label after each bar; empty when bars are too thin for one.
    value_labels: Vec<Vec<String>>,
    bar_thickness: f64,
    row_height: f64,
}

const BAR_GAP: f64 = 2.0;
const ROW_GAP: f64 = 12.0;
const VALUE_LABEL_GAP: f64 = 5.0;
/// Widest category label column, as a share of the chart's width.
const MAX_CATEGORY_LABEL_SHARE: f64 = 0.36;

impl HorizontalBars {
    fn new(
        title: &str,
        series: &[LegendItem],
        categories: &[&str],
        values: Vec<Vec<u64>>,
        axis_label: &str,
    ) -> HorizontalBars {
        let header = Header::new(title, series);
        let width = f64::from(WIDTH);
        let series_count = series.len().max(1);
        let row_count = categories.len().max(1);
        // Bars thick enough to carry a 14 px label, unless there are too many
        // series for that to stay compact.
        let bar_thickness = if series_count <= 3 {
            VALUE_EM + BAR_GAP
        } else {
            8.0
        };
        let labelled = bar_thickness >= VALUE_EM;
        let min_row_height = series_count as f64 * bar_thickness + ROW_GAP;

        let axis_label = fit_text(axis_label, AXIS_LABEL_EM, width - 2.0 * PAD);
        // Under the plot: a gap, the tick labels, and the axis label if any.
        let axis_label_room = if axis_label.is_empty() {
            0.0
        } else {
            8.0 + (ASCENT + DESCENT) * AXIS_LABEL_EM
        };
        let bottom_room = 8.0 + (ASCENT + DESCENT) * TICK_EM + axis_label_room;
        let top = header.bottom + 10.0;
        // Grow the chart to give every row its room; stretch rows to fill
        // the minimum height.
        let needed_height = top + row_count as f64 * min_row_height + bottom_room + PAD;
        let height = needed_height.max(f64::from(HEIGHT)).ceil();
        let bottom = height - PAD - bottom_room;
        let tick_label_baseline = bottom + 8.0 + ASCENT * TICK_EM;
        let axis_label_baseline =
            tick_label_baseline + DESCENT * TICK_EM + 8.0 + ASCENT * AXIS_LABEL_EM;
        let row_height = (bottom - top) / row_count as f64;

        let max_label_width = width * MAX_CATEGORY_LABEL_SHARE;
        let categories: Vec<String> = categories
            .iter()
            .map(|category| fit_text(category, TICK_EM, max_label_width))
            .collect();
        let label_column = categories
            .iter()
            .map(|category| text_width(category, TICK_EM))
            .fold(0.0, f64::max);
        let mut plot = PlotArea {
            left: PAD + label_column + 10.0,
            top,
            right: width - PAD,
            bottom,
        };

        let value_labels: Vec<Vec<String>> = values
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&value| {
                        if labelled {
                            format_count(value)
                        } else {
                            String::new()
                        }
                    })
                    .collect()
            })
            .collect();
        // The axis must reach far enough that every bar's label fits after it.
        let label_widths: Vec<Vec<f64>> = value_labels
            .iter()
            .map(|row| {
                row.iter()
                    .map(|label| text_width(label, VALUE_EM))
                    .collect()
            })
            .collect();
        let axis_for = |plot_width: f64| {
            let mut needed = 0.0f64;
            for (row, widths) in values.iter().zip(&label_widths) {
                for (&value, &label_width) in row.iter().zip(widths) {
                    let room = plot_width - VALUE_LABEL_GAP - label_width;
                    let reach = if room > plot_width * 0.3 {
                        value as f64 * plot_width / room
                    } else {
                        value as f64
                    };
                    needed = needed.max(reach);
                }
            }
            ValueAxis::fitting(needed, plot_width, 8, 16.0)
        };
        let mut axis = axis_for(plot.width());
        // The last tick's label is centred on the plot's right edge: keep
        // room for its right half.
        let overhang = text_width(&axis.label(axis.high), TICK_EM) / 2.0 + 2.0;
        if overhang > PAD {
            plot.right = width - overhang;
            axis = axis_for(plot.width());
        }
        HorizontalBars {
            header,
            plot,
            height: height as u32,
            axis,
            axis_label,
            axis_label_baseline,
            tick_label_baseline,
            categories,
            colors: series.iter().map(|item| item.color).collect(),
            values,
            value_labels,
            bar_thickness,
            row_height,
        }
    }
}

impl Figure for HorizontalBars {
    fn header(&self) -> &Header {
        &self.header
    }

    fn height(&self) -> u32 {
        self.height
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult<DB> {
        let plot = self.plot;
        let width = f64::from(WIDTH);
        self.header.draw(canvas)?;
        for &tick in &self.axis.ticks {
            let x = self.axis.position(tick, plot.left, plot.right);
            let color = if tick == 0.0 { AXIS_COLOR } else { GRID_COLOR };
            canvas.line(&[(x, plot.top), (x, plot.bottom)], color, 1.0)?;
            let label = self.axis.label(tick);
            let half = text_width(&label, TICK_EM) / 2.0;
            let x = x.clamp(PAD + half, width - PAD / 2.0 - half);
            canvas.text(
                &label,
                x,
                self.tick_label_baseline,
                TICK_EM,
                MUTED_COLOR,
                Align::Middle,
            )?;
        }
        let axis_middle = (plot.left + plot.right) / 2.0;
        canvas.text(
            &self.axis_label,
            axis_middle,
            self.axis_label_baseline,
            AXIS_LABEL_EM,
            TEXT_COLOR,
            Align::Middle,
        )?;

        let zero = self.axis.position(0.0, plot.left, plot.right);
        let bars_height = self.bar_thickness * self.colors.len() as f64;
        for (row_index, category) in self.categories.iter().enumerate() {
            let row_top = plot.top + self.row_height * row_index as f64;
            let row_middle = row_top + self.row_height / 2.0;
            canvas.text_centered_on(
                category,
                plot.left - 10.0,
                row_middle,
                TICK_EM,
                TEXT_COLOR,
                Align::End,
            )?;
            let bars_top = row_middle - bars_height / 2.0;
            for (series_index, color) in self.colors.iter().enumerate() {
                let value = self
                    .values
                    .get(row_index)
                    .and_then(|row| row.get(series_index))
                    .copied()
                    .unwrap_or(0);
                let y0 = bars_top + self.bar_thickness * series_index as f64;
                let y1 = y0 + self.bar_thickness - BAR_GAP;
                let mut end = self.axis.position(value as f64, plot.left, plot.right);
                if value > 0 {
                    end = end.max(zero + 1.0);
                }
                canvas.fill_rect(zero, y0, end, y1, *color)?;
                let label = self
                    .value_labels
                    .get(row_index)
                    .and_then(|row| row.get(series_index))
                    .map_or("", String::as_str);
                let x = end + VALUE_LABEL_GAP;
                canvas.text_centered_on(
                    label,
                    x,
                    (y0 + y1) / 2.0,
                    VALUE_EM,
                    TEXT_COLOR,
                    Align::Start,
                )?;
            }
        }
        Ok(())
    }
}

/// A series' values by day, cleaned up for drawing.
struct DailySeries {
    legend: LegendItem,
    /// Sorted by day; `None` for no value (NaN and infinities included).
    points: Vec<(i32, Option<f64>)>,
}

impl DailySeries {
    fn new(series: &TimeSeries) -> DailySeries {
        let mut points: Vec<(i32, Option<f64>)> = series
            .points
            .iter()
            .map(|(date, value)| {
                let value = value
                    .filter(|value| value.is_finite())
                    .map(|value| value.clamp(-MAX_MAGNITUDE, MAX_MAGNITUDE));
                (date.to_julian_day(), value)
            })
            .collect();
        points.sort_by_key(|(day, _)| *day);
        let mut legend = LegendItem::new(&series.label, series.color);
        if points.iter().all(|(_, value)| value.is_none()) {
            legend.label = format!("{} (no data)", legend.label);
        }
        DailySeries { legend, points }
    }

    fn is_empty(&self) -> bool {
        self.points.iter().all(|(_, value)| value.is_none())
    }

    /// Runs of consecutive points with a value: each is drawn as one line.
    fn runs(&self) -> impl Iterator<Item = &[(i32, Option<f64>)]> {
        self.points
            .split(|(_, value)| value.is_none())
            .filter(|run| !run.is_empty())
    }
}

/// Lines over days: values over time per series.
struct Lines {
    header: Header,
    plot: PlotArea,
    values: ValueAxis,
    days: DayAxis,
    axis_label: String,
    series: Vec<DailySeries>,
}

/// Most points in a series for which every point gets a marker; beyond that
/// only points standing alone between gaps do.
const MAX_MARKED_POINTS: usize = 62;
const LINE_WIDTH: f64 = 3.0;
const MARKER_RADIUS: f64 = 4.0;

impl Lines {
    fn new(title: &str, axis_label: &str, series: Vec<DailySeries>) -> Lines {
        let legend: Vec<LegendItem> = series.iter().map(|series| series.legend.clone()).collect();
        let header = Header::new(title, &legend);
        let (width, height) = (f64::from(WIDTH), f64::from(HEIGHT));
        let axis_label = fit_text(axis_label, AXIS_LABEL_EM, height - header.bottom - 40.0);
        let day_label_baseline = height - PAD - DESCENT * TICK_EM;
        let mut plot = PlotArea {
            left: PAD,
            top: header.bottom + 18.0,
            right: width - PAD,
            bottom: day_label_baseline - ASCENT * TICK_EM - 10.0,
        };

        let values = series
            .iter()
            .flat_map(|series| series.points.iter().filter_map(|(_, value)| *value));
        let (min, max) = values.fold((0.0f64, 0.0f64), |(min, max), value| {
            (min.min(value), max.max(value))
        });
        let headroom = (max - min) * 0.04;
        let value_axis = ValueAxis::new(
            min,
            max + headroom,
            (plot.height() / 55.0).round().max(2.0) as usize,
            false,
        );
        let axis_label_width = if axis_label.is_empty() {
            0.0
        } else {
            VERTICAL_AXIS_LABEL_WIDTH
        };
        plot.left = PAD + axis_label_width + value_axis.widest_label() + TICK_LABEL_GAP;

        let all_days = series
            .iter()
            .flat_map(|series| series.points.iter().map(|(day, _)| *day));
        let (first, last) = all_days.fold((i32::MAX, i32::MIN), |(first, last), day| {
            (first.min(day), last.max(day))
        });
        let days = if first <= last {
            DayAxis::new(first, last, plot.width())
        } else {
            DayAxis::new(0, 0, plot.width())
        };
        Lines {
            header,
            plot,
            values: value_axis,
            days,
            axis_label,
            series,
        }
    }
}

impl Figure for Lines {
    fn header(&self) -> &Header {
        &self.header
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult<DB> {
        let plot = self.plot;
        let width = f64::from(WIDTH);
        self.header.draw(canvas)?;
        draw_value_grid(canvas, &self.values, plot)?;
        if !self.axis_label.is_empty() {
            let baseline = PAD + ASCENT * AXIS_LABEL_EM;
            let middle = (plot.top + plot.bottom) / 2.0;
            canvas.vertical_text(
                &self.axis_label,
                baseline,
                middle,
                AXIS_LABEL_EM,
                TEXT_COLOR,
            )?;
        }
        let baseline = plot.bottom + 10.0 + ASCENT * TICK_EM;
        for (day, label) in &self.days.ticks {
            let x = self.days.position(*day, plot.left, plot.right);
            canvas.line(&[(x, plot.bottom), (x, plot.bottom + 5.0)], AXIS_COLOR, 1.0)?;
            let half = text_width(label, TICK_EM) / 2.0;
            let x = x.clamp(PAD + half, width - PAD / 2.0 - half);
            canvas.text(label, x, baseline, TICK_EM, MUTED_COLOR, Align::Middle)?;
        }

        let at = |(day, value): (i32, f64)| {
            (
                self.days.position(day, plot.left, plot.right),
                self.values.position(value, plot.bottom, plot.top),
            )
        };
        for series in &self.series {
            let color = series.legend.color;
            let mark_all = series.points.len() <= MAX_MARKED_POINTS;
            for run in series.runs() {
                let points: Vec<(f64, f64)> = run
                    .iter()
                    .filter_map(|(day, value)| value.map(|value| at((*day, value))))
                    .collect();
                if points.len() > 1 {
                    canvas.line(&points, color, LINE_WIDTH)?;
                }
                if mark_all || points.len() == 1 {
                    for (x, y) in points {
                        canvas.dot(x, y, MARKER_RADIUS, color)?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// Parses `svg` as XML, failing the test if it is not well formed, and
    /// returns the content of its `<text>` elements, entities resolved.
    fn svg_texts(svg: &str) -> Vec<String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(svg);
        let (mut texts, mut current, mut depth, mut roots) =
            (Vec::new(), None::<String>, 0usize, 0);
        loop {
            match reader.read_event().expect("SVG is well-formed XML") {
                Event::Start(element) => {
                    roots += usize::from(depth == 0);
                    depth += 1;
                    if element.name().as_ref() == b"text" {
                        current = Some(String::new());
                    }
                }
                Event::Empty(_) => roots += usize::from(depth == 0),
                Event::End(element) => {
                    depth -= 1;
                    if element.name().as_ref() == b"text" {
                        texts.push(current.take().unwrap_or_default().trim().to_owned());
                    }
                }
                Event::Text(text) => {
                    if let Some(current) = &mut current {
                        current.push_str(&text.decode().unwrap());
                    }
                }
                Event::GeneralRef(reference) => {
                    let name = reference.decode().unwrap();
                    let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                        .expect("only XML's predefined entities");
                    if let Some(current) = &mut current {
                        current.push_str(resolved);
                    }
                }
                Event::Decl(_) | Event::DocType(_) | Event::PI(_) => {
                    panic!("not embeddable inline")
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(roots, 1, "one root element");
        texts
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory(png).expect("PNG decodes").to_rgb8()
    }

    /// Checks what every rendered chart must satisfy, and returns the PNG.
    fn check(rendered: &Rendered, texts: &[&str]) -> image::RgbImage {
        let svg = &rendered.svg;
        assert!(
            svg.starts_with("<svg"),
            "no XML declaration: {}",
            &svg[..60.min(svg.len())]
        );
        assert!(svg.contains("width=\"100%\""));
        assert!(svg.contains(&format!(
            "viewBox=\"0 0 {} {}\"",
            rendered.width, rendered.height
        )));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("<script"), "user text must be escaped");
        let drawn = svg_texts(svg).join("\n");
        for text in texts {
            assert!(drawn.contains(text), "SVG text lacks {text:?}: {drawn}");
        }
        assert_eq!(rendered.width, WIDTH);
        let png = decode(&rendered.png);
        assert_eq!(
            png.dimensions(),
            (rendered.width * PNG_SCALE, rendered.height * PNG_SCALE)
        );
        let first = *png.get_pixel(0, 0);
        assert!(
            png.pixels().any(|pixel| *pixel != first),
            "PNG is a single colour"
        );
        png
    }

    fn kinds() -> [(&'static str, SeriesColor); 2] {
        [
            ("Direct to chat", SeriesColor::DirectToChat),
            ("Landing page", SeriesColor::LandingPage),
        ]
    }

    fn sample_funnel() -> FunnelChart {
        FunnelChart {
            title: "Funnel, 1–30 June".into(),
            steps: ["Clicks", "Page views", "Leads", "Qualified", "Purchases"]
                .map(String::from)
                .to_vec(),
            series: vec![
                FunnelSeries {
                    label: "Direct to chat".into(),
                    color: SeriesColor::DirectToChat,
                    counts: vec![Some(12_480), None, Some(2_310), Some(1_140), Some(286)],
                },
                FunnelSeries {
                    label: "Landing page".into(),
                    color: SeriesColor::LandingPage,
                    counts: vec![
                        Some(15_920),
                        Some(11_304),
                        Some(1_027),
                        Some(412),
                        Some(131),
                    ],
                },
            ],
        }
    }

    fn sample_time() -> TimeChart {
        let start = date!(2025 - 06 - 01);
        let series = kinds()
            .iter()
            .enumerate()
            .map(|(kind, (label, color))| TimeSeries {
                label: (*label).into(),
                color: *color,
                points: (0..30)
                    .map(|day| {
                        let date = start + time::Duration::days(day);
                        let base = if kind == 0 { 3.1 } else { 7.4 };
                        let wobble = ((day * 7 + kind as i64 * 3) % 11) as f64 / 6.0;
                        // Direct to chat had no spend on two days.
                        let value =
                            (kind != 0 || !(12..14).contains(&day)).then_some(base + wobble);
                        (date, value)
                    })
                    .collect(),
            })
            .collect();
        TimeChart {
            title: "Cost per lead by day".into(),
            y_label: "Cost per lead (USD)".into(),
            series,
        }
    }

    fn sample_bars(names: &[&str], value_label: &str, title: &str) -> BarChart {
        BarChart {
            title: title.into(),
            value_label: value_label.into(),
            series: kinds()
                .iter()
                .map(|(label, color)| BarSeries {
                    label: (*label).into(),
                    color: *color,
                })
                .collect(),
            categories: names
                .iter()
                .enumerate()
                .map(|(index, name)| BarCategory {
                    label: (*name).into(),
                    values: vec![
                        (4_000 / (index as u64 + 1)) + 37 * index as u64,
                        (2_600 / (index as u64 + 2)) + 11 * index as u64,
                    ],
                })
                .collect(),
        }
    }

    const STORES: [&str; 12] = [
        "Lagos Island flagship",
        "Ikeja City Mall",
        "Abuja Wuse II",
        "Port Harcourt GRA",
        "Ibadan Ring Road",
        "Kano Zoo Road",
        "Enugu Polo Park",
        "Benin City Ugbowo",
        "Accra Osu Oxford Street",
        "Kumasi Adum",
        "Nairobi Westlands Sarit Centre, 2nd floor",
        "Online",
    ];

    const COUNTRIES: [&str; 8] = [
        "Nigeria",
        "Ghana",
        "Kenya",
        "South Africa",
        "Côte d’Ivoire",
        "Senegal",
        "Egypt",
        "Morocco",
    ];

    #[test]
    fn funnel_draws_steps_series_and_counts() {
        let rendered = funnel(&sample_funnel()).unwrap();
        let png = check(
            &rendered,
            &[
                "Funnel, 1–30 June",
                "Clicks",
                "Purchases",
                "Direct to chat",
                "Landing page",
                "12,480",
                "n/a",
            ],
        );
        assert_eq!((rendered.width, rendered.height), (WIDTH, HEIGHT));
        assert_eq!(png.dimensions(), (1600, 800));
        // Both kinds' colours are drawn.
        for color in [SeriesColor::DirectToChat, SeriesColor::LandingPage] {
            let RGBColor(r, g, b) = color.rgb();
            assert!(
                png.pixels().any(|pixel| pixel.0 == [r, g, b]),
                "{color:?} missing"
            );
        }
    }

    #[test]
    fn over_time_draws_lines_with_dates() {
        let rendered = over_time(&sample_time()).unwrap();
        check(
            &rendered,
            &[
                "Cost per lead by day",
                "Cost per lead (USD)",
                "Direct to chat",
                "Jun 1",
            ],
        );
        // The two missing days split direct to chat into two lines.
        let lines_in = |color: SeriesColor| {
            let stroke = format!("stroke=\"{}\"", color.css().to_uppercase());
            rendered
                .svg
                .lines()
                .filter(|line| line.starts_with("<polyline") && line.contains(&stroke))
                .count()
        };
        assert_eq!(lines_in(SeriesColor::DirectToChat), 2);
        assert_eq!(lines_in(SeriesColor::LandingPage), 1);
    }

    #[test]
    fn bars_draw_many_categories_horizontally_with_other() {
        let names: Vec<String> = (1..=20).map(|index| format!("Store {index}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut chart = sample_bars(&names, "Leads", "Leads by store");
        // Store 1 is the largest, Store 20 the smallest.
        for (index, category) in chart.categories.iter_mut().enumerate() {
            category.values = vec![1_000 - 10 * index as u64, 500 - 5 * index as u64];
        }
        let rendered = bars(&chart).unwrap();
        check(
            &rendered,
            &[
                "Leads by store",
                "Leads",
                "Other (6 more)",
                "Direct to chat",
            ],
        );
        let texts = svg_texts(&rendered.svg);
        let drawn = |label: &str| texts.iter().any(|text| text == label);
        assert!(drawn("Store 1") && drawn("Store 14"));
        assert!(!drawn("Store 15"), "folded into Other");
        assert!(rendered.height > HEIGHT, "15 rows get room");
    }

    #[test]
    fn bars_draw_few_short_categories_as_columns() {
        let chart = sample_bars(&["Web", "Android", "iOS"], "Leads", "Leads by platform");
        let rendered = bars(&chart).unwrap();
        check(&rendered, &["Leads by platform", "Android", "4,000"]);
        assert_eq!(rendered.height, HEIGHT);
    }

    #[test]
    fn ranked_categories_sort_and_fold() {
        let categories: Vec<BarCategory> = (0..20)
            .map(|index| BarCategory {
                label: format!("c{index}"),
                values: vec![index, 1],
            })
            .collect();
        let rows = ranked_categories(&categories, 2);
        assert_eq!(rows.len(), MAX_CATEGORIES);
        assert_eq!(rows[0], ("c19".to_owned(), vec![19, 1]));
        // c0..=c5 folded: 0+1+2+3+4+5 and six ones.
        assert_eq!(rows[14], ("Other (6 more)".to_owned(), vec![15, 6]));
        // Missing values are zeros, extra values ignored.
        let rows = ranked_categories(
            &[BarCategory {
                label: "a".into(),
                values: vec![7, 8, 9],
            }],
            4,
        );
        assert_eq!(rows[0].1, vec![7, 8, 9, 0]);
    }

    #[test]
    fn hostile_labels_are_escaped() {
        let hostile = "<script>alert(1)</script> & \"quotes\"";
        let mut chart = sample_bars(&[hostile, "b", "c", "d", "e", "f", "g"], hostile, hostile);
        chart.series[0].label = hostile.into();
        let rendered = bars(&chart).unwrap();
        // `check` parses the SVG and finds the label as text, not markup.
        check(&rendered, &[hostile]);
        assert!(
            rendered
                .svg
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;")
        );
        assert!(rendered.svg.contains(
            "aria-label=\"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;\""
        ));

        let mut chart = sample_funnel();
        chart.title = hostile.into();
        chart.steps[0] = "<b>Clicks</b>".into();
        let rendered = funnel(&chart).unwrap();
        check(&rendered, &[hostile, "<b>Clicks</b>"]);
        assert!(rendered.svg.contains("&lt;b&gt;Clicks&lt;/b&gt;"));

        let mut chart = sample_time();
        chart.series[1].label = hostile.into();
        chart.y_label = hostile.into();
        check(&over_time(&chart).unwrap(), &[hostile]);
    }

    #[test]
    fn control_characters_do_not_reach_the_svg() {
        let mut chart = sample_funnel();
        chart.title = "Tab\there\u{0}nul\u{1b}[31m".into();
        let rendered = funnel(&chart).unwrap();
        assert!(!rendered.svg.contains('\u{0}') && !rendered.svg.contains('\u{1b}'));
        assert!(rendered.svg.contains("Tab here nul [31m"));
    }

    fn assert_no_data(rendered: &Rendered, title: &str) {
        let png = check(rendered, &[NO_DATA_MESSAGE, title]);
        assert_eq!(png.dimensions(), (WIDTH * PNG_SCALE, HEIGHT * PNG_SCALE));
    }

    #[test]
    fn empty_input_draws_no_data() {
        assert_no_data(
            &funnel(&FunnelChart {
                title: "Funnel".into(),
                ..Default::default()
            })
            .unwrap(),
            "Funnel",
        );
        let mut chart = sample_funnel();
        for series in &mut chart.series {
            series.counts = vec![None, Some(0)];
        }
        assert_no_data(&funnel(&chart).unwrap(), "Funnel");

        assert_no_data(
            &over_time(&TimeChart {
                title: "CPL".into(),
                ..Default::default()
            })
            .unwrap(),
            "CPL",
        );
        let mut chart = sample_time();
        for series in &mut chart.series {
            for point in &mut series.points {
                point.1 = [None, Some(f64::NAN), Some(f64::INFINITY)][point.0.day() as usize % 3];
            }
        }
        assert_no_data(&over_time(&chart).unwrap(), "Cost per lead by day");
        let mut chart = sample_time();
        chart
            .series
            .iter_mut()
            .for_each(|series| series.points.clear());
        assert_no_data(&over_time(&chart).unwrap(), "Cost per lead by day");

        assert_no_data(
            &bars(&BarChart {
                title: "Stores".into(),
                ..Default::default()
            })
            .unwrap(),
            "Stores",
        );
        let mut chart = sample_bars(&STORES, "Leads", "Stores");
        chart
            .categories
            .iter_mut()
            .for_each(|category| category.values = vec![0, 0]);
        assert_no_data(&bars(&chart).unwrap(), "Stores");
        let mut chart = sample_bars(&STORES, "Leads", "Stores");
        chart.series.clear();
        assert_no_data(&bars(&chart).unwrap(), "Stores");
    }

    #[test]
    fn odd_input_never_panics() {
        let day = date!(2025 - 01 - 31);
        let extremes = [
            vec![
                (day, Some(f64::MAX)),
                (day.next_day().unwrap(), Some(f64::MIN)),
            ],
            vec![(day, Some(1e-300)), (day, Some(-1e-300))],
            vec![(day, Some(42.0))],
            vec![(Date::MIN, Some(1.0)), (Date::MAX, Some(2.0))],
            vec![(day, Some(-5.0)), (day.next_day().unwrap(), Some(-7.5))],
            vec![(day, Some(0.0)), (day.next_day().unwrap(), Some(0.0))],
            (0..5000)
                .map(|index| {
                    (
                        Date::MIN + time::Duration::days(index * 3),
                        Some(index as f64),
                    )
                })
                .collect(),
        ];
        for points in extremes {
            let chart = TimeChart {
                title: "x".repeat(10_000),
                y_label: String::new(),
                series: vec![TimeSeries {
                    label: String::new(),
                    color: SeriesColor::Extra(usize::MAX),
                    points,
                }],
            };
            check(&over_time(&chart).unwrap(), &[]);
        }

        let huge = FunnelChart {
            title: String::new(),
            steps: (0..40)
                .map(|index| format!("Step {index} with a very long name indeed"))
                .collect(),
            series: (0..12)
                .map(|index| FunnelSeries {
                    label: "s".repeat(index * 50),
                    color: SeriesColor::Extra(index),
                    counts: vec![Some(u64::MAX), Some(0), None, Some(1)],
                })
                .collect(),
        };
        check(&funnel(&huge).unwrap(), &[]);
        let one = FunnelChart {
            title: "One".into(),
            steps: vec!["Clicks".into()],
            series: vec![FunnelSeries {
                label: "Direct to chat".into(),
                color: SeriesColor::DirectToChat,
                counts: vec![Some(1)],
            }],
        };
        check(&funnel(&one).unwrap(), &["Clicks"]);

        let wide = BarChart {
            title: "Wide".into(),
            value_label: "v".repeat(500),
            series: (0..20)
                .map(|index| BarSeries {
                    label: format!("Series {index}"),
                    color: SeriesColor::Extra(index),
                })
                .collect(),
            categories: (0..500)
                .map(|index| BarCategory {
                    label: "🙂".repeat(index % 300),
                    values: vec![u64::MAX; index % 25],
                })
                .collect(),
        };
        let rendered = bars(&wide).unwrap();
        check(&rendered, &[]);
        assert!(rendered.height < 2000);
        let single = BarChart {
            title: String::new(),
            value_label: String::new(),
            series: vec![BarSeries {
                label: "Only".into(),
                color: SeriesColor::LandingPage,
            }],
            categories: vec![BarCategory {
                label: String::new(),
                values: vec![1],
            }],
        };
        check(&bars(&single).unwrap(), &[]);
    }

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1_000), "1,000");
        assert_eq!(format_count(1_234_567), "1,234,567");
        assert_eq!(format_count(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(format_number(1234.5, 2), "1,234.50");
        assert_eq!(format_number(-1234.0, 0), "-1,234");
        assert_eq!(format_number(-0.0001, 2), "0.00");
        assert_eq!(format_number(0.25, 2), "0.25");
        assert_eq!(format_number(2e18, 0), "2.0e18");
        assert_eq!(format_number(f64::NAN, 0), "");
        assert_eq!(format_compact(950), "950");
        assert_eq!(format_compact(12_345), "12.3k");
        assert_eq!(format_compact(123_456), "123k");
        assert_eq!(format_compact(999_960), "1M");
        assert_eq!(format_compact(4_500_000), "4.5M");
        assert_eq!(format_compact(2_000_000_000), "2B");
        assert_eq!(format_compact(u64::MAX), "1.8e19");
    }

    #[test]
    fn value_axes_have_round_ticks() {
        let axis = ValueAxis::new(0.0, 93.0, 5, true);
        assert_eq!(axis.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(axis.label(80.0), "80");
        let axis = ValueAxis::new(0.0, 1.1, 5, false);
        assert_eq!(
            axis.ticks
                .iter()
                .map(|&t| axis.label(t))
                .collect::<Vec<_>>(),
            ["0.00", "0.25", "0.50", "0.75", "1.00", "1.25"]
        );
        let axis = ValueAxis::new(0.0, 3.0, 10, true);
        assert_eq!(axis.ticks, vec![0.0, 1.0, 2.0, 3.0]);
        let axis = ValueAxis::new(0.0, 48_000.0, 5, true);
        assert_eq!(axis.label(axis.ticks[1]), "10,000");
        let axis = ValueAxis::new(0.0, 0.0, 5, true);
        assert_eq!((axis.low, axis.high), (0.0, 1.0));
        let axis = ValueAxis::new(f64::NAN, f64::INFINITY, 0, false);
        assert!(axis.high > axis.low && axis.ticks.len() >= 2);
        let axis = ValueAxis::new(-MAX_MAGNITUDE, MAX_MAGNITUDE, 5, false);
        assert!(axis.high.is_finite() && axis.low.is_finite());
    }

    #[test]
    fn day_axes_label_without_collisions() {
        let first = date!(2025 - 06 - 01).to_julian_day();
        let axis = DayAxis::new(first, first + 29, 700.0);
        assert_eq!(axis.ticks[0].1, "Jun 1");
        assert!(
            axis.ticks.len() >= 4 && axis.ticks.len() <= 15,
            "{:?}",
            axis.ticks
        );
        // Two years: ticks on the first of round months, with the year.
        let axis = DayAxis::new(first, first + 700, 700.0);
        assert!(axis.ticks.len() >= 4, "{:?}", axis.ticks);
        for (day, label) in &axis.ticks {
            let date = Date::from_julian_day(*day).unwrap();
            assert_eq!(date.day(), 1);
            assert!(matches!(u8::from(date.month()), 1 | 4 | 7 | 10), "{label}");
            assert_eq!(
                *label,
                format!("{} {}", month_abbreviation(date.month()), date.year())
            );
        }
        let axis = DayAxis::new(Date::MIN.to_julian_day(), Date::MAX.to_julian_day(), 700.0);
        assert!(!axis.ticks.is_empty());
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        let fitted = fit_text(&"Nairobi Westlands ".repeat(20), TICK_EM, 200.0);
        assert!(
            fitted.ends_with('…') && text_width(&fitted, TICK_EM) <= 200.0,
            "{fitted}"
        );
        assert_eq!(fit_text("Kenya", TICK_EM, 200.0), "Kenya");
        assert_eq!(fit_text("Kenya", TICK_EM, 1.0), "");
        // About 7.4 px per character at 14 px: the measure uses DejaVu Sans.
        let width = text_width("Landing page", TICK_EM);
        assert!((70.0..110.0).contains(&width), "{width}");
    }

    #[test]
    fn series_colors_are_fixed() {
        assert_eq!(SeriesColor::DirectToChat.css(), "#1b7f5f");
        assert_eq!(SeriesColor::LandingPage.css(), "#c2571a");
        assert_eq!(SeriesColor::Extra(0).css(), SeriesColor::Extra(4).css());
    }

    /// Writes sample charts (two kinds, 30 days, 12 stores, 8 countries) to
    /// `$CHART_SAMPLES_DIR`, or `/tmp/chart-samples`, to look at:
    /// `cargo test write_sample_charts -- --ignored`.
    #[test]
    #[ignore = "writes files; run by hand to look at the charts"]
    fn write_sample_charts() {
        let directory =
            std::env::var("CHART_SAMPLES_DIR").unwrap_or_else(|_| "/tmp/chart-samples".into());
        std::fs::create_dir_all(&directory).unwrap();
        let samples = [
            ("funnel", funnel(&sample_funnel())),
            ("cost_per_lead", over_time(&sample_time())),
            (
                "leads_by_store",
                bars(&sample_bars(&STORES, "Leads", "Leads by store")),
            ),
            (
                "leads_by_country",
                bars(&sample_bars(&COUNTRIES, "Leads", "Leads by country")),
            ),
            (
                "leads_by_platform",
                bars(&sample_bars(
                    &["Web", "Android", "iOS"],
                    "Leads",
                    "Leads by platform",
                )),
            ),
            (
                "no_data",
                funnel(&FunnelChart {
                    title: "Funnel, 1–30 June".into(),
                    ..Default::default()
                }),
            ),
        ];
        for (name, rendered) in samples {
            let rendered = rendered.unwrap();
            std::fs::write(format!("{directory}/{name}.png"), &rendered.png).unwrap();
            std::fs::write(format!("{directory}/{name}.svg"), &rendered.svg).unwrap();
        }
    }
}
