//! Print sheets: one code per store on A4 or Letter, as a PDF or a print-ready HTML page.
//!
//! Both outputs share one grid so a shop can print either: 3 columns × 4 rows of 62 × 63 mm
//! cells, centred on the page. The grid is 186 × 252 mm, which leaves at least 10 mm on every
//! side of both A4 (210 × 297 mm) and Letter (215.9 × 279.4 mm), inside what office printers
//! can reach. Each cell holds the code (46 mm including its 4-module quiet zone), the title
//! (up to 2 lines), the short URL and the optional caption; text shrinks to fit the cell and
//! is refused, never cut, when even the smallest size does not fit.

mod html;
mod pdf;

use std::str::FromStr;

pub use html::sheet_svg_html;
pub use pdf::sheet_pdf;

use super::caption::{LINE_HEIGHT, TextMeasure};
use super::options::Ecc;
use super::{Modules, QrError};

/// One cell of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetItem {
    /// What the code encodes, usually the short link with `?via=qr`.
    pub qr_text: String,
    /// Large text under the code: the store name or the link's label.
    pub title: String,
    /// Small text under the title: the short URL, for people who type instead of scan.
    pub subtitle: String,
}

/// Paper the sheet is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Width and height in millimetres.
    pub fn size_mm(self) -> (f32, f32) {
        match self {
            Paper::A4 => (210.0, 297.0),
            Paper::Letter => (215.9, 279.4),
        }
    }

    /// The name CSS `@page { size }` understands.
    fn css_name(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "letter",
        }
    }
}

impl FromStr for Paper {
    type Err = QrError;

    /// Parses `a4` or `letter`, in any case.
    fn from_str(text: &str) -> Result<Paper, QrError> {
        match text.to_ascii_lowercase().as_str() {
            "a4" => Ok(Paper::A4),
            "letter" => Ok(Paper::Letter),
            _ => Err(QrError::Invalid(format!(
                "paper must be a4 or letter, got {text:?}"
            ))),
        }
    }
}

/// Points per millimetre; PDF and CSS `pt` units are 1/72 inch.
const PT_PER_MM: f32 = 72.0 / 25.4;

const COLUMNS: usize = 3;
const ROWS: usize = 4;
/// Cells per page; both outputs start a new page after this many.
pub(crate) const CELLS_PER_PAGE: usize = COLUMNS * ROWS;
const CELL_WIDTH_MM: f32 = 62.0;
const CELL_HEIGHT_MM: f32 = 63.0;
/// The code including its quiet zone, and its distance from the top of the cell.
const CODE_MM: f32 = 46.0;
const CODE_TOP_MM: f32 = 1.0;
/// Width text may use: the cell less 2 mm each side, so neighbouring titles never touch.
const TEXT_WIDTH_MM: f32 = CELL_WIDTH_MM - 4.0;
const QUIET_ZONE: usize = 4;
/// Printed codes get scuffed; M recovers 15 % and keeps short links at a low version.
const SHEET_ECC: Ecc = Ecc::M;

/// Font sizes in pt, largest first, tried until the text fits.
const TITLE_SIZES: [f32; 5] = [10.0, 9.0, 8.0, 7.0, 6.0];
const TITLE_MAX_LINES: usize = 2;
const SMALL_SIZES: [f32; 4] = [8.0, 7.0, 6.0, 5.0];

/// A line of text placed in a cell: font size in pt and baseline from the cell top in pt.
pub(crate) struct PlacedLine {
    pub(crate) text: String,
    pub(crate) size: f32,
    pub(crate) baseline: f32,
    /// Secondary text (URL, caption) is printed grey.
    pub(crate) secondary: bool,
}

/// One item ready to draw: its modules and its text lines, already fitted.
pub(crate) struct Cell {
    pub(crate) modules: Modules,
    pub(crate) qr_text: String,
    pub(crate) title: String,
    pub(crate) lines: Vec<PlacedLine>,
}

/// Where the code of the `position`th item sits on a sheet: page (from 0) and the cell's box
/// in mm from the page's top-left, for cutting guides and for checking a printed sheet code by
/// code (the way a phone reads it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellBox {
    pub page: usize,
    pub x_mm: f32,
    pub y_mm: f32,
    pub width_mm: f32,
    pub height_mm: f32,
}

/// The [`CellBox`] of the `position`th item of a sheet.
pub fn cell_box(paper: Paper, position: usize) -> CellBox {
    let (x_mm, y_mm) = cell_origin_mm(paper, position % CELLS_PER_PAGE);
    CellBox {
        page: position / CELLS_PER_PAGE,
        x_mm,
        y_mm,
        width_mm: CELL_WIDTH_MM,
        height_mm: CELL_HEIGHT_MM,
    }
}

/// Top-left corner of a cell in mm from the page's top-left, for the `index`th cell of a page.
pub(crate) fn cell_origin_mm(paper: Paper, index: usize) -> (f32, f32) {
    let (origin_x, origin_y) = grid_origin_mm(paper);
    let (row, column) = (index / COLUMNS, index % COLUMNS);
    (
        origin_x + column as f32 * CELL_WIDTH_MM,
        origin_y + row as f32 * CELL_HEIGHT_MM,
    )
}

/// Top-left corner of the grid: the grid is centred on the page.
fn grid_origin_mm(paper: Paper) -> (f32, f32) {
    let (width, height) = paper.size_mm();
    (
        (width - COLUMNS as f32 * CELL_WIDTH_MM) / 2.0,
        (height - ROWS as f32 * CELL_HEIGHT_MM) / 2.0,
    )
}

