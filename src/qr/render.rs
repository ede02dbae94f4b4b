//! One code as a PNG or an SVG, laid out identically in both.
//!
//! The image is `size_px` wide. The code and its quiet zone are drawn with whole-pixel modules
//! of `floor(size_px / (modules + 2 * margin))` px, centred in a `size_px` square and padded
//! with the background; fractional modules would blur edges and hurt scanning. A caption adds
//! up to three lines below that square, so a captioned image is taller than wide.

use std::fmt::Write as _;

use image::{GrayImage, Luma};

use super::caption::{ASCENT, BASELINE, LINE_HEIGHT, TextMeasure};
use super::options::QrOptions;
use super::{Modules, QrError, xml_escape};

/// Smallest module that still scans reliably once printed or shown on a screen.
const MIN_MODULE_PX: u32 = 2;

/// Caption font size as a share of the image width, and the smallest size used.
const CAPTION_SIZE_SHARE: f32 = 0.05;
const CAPTION_MIN_PX: f32 = 10.0;
/// Share of the image width the caption may use; the rest is a side margin.
const CAPTION_WIDTH_SHARE: f32 = 0.9;
const CAPTION_MAX_LINES: usize = 3;

/// Where everything goes, in pixels; shared by the PNG and SVG renderers.
struct Layout {
    width: u32,
    height: u32,
    module_px: u32,
    /// Top-left corner of the first module of the symbol (inside the quiet zone).
    symbol_x: u32,
    symbol_y: u32,
    caption: Option<CaptionLayout>,
}

struct CaptionLayout {
    font_px: f32,
    lines: Vec<String>,
    /// Baseline of the first line; later lines follow every `LINE_HEIGHT * font_px`.
    first_baseline: f32,
}

fn layout(modules: &Modules, options: &QrOptions) -> Result<Layout, QrError> {
    let size = options.size_px;
    let across = modules.width as u32 + 2 * options.margin;
    let module_px = size / across;
    if module_px < MIN_MODULE_PX {
        return Err(QrError::Invalid(format!(
            "{size} px is too small for this code: it is {across} modules across (with a margin \
             of {}), which needs at least {} px for {MIN_MODULE_PX} px modules; use a larger \
             size, a lower ecc or a shorter text",
            options.margin,
            MIN_MODULE_PX * across
        )));
    }
    let block = module_px * across;
    let padding = (size - block) / 2;
    let symbol_x = padding + module_px * options.margin;
    let symbol_y = symbol_x;
    let mut height = size;
    let caption = match &options.caption {
        None => None,
        Some(text) => {
            let measure = TextMeasure::new();
            let font_px = (size as f32 * CAPTION_SIZE_SHARE)
                .max(CAPTION_MIN_PX)
                .round();
            let max_width = size as f32 * CAPTION_WIDTH_SHARE;
            measure.check_glyphs("caption", text)?;
            let (font_px, lines) = measure
                .fit("caption", text, &[font_px], max_width, CAPTION_MAX_LINES)
                .map_err(|error| {
                    QrError::Invalid(format!(
                        "{error}; a caption gets at most {CAPTION_MAX_LINES} lines in a font \
                         that scales with the image width (about 30 characters a line)"
                    ))
                })?;
            // Keep the text out of the quiet zone and at least half a line from the symbol.
            let symbol_bottom = (symbol_y + module_px * modules.width as u32) as f32;
            let top = (size as f32).max(symbol_bottom + font_px / 2.0);
            let line_height = LINE_HEIGHT * font_px;
            height = (top + line_height * lines.len() as f32 + font_px / 2.0).ceil() as u32;
            Some(CaptionLayout {
                font_px,
                first_baseline: top + BASELINE * font_px,
                lines,
            })
        }
    };
    Ok(Layout {
        width: size,
        height,
        module_px,
        symbol_x,
        symbol_y,
        caption,
    })
}

