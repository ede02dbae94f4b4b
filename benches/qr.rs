//! `cargo bench --bench qr`: QR render speed for a 1000-px code and a 200-store print sheet,
//! each beside a baseline run in the same process: the `qrcode` crate's own renderer plus a
//! plain `image` PNG encode (no exact sizing, palette, DPI or caption).

use std::time::{Duration, Instant};

use chatref::qr::{self, Paper, QrOptions, SheetItem};
use image::{ImageEncoder, Luma, codecs::png::PngEncoder};

const TEXT: &str = "https://go.example.com/r/Ab3dE9xQ?via=qr";

/// Runs `f` repeatedly for about `budget` and returns the mean time per run.
fn time(budget: Duration, mut f: impl FnMut()) -> Duration {
    f();
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed() < budget {
        f();
        runs += 1;
    }
    started.elapsed() / runs
}

fn report(name: &str, ours: Duration, baseline: Option<Duration>) {
    let per_s = 1.0 / ours.as_secs_f64();
    match baseline {
        Some(base) => println!(
            "{name:<38} {:>9.3} ms  {per_s:>9.0}/s  baseline {:>7.3} ms  ratio {:.2}",
            ours.as_secs_f64() * 1e3,
            base.as_secs_f64() * 1e3,
            ours.as_secs_f64() / base.as_secs_f64()
        ),
        None => println!(
            "{name:<38} {:>9.3} ms  {per_s:>9.0}/s",
            ours.as_secs_f64() * 1e3
        ),
    }
}

fn main() {
    let budget = Duration::from_secs(2);
    let options = QrOptions {
        size_px: 1000,
        ..QrOptions::default()
    };
    let baseline_png = time(budget, || {
        let code = qrcode::QrCode::new(TEXT).unwrap();
        let image = code.render::<Luma<u8>>().min_dimensions(1000, 1000).build();
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                image.width(),
                image.height(),
                image::ExtendedColorType::L8,
            )
            .unwrap();
    });
    let baseline_svg = time(budget, || {
        let code = qrcode::QrCode::new(TEXT).unwrap();
        let _ = code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(1000, 1000)
            .build();
    });
    report(
        "PNG 1000 px",
        time(budget, || {
            qr::render_png(TEXT, &options).unwrap();
        }),
        Some(baseline_png),
    );
    let captioned = QrOptions {
        caption: Some("Scan to chat with us on WhatsApp".into()),
        ..options.clone()
    };
    report(
        "PNG 1000 px with caption",
        time(budget, || {
            qr::render_png(TEXT, &captioned).unwrap();
        }),
        Some(baseline_png),
    );
    report(
        "SVG 1000 px",
        time(budget, || {
            qr::render_svg(TEXT, &options).unwrap();
        }),
        Some(baseline_svg),
    );
    let items: Vec<SheetItem> = (1..=200)
        .map(|n| SheetItem {
            qr_text: format!("https://go.example.com/r/Store{n:04}?via=qr"),
            title: format!("Store {n}"),
            subtitle: format!("https://go.example.com/r/Store{n:04}"),
        })
        .collect();
    let single_page = time(budget, || {
        qr::sheet_pdf(&items[..12], Paper::A4, Some("Scan to chat")).unwrap();
    });
    report(
        "PDF sheet, 200 stores (17 pages)",
        time(budget, || {
            qr::sheet_pdf(&items, Paper::A4, Some("Scan to chat")).unwrap();
        }),
        Some(single_page),
    );
    report(
        "HTML sheet, 200 stores",
        time(budget, || {
            qr::sheet_svg_html(&items, Paper::A4, Some("Scan to chat")).unwrap();
        }),
        None,
    );
    println!("(PDF baseline: one 12-code page; the ratio shows how the sheet scales with pages)");
}
