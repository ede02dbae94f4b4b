//! QR codes for links: single codes as PNG or SVG, and print sheets as PDF or HTML.
//!
//! A code printed on a poster is only useful if every phone reads it, so the rules scanners
//! depend on are enforced here rather than left to the caller: a quiet zone (4 modules by
//! default), dark modules on a lighter background with enough contrast, and modules at least
//! 2 px wide. Sizes are exact (a 600 px request gives a 600 px wide image) because print
//! layouts are built around them; the code is drawn with whole-pixel modules and centred.
//!
//! Text under a code (a caption, a store name, a short URL) is never cut: when it does not fit
//! in the space allowed the request is refused with a message saying what would fit.
//!
//! - [`options`]: [`QrOptions`], parsed from query parameters and checked.
//! - [`render`]: one code as PNG ([`render_png`]) or SVG ([`render_svg`]).
//! - [`sheet`]: many codes on A4 or Letter pages ([`sheet_pdf`], [`sheet_svg_html`]).
//! - `caption`: the embedded DejaVu Sans font, text measuring and word wrapping.

pub mod cache;
mod caption;
pub mod links;
pub mod options;
pub mod render;
pub mod sheet;

#[cfg(test)]
mod test_tools;

pub use options::{Ecc, QrOptions, Rgb};
pub use render::{render_png, render_svg};
pub use sheet::{CellBox, Paper, SheetItem, cell_box, sheet_pdf, sheet_svg_html};

/// Why a code or sheet could not be made.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The request cannot be served as given (an option out of range, colours a scanner
    /// cannot read, text that does not fit); the message says what is allowed. HTTP 400.
    #[error("{0}")]
    Invalid(String),
    /// Encoding the finished image or document failed; not the caller's fault. HTTP 500.
    #[error("could not produce the output: {0}")]
    Output(String),
}

/// The module grid of one QR code, `true` for a dark module, row by row.
pub(crate) struct Modules {
    /// Modules per side, without the quiet zone.
    pub(crate) width: usize,
    dark: Vec<bool>,
}

impl Modules {
    /// Encodes `text` at the given error correction level.
    pub(crate) fn encode(text: &str, ecc: Ecc) -> Result<Modules, QrError> {
        if text.is_empty() {
            return Err(QrError::Invalid("the text to encode is empty".into()));
        }
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), ecc.level())
            .map_err(|error| match error {
                qrcode::types::QrError::DataTooLong => QrError::Invalid(format!(
                    "the text ({} bytes) is too long for a QR code at ecc {ecc}; \
                     use a shorter text or a lower ecc (L holds the most)",
                    text.len()
                )),
                other => QrError::Invalid(format!("the text cannot be encoded: {other}")),
            })?;
        Ok(Modules {
            width: code.width(),
            dark: code
                .into_colors()
                .into_iter()
                .map(|color| color == qrcode::Color::Dark)
                .collect(),
        })
    }

    /// Runs of dark modules in each row as `(row, first column, length)`; drawing runs
    /// instead of single modules keeps paths short and leaves no seams between modules.
    pub(crate) fn dark_runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.dark
            .chunks(self.width)
            .enumerate()
            .flat_map(|(row, cells)| {
                let mut runs = Vec::new();
                let mut column = 0;
                while column < cells.len() {
                    if cells[column] {
                        let start = column;
                        while column < cells.len() && cells[column] {
                            column += 1;
                        }
                        runs.push((row, start, column - start));
                    } else {
                        column += 1;
                    }
                }
                runs
            })
    }

    /// An SVG path (`d` attribute) of the dark modules, one unit per module, offset by
    /// `quiet_zone` modules so that a `viewBox` of `width + 2 * quiet_zone` shows the margin.
    pub(crate) fn svg_path(&self, quiet_zone: usize) -> String {
        use std::fmt::Write;
        let mut path = String::with_capacity(self.width * self.width);
        for (row, column, length) in self.dark_runs() {
            let _ = write!(
                path,
                "M{} {}h{length}v1h-{length}z",
                column + quiet_zone,
                row + quiet_zone
            );
        }
        path
    }
}

/// Escapes text for XML and HTML content and attribute values.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
