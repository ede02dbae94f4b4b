//! The print sheet as a PDF: vector codes and DejaVu Sans text, the font subset and embedded
//! so the sheet prints the same from any computer.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use super::{CELL_WIDTH_MM, CELLS_PER_PAGE, CODE_MM, CODE_TOP_MM, Cell, PT_PER_MM, QUIET_ZONE};
use super::{Paper, SheetItem, cell_origin_mm, prepare};
use crate::qr::QrError;
use crate::qr::caption::{DEJAVU_SANS, TextMeasure};

/// Grey of the short URL and caption: readable, but quieter than the title.
const SECONDARY_GREY: u8 = 0x44;

/// Lays out `items` 12 to a page (3 × 4) on `paper` and returns the PDF. Refuses items whose
/// text cannot fit its cell or uses characters DejaVu Sans lacks, naming the item.
pub fn sheet_pdf(
    items: &[SheetItem],
    paper: Paper,
    caption: Option<&str>,
) -> Result<Vec<u8>, QrError> {
    let cells = prepare(items, caption, true)?;
    let font = Font::new(DEJAVU_SANS.into(), 0)
        .ok_or_else(|| QrError::Output("the embedded font does not load".into()))?;
    let measure = TextMeasure::new();
    let (width_mm, height_mm) = paper.size_mm();
    let page_settings = PageSettings::from_wh(width_mm * PT_PER_MM, height_mm * PT_PER_MM)
        .ok_or_else(|| QrError::Output("invalid page size".into()))?;

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("QR codes ({} items)", items.len()))
            .creator("chatref".into()),
    );
    for page_cells in cells.chunks(CELLS_PER_PAGE) {
        let mut page = document.start_page_with(page_settings.clone());
        let mut surface = page.surface();
        for (index, cell) in page_cells.iter().enumerate() {
            let (left_mm, top_mm) = cell_origin_mm(paper, index);
            draw_cell(
                &mut surface,
                cell,
                left_mm * PT_PER_MM,
                top_mm * PT_PER_MM,
                &font,
                &measure,
            );
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|error| QrError::Output(format!("PDF: {error}")))
}

fn fill(grey: u8) -> Fill {
    Fill {
        paint: rgb::Color::new(grey, grey, grey).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn draw_cell(
    surface: &mut Surface<'_>,
    cell: &Cell,
    left: f32,
    top: f32,
    font: &Font,
    measure: &TextMeasure,
) {
    let cell_width = CELL_WIDTH_MM * PT_PER_MM;
    let code = CODE_MM * PT_PER_MM;
    let module = code / (cell.modules.width + 2 * QUIET_ZONE) as f32;
    let symbol_left = left + (cell_width - code) / 2.0 + QUIET_ZONE as f32 * module;
    let symbol_top = top + CODE_TOP_MM * PT_PER_MM + QUIET_ZONE as f32 * module;

    // One path per code: a single fill has no hairline seams between touching modules,
    // which separate rectangles can show when a viewer anti-aliases each one.
    let mut builder = PathBuilder::new();
    for (row, column, length) in cell.modules.dark_runs() {
        if let Some(rect) = Rect::from_xywh(
            symbol_left + column as f32 * module,
            symbol_top + row as f32 * module,
            length as f32 * module,
            module,
        ) {
            builder.push_rect(rect);
        }
    }
    if let Some(path) = builder.finish() {
        surface.set_fill(Some(fill(0)));
        surface.draw_path(&path);
    }

    for line in &cell.lines {
        let width = measure.width(&line.text, line.size);
        surface.set_fill(Some(fill(if line.secondary { SECONDARY_GREY } else { 0 })));
        surface.draw_text(
            Point::from_xy(left + (cell_width - width) / 2.0, top + line.baseline),
            font.clone(),
            line.size,
            &line.text,
            false,
            TextDirection::Auto,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::qr::sheet::tests::stores;
    use crate::qr::test_tools::{require_tool, scan_sheet_cells};

    #[test]
    fn every_code_on_a_two_page_sheet_scans_in_its_cell_on_a4_and_letter() {
        let items = stores(14);
        for paper in [Paper::A4, Paper::Letter] {
            let pdf = sheet_pdf(&items, paper, Some("Scan to chat with us")).unwrap();
            let cells = scan_sheet_cells(&pdf, paper, items.len());
            for (item, decoded) in items.iter().zip(cells) {
                assert_eq!(
                    decoded,
                    vec![item.qr_text.clone()],
                    "{paper:?} {}",
                    item.title
                );
            }
        }
    }

    #[test]
    fn two_hundred_stores_make_seventeen_pages() {
        let pdfinfo = require_tool("pdfinfo", "poppler-utils");
        let directory = tempfile::tempdir().unwrap();
        let pdf_path = directory.path().join("sheet.pdf");
        std::fs::write(
            &pdf_path,
            sheet_pdf(&stores(200), Paper::Letter, None).unwrap(),
        )
        .unwrap();
        let output = Command::new(pdfinfo).arg(&pdf_path).output().unwrap();
        let info = String::from_utf8_lossy(&output.stdout);
        assert!(
            info.lines()
                .any(|line| line.split_whitespace().eq(["Pages:", "17"])),
            "{info}"
        );
    }

    #[test]
    fn characters_the_embedded_font_lacks_are_refused() {
        let mut items = stores(2);
        items[1].title = "北京 店".into();
        let error = sheet_pdf(&items, Paper::A4, None).unwrap_err().to_string();
        assert!(
            error.contains("item 2") && error.contains("DejaVu Sans"),
            "{error}"
        );
    }
}