/// Most codes on one sheet: 100 pages. A sheet is built whole in memory (about 1 MB a page
/// while rendering), so larger campaigns print per store instead.
pub const MAX_ITEMS: usize = 1_200;

/// Encodes every item and fits its text. `embedded_font` is true for outputs that carry
/// DejaVu Sans (the PDF), where characters missing from it are refused; HTML leaves them to
/// the browser's fallback fonts.
pub(crate) fn prepare(
    items: &[SheetItem],
    caption: Option<&str>,
    embedded_font: bool,
) -> Result<Vec<Cell>, QrError> {
    if items.is_empty() {
        return Err(QrError::Invalid("a sheet needs at least one code".into()));
    }
    if items.len() > MAX_ITEMS {
        return Err(QrError::Invalid(format!(
            "a sheet holds at most {MAX_ITEMS} codes ({} pages); this one has {}: print per store \
             with `chatref qr zip`, or split the campaign",
            MAX_ITEMS / (ROWS * COLUMNS),
            items.len()
        )));
    }
    let measure = TextMeasure::new();
    let text_width = TEXT_WIDTH_MM * PT_PER_MM;
    let fit_line = |what: &str, text: &str, sizes: &[f32], max_lines: usize| {
        if embedded_font {
            measure.check_glyphs(what, text)?;
        }
        measure.fit(what, text, sizes, text_width, max_lines)
    };
    let caption = match caption.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => Some(fit_line("the caption", text, &SMALL_SIZES, 1)?),
        None => None,
    };
    let text_top = (CODE_TOP_MM + CODE_MM) * PT_PER_MM;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let name = format!("item {} ({:?})", index + 1, item.title);
            let modules = Modules::encode(&item.qr_text, SHEET_ECC)
                .map_err(|error| QrError::Invalid(format!("{name}: {error}")))?;
            let mut blocks = Vec::new();
            if !item.title.trim().is_empty() {
                let (size, lines) = fit_line(
                    &format!("the title of {name}"),
                    &item.title,
                    &TITLE_SIZES,
                    TITLE_MAX_LINES,
                )?;
                blocks.push((size, lines, false));
            }
            if !item.subtitle.trim().is_empty() {
                let (size, lines) = fit_line(
                    &format!("the URL of {name}"),
                    &item.subtitle,
                    &SMALL_SIZES,
                    1,
                )?;
                blocks.push((size, lines, true));
            }
            if let Some((size, lines)) = &caption {
                blocks.push((*size, lines.clone(), true));
            }
            let mut lines = Vec::new();
            let mut top = text_top;
            for (size, block_lines, secondary) in blocks {
                for text in block_lines {
                    lines.push(PlacedLine {
                        text,
                        size,
                        baseline: top + super::caption::BASELINE * size,
                        secondary,
                    });
                    top += LINE_HEIGHT * size;
                }
            }
            debug_assert!(top <= CELL_HEIGHT_MM * PT_PER_MM, "text overflows the cell");
            Ok(Cell {
                modules,
                qr_text: item.qr_text.clone(),
                title: item.title.clone(),
                lines,
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `count` stores with distinct short links, as a campaign's bulk creation makes them.
    pub(crate) fn stores(count: usize) -> Vec<SheetItem> {
        (1..=count)
            .map(|number| SheetItem {
                qr_text: format!("https://go.example.com/r/S{number:04}x?via=qr"),
                title: format!("Store {number} — Main Street"),
                subtitle: format!("go.example.com/r/S{number:04}x"),
            })
            .collect()
    }

    #[test]
    fn paper_names_parse_in_any_case() {
        assert_eq!("A4".parse::<Paper>().unwrap(), Paper::A4);
        assert_eq!("letter".parse::<Paper>().unwrap(), Paper::Letter);
        let error = "legal".parse::<Paper>().unwrap_err().to_string();
        assert!(error.contains("a4 or letter"), "{error}");
    }

    #[test]
    fn the_grid_leaves_at_least_10_mm_on_both_papers() {
        for paper in [Paper::A4, Paper::Letter] {
            let (width, height) = paper.size_mm();
            let (left, top) = cell_origin_mm(paper, 0);
            let (right, bottom) = cell_origin_mm(paper, CELLS_PER_PAGE - 1);
            assert!(left >= 10.0 && top >= 10.0, "{paper:?}");
            assert!(width - (right + CELL_WIDTH_MM) >= 10.0, "{paper:?}");
            assert!(height - (bottom + CELL_HEIGHT_MM) >= 10.0, "{paper:?}");
        }
    }

    #[test]
    fn a_long_title_shrinks_and_wraps_instead_of_being_cut() {
        let mut items = stores(1);
        items[0].title =
            "The Downtown Flagship Store and Customer Service Centre at Harbour".into();
        let cells = prepare(&items, Some("Scan to chat"), true).unwrap();
        let title_lines: Vec<_> = cells[0]
            .lines
            .iter()
            .filter(|line| !line.secondary)
            .collect();
        assert_eq!(title_lines.len(), 2);
        assert!(title_lines[0].size < TITLE_SIZES[0]);
        let words: Vec<_> = title_lines.iter().map(|line| line.text.as_str()).collect();
        assert_eq!(words.join(" "), items[0].title);
        assert_eq!(cells[0].lines.len(), 4);
    }

    #[test]
    fn a_title_that_cannot_fit_is_refused_naming_the_item() {
        let mut items = stores(3);
        items[2].title = "Store ".repeat(40);
        let error = prepare(&items, None, false).err().unwrap().to_string();
        assert!(
            error.contains("item 3") && error.contains("never cut"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_sheet_is_refused() {
        assert!(prepare(&[], None, true).is_err());
    }
}
