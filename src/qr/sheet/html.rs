//! The print sheet as one HTML page with inline SVG codes, for people who print from a
//! browser. Same grid and text sizes as the PDF; each page is a fixed-size box in mm followed
//! by a page break, and `@page` sets the paper so the browser does not add its own margins.

use std::fmt::Write as _;

use super::{CELL_HEIGHT_MM, CELL_WIDTH_MM, CELLS_PER_PAGE, CODE_MM, CODE_TOP_MM, COLUMNS};
use super::{Paper, QUIET_ZONE, SheetItem, TEXT_WIDTH_MM, grid_origin_mm, prepare};
use crate::qr::{QrError, xml_escape};

/// Lays out `items` like [`super::sheet_pdf`] and returns a self-contained HTML document:
/// inline SVG codes, `@page { size: A4 }` (or `letter`), a page break every 12 cells. Refuses
/// the same texts the PDF refuses, except characters DejaVu Sans lacks, which browsers draw
/// with a fallback font.
pub fn sheet_svg_html(
    items: &[SheetItem],
    paper: Paper,
    caption: Option<&str>,
) -> Result<String, QrError> {
    let cells = prepare(items, caption, false)?;
    let (width, height) = paper.size_mm();
    let (grid_left, grid_top) = grid_origin_mm(paper);
    let mut html = String::with_capacity(cells.len() * 4096);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>QR codes ({count} items)</title>
<style>
@page {{ size: {page}; margin: 0 }}
html, body {{ margin: 0; padding: 0 }}
body {{ font-family: "DejaVu Sans", sans-serif; color: #000; -webkit-print-color-adjust: exact; print-color-adjust: exact }}
.page {{ position: relative; width: {width:.1}mm; height: {height:.1}mm; overflow: hidden; background: #fff; break-after: page }}
.page:last-child {{ break-after: auto }}
.grid {{ position: absolute; left: {grid_left:.2}mm; top: {grid_top:.2}mm; display: grid; grid-template-columns: repeat({COLUMNS}, {CELL_WIDTH_MM}mm); grid-auto-rows: {CELL_HEIGHT_MM}mm }}
.cell {{ display: flex; flex-direction: column; align-items: center; text-align: center }}
.cell svg {{ display: block; width: {CODE_MM}mm; height: {CODE_MM}mm; margin-top: {CODE_TOP_MM}mm; flex: none }}
.cell p {{ margin: 0; width: {TEXT_WIDTH_MM}mm; line-height: 1.25; overflow-wrap: anywhere }}
.cell .secondary {{ color: #444 }}
@media screen {{ body {{ background: #888 }} .page {{ margin: 10mm auto }} }}
</style>
</head>
<body>
"#,
        count = items.len(),
        page = paper.css_name(),
    );
    for page_cells in cells.chunks(CELLS_PER_PAGE) {
        html.push_str("<section class=\"page\"><div class=\"grid\">\n");
        for cell in page_cells {
            let side = cell.modules.width + 2 * QUIET_ZONE;
            let _ = write!(
                html,
                r##"<div class="cell"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" role="img" aria-label="QR code: {label}"><title>{title}</title><rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" shape-rendering="crispEdges" d="{path}"/></svg>"##,
                label = xml_escape(&cell.qr_text),
                title = xml_escape(&cell.title),
                path = cell.modules.svg_path(QUIET_ZONE),
            );
            // Consecutive lines of the same block (a wrapped title) share one paragraph so the
            // browser may rewrap them with its own font metrics.
            let mut lines = cell.lines.iter().peekable();
            while let Some(first) = lines.next() {
                let mut text = first.text.clone();
                while let Some(next) = lines.next_if(|next| {
                    next.secondary == first.secondary && next.size == first.size && !first.secondary
                }) {
                    text.push(' ');
                    text.push_str(&next.text);
                }
                let _ = write!(
                    html,
                    r#"<p{class} style="font-size: {size}pt">{text}</p>"#,
                    class = if first.secondary {
                        r#" class="secondary""#
                    } else {
                        ""
                    },
                    size = first.size,
                    text = xml_escape(&text),
                );
            }
            html.push_str("</div>\n");
        }
        html.push_str("</div></section>\n");
    }
    html.push_str("</body>\n</html>\n");
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::sheet::tests::stores;
    use crate::qr::test_tools::{require_tool, zbar_decode};

    #[test]
    fn one_svg_and_one_title_per_item_and_a_page_per_twelve() {
        let items = stores(14);
        let html = sheet_svg_html(&items, Paper::Letter, Some("Scan & chat")).unwrap();
        assert_eq!(html.matches("<svg").count(), 14);
        assert_eq!(html.matches("<title>Store ").count(), 14);
        assert_eq!(html.matches("<section class=\"page\">").count(), 2);
        assert!(html.contains("@page { size: letter; margin: 0 }"));
        assert!(html.contains("Scan &amp; chat"));
        for item in &items {
            assert!(html.contains(&item.subtitle), "{}", item.subtitle);
        }
        let a4 = sheet_svg_html(&items, Paper::A4, None).unwrap();
        assert!(a4.contains("@page { size: A4; margin: 0 }") && a4.contains("width: 210.0mm"));
    }

    #[test]
    fn html_titles_are_escaped_and_may_use_any_script() {
        let mut items = stores(1);
        items[0].title = "北京 <Flagship> & Co".into();
        let html = sheet_svg_html(&items, Paper::A4, None).unwrap();
        assert!(html.contains("北京 &lt;Flagship&gt; &amp; Co"), "{html}");
    }

    #[test]
    fn an_inline_code_scans_once_rasterised() {
        let rsvg = require_tool("rsvg-convert", "librsvg2-bin");
        let items = stores(3);
        let html = sheet_svg_html(&items, Paper::A4, None).unwrap();
        let start = html.find("<svg").unwrap();
        let end = start + html[start..].find("</svg>").unwrap() + "</svg>".len();
        let directory = tempfile::tempdir().unwrap();
        let (svg_path, png_path) = (
            directory.path().join("code.svg"),
            directory.path().join("code.png"),
        );
        std::fs::write(&svg_path, &html[start..end]).unwrap();
        let status = std::process::Command::new(rsvg)
            .args(["--width", "400", "--height", "400", "-o"])
            .arg(&png_path)
            .arg(&svg_path)
            .status()
            .unwrap();
        assert!(status.success(), "rsvg-convert failed");
        assert_eq!(zbar_decode(&png_path), vec![items[0].qr_text.clone()]);
    }
}
