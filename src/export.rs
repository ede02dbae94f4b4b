//! CSV exports that are safe to open in a spreadsheet.
//!
//! Campaign names, store names and platform user ids come from outside. A cell that starts
//! with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel, Google
//! Sheets and LibreOffice (`=HYPERLINK(…)` exfiltrates, `@SUM(…)` computes); OWASP's advice
//! is to prefix such a cell with a single quote, which every spreadsheet shows as text.

use std::borrow::Cow;

/// The cell as a spreadsheet will show it as text.
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// Writes CSV rows of text cells into a string, every cell made [`safe_cell`].
pub struct CsvText {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvText {
    /// A CSV document starting with `header`.
    pub fn new<'a>(header: impl IntoIterator<Item = &'a str>) -> Self {
        let mut text = CsvText {
            writer: csv::Writer::from_writer(Vec::new()),
        };
        text.row(header);
        text
    }

    /// Appends one row.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        self.writer
            .write_record(cells.into_iter().map(|c| safe_cell(c).into_owned()))
            .expect("writing to memory cannot fail");
    }

    /// The document.
    pub fn finish(self) -> String {
        let bytes = self
            .writer
            .into_inner()
            .expect("flushing memory cannot fail");
        String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_shown_as_text() {
        for risky in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(safe_cell(risky), format!("'{risky}"));
        }
        for plain in ["Store 12", "", "12", "a=b", "'quoted"] {
            assert_eq!(safe_cell(plain), plain);
        }
    }

    #[test]
    fn documents_quote_and_neutralise_cells() {
        let mut csv = CsvText::new(["name", "note"]);
        csv.row(["=cmd|' /C calc'!A0", "a, \"b\""]);
        assert_eq!(
            csv.finish(),
            "name,note\n'=cmd|' /C calc'!A0,\"a, \"\"b\"\"\"\n"
        );
    }
}
