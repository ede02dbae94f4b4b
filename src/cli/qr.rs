//! `chatref qr …`: one link's code as a file, a campaign's print sheet, or a ZIP of every
//! store's code (with a progress bar, since large store lists take a while).

use std::{io::Write, path::PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    config::Config,
    db::Db,
    qr::{self, Paper, QrOptions},
};

#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Write one link's code (`.png` or `.svg`, from the file name).
    Code {
        #[arg(long)]
        link: i64,
        #[arg(long)]
        out: PathBuf,
        /// Option as NAME=VALUE (repeatable): size, margin, ecc, fg, bg, caption, size_mm, dpi.
        #[arg(long = "option", value_name = "NAME=VALUE")]
        options: Vec<String>,
    },
    /// Write a print sheet of all the campaign's codes (`.pdf` or `.html`, from the file name).
    Sheet {
        #[arg(long)]
        campaign: i64,
        #[arg(long)]
        out: PathBuf,
        /// a4 or letter.
        #[arg(long, default_value = "a4")]
        paper: String,
        /// Line printed under every code, e.g. "Scan to chat with us on WhatsApp".
        #[arg(long)]
        caption: Option<String>,
    },
    /// Write a ZIP with one file per link (named after its store), PNG or SVG.
    Zip {
        #[arg(long)]
        campaign: i64,
        #[arg(long)]
        out: PathBuf,
        /// png or svg.
        #[arg(long, default_value = "png")]
        format: String,
        /// Option as NAME=VALUE (repeatable), as for `qr code`.
        #[arg(long = "option", value_name = "NAME=VALUE")]
        options: Vec<String>,
    },
}

fn parse_options(options: &[String]) -> anyhow::Result<QrOptions> {
    let pairs = options
        .iter()
        .map(|o| {
            o.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("`{o}` is not NAME=VALUE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(QrOptions::from_pairs(pairs)?)
}

fn extension(path: &std::path::Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Writes to a temporary file beside `out` and renames it, so a failure leaves no half file.
fn write_atomically(out: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes)?;
    file.persist(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

/// Tells on stderr which links a sheet or ZIP leaves off and why.
fn warn_left_off(printable: &qr::links::Printable) {
    if let Some(warning) = printable.warning() {
        eprintln!(
            "warning: {warning}; set the code URL with `chatref link update ID --wechat-qr-url …`"
        );
    }
    if printable.inactive > 0 {
        eprintln!(
            "note: {} inactive link{} left off",
            printable.inactive,
            if printable.inactive == 1 { "" } else { "s" }
        );
    }
}

pub async fn run(db: &Db, config: &Config, command: QrCommand) -> anyhow::Result<()> {
    match command {
        QrCommand::Code { link, out, options } => {
            let options = parse_options(&options)?;
            let link = db.link(link).await?;
            let text = config.qr_url(&link.code);
            let bytes = match extension(&out).as_str() {
                "png" => qr::render_png(&text, &options)?,
                "svg" => qr::render_svg(&text, &options)?.into_bytes(),
                _ => bail!("{} must end in .png or .svg", out.display()),
            };
            write_atomically(&out, &bytes)?;
            println!("wrote {} ({text})", out.display());
        }
        QrCommand::Sheet {
            campaign,
            out,
            paper,
            caption,
        } => {
            let paper: Paper = paper.parse()?;
            let printable = qr::links::printable_links(db, campaign).await?;
            warn_left_off(&printable);
            let items = qr::links::sheet_items(config, &printable.links);
            let bytes = match extension(&out).as_str() {
                "pdf" => qr::sheet_pdf(&items, paper, caption.as_deref())?,
                "html" => qr::sheet_svg_html(&items, paper, caption.as_deref())?.into_bytes(),
                _ => bail!("{} must end in .pdf or .html", out.display()),
            };
            write_atomically(&out, &bytes)?;
            println!("wrote {} ({} codes)", out.display(), items.len());
        }
        QrCommand::Zip {
            campaign,
            out,
            format,
            options,
        } => {
            let options = parse_options(&options)?;
            if !matches!(format.as_str(), "png" | "svg") {
                bail!("format `{format}` is not png or svg");
            }
            let printable = qr::links::printable_links(db, campaign).await?;
            warn_left_off(&printable);
            let links = printable.links;
            let progress = ProgressBar::new(links.len() as u64).with_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} codes {eta}")
                    .expect("static template"),
            );
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let entry = zip::write::SimpleFileOptions::default();
            for link in &links {
                let text = config.qr_url(&link.code);
                let bytes = if format == "png" {
                    qr::render_png(&text, &options)?
                } else {
                    qr::render_svg(&text, &options)?.into_bytes()
                };
                zip.start_file(format!("{}.{format}", qr::links::file_stem(link)), entry)?;
                zip.write_all(&bytes)?;
                progress.inc(1);
            }
            let bytes = zip.finish()?.into_inner();
            progress.finish_and_clear();
            write_atomically(&out, &bytes)?;
            println!("wrote {} ({} codes)", out.display(), links.len());
        }
    }
    Ok(())
}
