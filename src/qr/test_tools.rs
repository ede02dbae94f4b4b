//! Decoding generated codes in tests: `rqrr` for PNGs in memory, and the command-line tools
//! print shops use (`pdftoppm`, `rsvg-convert`, `zbarimg`) for PDFs and SVGs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Decodes the single QR code in a PNG and returns its text.
pub(crate) fn decode_png(png_bytes: &[u8]) -> String {
    let luma = image::load_from_memory(png_bytes)
        .expect("the PNG loads")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(luma);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "expected exactly one QR code in the image");
    grids[0].decode().expect("the QR code decodes").1
}

/// Finds `tool` on the PATH or fails the test naming the Debian package that provides it;
/// a missing tool must never turn into a silently skipped check.
pub(crate) fn require_tool(tool: &str, debian_package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|directory| directory.join(tool))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{tool}` is not installed; install the Debian package `{debian_package}`")
        })
}

/// Every QR code `zbarimg` finds in an image, one text per code.
pub(crate) fn zbar_decode(image: &Path) -> Vec<String> {
    let zbarimg = require_tool("zbarimg", "zbar-tools");
    let output = Command::new(zbarimg)
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(image)
        .output()
        .expect("zbarimg runs");
    // zbarimg exits with 4 when it finds nothing; the caller's comparison reports that.
    String::from_utf8(output.stdout)
        .expect("zbarimg prints UTF-8")
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Rasterises each item's cell of a PDF sheet on its own at 150 dpi and returns what
/// `zbarimg` reads there, in item order. Cell by cell is how a phone reads a sheet; zbar
/// scanning a whole page of codes at once misses some that read fine alone.
pub(crate) fn scan_sheet_cells(
    pdf: &[u8],
    paper: crate::qr::Paper,
    count: usize,
) -> Vec<Vec<String>> {
    let pdftoppm = require_tool("pdftoppm", "poppler-utils");
    let directory = tempfile::tempdir().unwrap();
    let pdf_path = directory.path().join("sheet.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    let px = |mm: f32| ((mm * 150.0 / 25.4).round() as i64).to_string();
    (0..count)
        .map(|position| {
            let cell = crate::qr::cell_box(paper, position);
            let page = (cell.page + 1).to_string();
            let stem = directory.path().join(format!("cell{position}"));
            let status = Command::new(&pdftoppm)
                .args(["-r", "150", "-png", "-singlefile", "-f", &page, "-l", &page])
                .args(["-x", &px(cell.x_mm), "-y", &px(cell.y_mm)])
                .args(["-W", &px(cell.width_mm), "-H", &px(cell.height_mm)])
                .arg(&pdf_path)
                .arg(&stem)
                .status()
                .unwrap();
            assert!(status.success(), "pdftoppm failed");
            zbar_decode(&stem.with_extension("png"))
        })
        .collect()
}