/// Draws `text` as a QR code PNG exactly `options.size_px` wide (taller with a caption),
/// with the DPI in a pHYs chunk when `options.dpi` is set.
pub fn render_png(text: &str, options: &QrOptions) -> Result<Vec<u8>, QrError> {
    options.validate()?;
    let modules = Modules::encode(text, options.ecc)?;
    let layout = layout(&modules, options)?;

    // Draw coverage (0 = background, 255 = foreground) and let a palette map it to colours:
    // a third of the memory of RGB, and anti-aliased caption edges still blend exactly.
    let mut canvas = GrayImage::new(layout.width, layout.height);
    let stride = layout.width as usize;
    let module = layout.module_px as usize;
    let pixels: &mut [u8] = &mut canvas;
    let mut row_pixels = vec![0u8; stride];
    let runs: Vec<_> = modules.dark_runs().collect();
    for row_runs in runs.chunk_by(|a, b| a.0 == b.0) {
        let row = row_runs[0].0;
        row_pixels.fill(0);
        for &(_, column, length) in row_runs {
            let start = layout.symbol_x as usize + column * module;
            row_pixels[start..start + length * module].fill(255);
        }
        let top = layout.symbol_y as usize + row * module;
        for y in top..top + module {
            pixels[y * stride..(y + 1) * stride].copy_from_slice(&row_pixels);
        }
    }
    if let Some(caption) = &layout.caption {
        let measure = TextMeasure::new();
        let scale = measure.scale(caption.font_px);
        for (index, line) in caption.lines.iter().enumerate() {
            let baseline = caption.first_baseline + index as f32 * LINE_HEIGHT * caption.font_px;
            let x = (layout.width as f32 - measure.width(line, caption.font_px)) / 2.0;
            // imageproc puts the top of the ascent at `y`.
            let y = baseline - ASCENT * caption.font_px;
            imageproc::drawing::draw_text_mut(
                &mut canvas,
                Luma([255]),
                x.round() as i32,
                y.round() as i32,
                scale,
                measure.font(),
                line,
            );
        }
    }

    let palette: Vec<u8> = (0..=255u8)
        .flat_map(|coverage| {
            let colour = options.background.mix(options.foreground, coverage);
            [colour.r, colour.g, colour.b]
        })
        .collect();
    let mut png_bytes = Vec::with_capacity(16 * 1024);
    let mut encoder = png::Encoder::new(&mut png_bytes, layout.width, layout.height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(palette);
    encoder.set_compression(png::Compression::Fast);
    if let Some(dpi) = options.dpi {
        let per_metre = (f64::from(dpi) / 0.0254).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
    }
    let output_error = |error: png::EncodingError| QrError::Output(format!("PNG: {error}"));
    let mut writer = encoder.write_header().map_err(output_error)?;
    writer.write_image_data(&canvas).map_err(output_error)?;
    writer.finish().map_err(output_error)?;
    Ok(png_bytes)
}

/// Draws `text` as a QR code SVG with the same layout as [`render_png`]: `width`/`height` in
/// px, or in mm when `options.size_mm` is set; the caption is real text in DejaVu Sans.
pub fn render_svg(text: &str, options: &QrOptions) -> Result<String, QrError> {
    options.validate()?;
    let modules = Modules::encode(text, options.ecc)?;
    let layout = layout(&modules, options)?;
    let (width, height) = (layout.width, layout.height);
    let (outer_width, outer_height) = match options.size_mm {
        Some(millimetres) => (
            format!("{millimetres}mm"),
            format!(
                "{:.2}mm",
                millimetres * f64::from(height) / f64::from(width)
            ),
        ),
        None => (width.to_string(), height.to_string()),
    };
    let mut svg = String::with_capacity(modules.width * modules.width * 4 + 512);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{outer_width}" height="{outer_height}" viewBox="0 0 {width} {height}">"#
    );
    let _ = write!(
        svg,
        r#"<rect width="{width}" height="{height}" fill="{}"/>"#,
        options.background
    );
    let _ = write!(
        svg,
        r#"<path fill="{}" shape-rendering="crispEdges" transform="translate({} {}) scale({})" d="{}"/>"#,
        options.foreground,
        layout.symbol_x,
        layout.symbol_y,
        layout.module_px,
        modules.svg_path(0)
    );
    if let Some(caption) = &layout.caption {
        for (index, line) in caption.lines.iter().enumerate() {
            let baseline = caption.first_baseline + index as f32 * LINE_HEIGHT * caption.font_px;
            let _ = write!(
                svg,
                r#"<text x="{}" y="{baseline:.1}" font-family="DejaVu Sans, sans-serif" font-size="{}" text-anchor="middle" fill="{}">{}</text>"#,
                f64::from(width) / 2.0,
                caption.font_px,
                options.foreground,
                xml_escape(line)
            );
        }
    }
    svg.push_str("</svg>");
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::options::{Ecc, Rgb};
    use crate::qr::test_tools::{decode_png, require_tool, zbar_decode};

    const URL: &str = "https://go.example.com/r/Ab3dE9?via=qr";

    fn options(size_px: u32) -> QrOptions {
        QrOptions {
            size_px,
            ..QrOptions::default()
        }
    }

    fn png_size(png_bytes: &[u8]) -> (u32, u32) {
        let image = image::load_from_memory(png_bytes).unwrap();
        (image.width(), image.height())
    }

    #[test]
    fn every_ecc_level_decodes_to_the_input() {
        for ecc in [Ecc::L, Ecc::M, Ecc::Q, Ecc::H] {
            let png_bytes = render_png(
                URL,
                &QrOptions {
                    ecc,
                    ..options(600)
                },
            )
            .unwrap();
            assert_eq!(decode_png(&png_bytes), URL, "ecc {ecc}");
            assert_eq!(png_size(&png_bytes), (600, 600));
        }
    }

    #[test]
    fn small_and_large_sizes_decode_and_are_exactly_that_wide() {
        for size_px in [100, 137, 1000, 4000] {
            let png_bytes = render_png("https://go.example.com/r/x", &options(size_px)).unwrap();
            assert_eq!(png_size(&png_bytes), (size_px, size_px));
            assert_eq!(decode_png(&png_bytes), "https://go.example.com/r/x");
        }
    }

    #[test]
    fn a_captioned_code_is_taller_and_still_decodes() {
        for size_px in [300, 1000] {
            let captioned = QrOptions {
                caption: Some("Scan to chat with Store 12 — we answer in minutes".into()),
                ..options(size_px)
            };
            let png_bytes = render_png(URL, &captioned).unwrap();
            let (width, height) = png_size(&png_bytes);
            assert_eq!(width, size_px);
            assert!(height > width, "{width}x{height}");
            assert_eq!(decode_png(&png_bytes), URL);
        }
    }

    #[test]
    fn custom_colours_decode() {
        let coloured = QrOptions {
            foreground: "#003366".parse().unwrap(),
            background: "#ffffcc".parse().unwrap(),
            caption: Some("Blue on cream".into()),
            margin: 2,
            ..options(500)
        };
        let png_bytes = render_png(URL, &coloured).unwrap();
        let image = image::load_from_memory(&png_bytes).unwrap().to_rgb8();
        assert_eq!(image.get_pixel(0, 0).0, [0xff, 0xff, 0xcc]);
        assert_eq!(decode_png(&png_bytes), URL);
    }

    #[test]
    fn size_in_mm_gives_pixels_and_embeds_the_dpi() {
        let query = [("size_mm", "50"), ("dpi", "300")]
            .map(|(name, value)| (name.to_string(), value.to_string()));
        let png_bytes = render_png(URL, &QrOptions::from_pairs(query).unwrap()).unwrap();
        assert_eq!(png_size(&png_bytes).0, 591);
        assert_eq!(decode_png(&png_bytes), URL);
        let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let reader = decoder.read_info().unwrap();
        let dims = reader.info().pixel_dims.unwrap();
        assert_eq!(
            (dims.xppu, dims.yppu, dims.unit),
            (11811, 11811, png::Unit::Meter)
        );
    }

    #[test]
    fn without_dpi_no_resolution_is_written() {
        let png_bytes = render_png(URL, &options(300)).unwrap();
        let reader = png::Decoder::new(std::io::Cursor::new(&png_bytes))
            .read_info()
            .unwrap();
        assert!(reader.info().pixel_dims.is_none());
    }

    #[test]
    fn modules_under_two_pixels_are_refused_with_the_minimum_size() {
        let long_text = format!("{URL}&{}", "x".repeat(150));
        let error = render_png(
            &long_text,
            &QrOptions {
                ecc: Ecc::H,
                ..options(100)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("needs at least") && error.contains("lower ecc"),
            "{error}"
        );
    }

    #[test]
    fn a_caption_that_cannot_fit_is_refused_not_cut() {
        let one_long_word = QrOptions {
            caption: Some("https://go.example.com/r/Ab3dE9-with-a-very-long-path".into()),
            ..options(300)
        };
        let error = render_png(URL, &one_long_word).unwrap_err().to_string();
        assert!(
            error.contains("is wider than the space") && error.contains("never cut"),
            "{error}"
        );
        let four_lines = QrOptions {
            caption: Some("word ".repeat(24)),
            ..options(200)
        };
        let error = render_svg(URL, &four_lines).unwrap_err().to_string();
        assert!(error.contains("more than 3 line(s)"), "{error}");
    }

    #[test]
    fn text_too_long_for_any_code_is_refused() {
        let error = render_png(
            &"x".repeat(3000),
            &QrOptions {
                ecc: Ecc::H,
                ..options(4000)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("too long for a QR code"), "{error}");
    }

    #[test]
    fn svg_matches_the_png_layout_and_escapes_the_caption() {
        let captioned = QrOptions {
            caption: Some("Tom & Jerry's <shop>".into()),
            foreground: Rgb {
                r: 0x11,
                g: 0x22,
                b: 0x33,
            },
            ..options(600)
        };
        let svg = render_svg(URL, &captioned).unwrap();
        let (_, height) = png_size(&render_png(URL, &captioned).unwrap());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains(&format!(r#"width="600" height="{height}""#)),
            "{svg}"
        );
        assert!(svg.contains(r#"shape-rendering="crispEdges""#));
        assert!(svg.contains("Tom &amp; Jerry&#39;s &lt;shop&gt;"), "{svg}");
        assert!(svg.contains(r##"fill="#112233""##));
    }

    #[test]
    fn svg_in_mm_gives_its_size_in_mm() {
        let query = [("size_mm", "50"), ("dpi", "300")]
            .map(|(name, value)| (name.to_string(), value.to_string()));
        let svg = render_svg(URL, &QrOptions::from_pairs(query).unwrap()).unwrap();
        assert!(
            svg.contains(r#"width="50mm" height="50.00mm" viewBox="0 0 591 591""#),
            "{svg}"
        );
    }

    #[test]
    fn a_rasterised_svg_decodes() {
        let rsvg = require_tool("rsvg-convert", "librsvg2-bin");
        let directory = tempfile::tempdir().unwrap();
        let (svg_path, png_path) = (
            directory.path().join("code.svg"),
            directory.path().join("code.png"),
        );
        let captioned = QrOptions {
            caption: Some("Scan me".into()),
            ..options(400)
        };
        std::fs::write(&svg_path, render_svg(URL, &captioned).unwrap()).unwrap();
        let status = std::process::Command::new(rsvg)
            .arg("-o")
            .arg(&png_path)
            .arg(&svg_path)
            .status()
            .unwrap();
        assert!(status.success(), "rsvg-convert failed");
        assert_eq!(zbar_decode(&png_path), vec![URL.to_string()]);
    }
}
