//! The report as a self-contained folder, to open, archive or send:
//!
//! - `index.html`: the report page, charts inline as SVG, stylesheet embedded, linking the
//!   two files below;
//! - `funnel.csv` (as given) and `funnel.json` (the report, pretty-printed);
//! - `funnel.png`, `cost_per_lead.png`, `leads_by_store.png`, `by_country.png`: the charts
//!   as pictures for slides and documents.
//!
//! Each file is written to a temporary file in the folder and renamed into place, so a
//! reader never sees half a file and a failed write leaves the previous version.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::figures::{self, Figures};
use super::html::{self, PageLinks};
use super::model::FunnelReport;
use crate::reports::charts::ChartError;

/// Why the report folder could not be written.
#[derive(thiserror::Error, Debug)]
pub enum FolderError {
    /// Creating the folder or writing one of its files failed.
    #[error("writing {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// The page could not be rendered.
    #[error("rendering the report page failed: {0}")]
    Template(#[from] askama::Error),
    /// The report could not be serialised as JSON.
    #[error("serialising the report as JSON failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes the report folder into `dir` (created if missing; files already there are
/// replaced) and returns the paths written, `index.html` first.
pub fn write(dir: &Path, report: &FunnelReport, csv: &str) -> Result<Vec<PathBuf>, FolderError> {
    let figures = figures::draw(report)?;
    let links = PageLinks {
        csv_url: Some("funnel.csv".to_owned()),
        json_url: Some("funnel.json".to_owned()),
    };
    let page = html::render(report, &figures, &links)?;
    let mut json = serde_json::to_vec_pretty(report)?;
    json.push(b'\n');

    std::fs::create_dir_all(dir).map_err(|source| FolderError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let Figures {
        funnel,
        cost_per_lead,
        leads_by_store,
        by_country,
    } = &figures;
    let files: [(&str, &[u8]); 7] = [
        ("index.html", page.as_bytes()),
        ("funnel.csv", csv.as_bytes()),
        ("funnel.json", &json),
        ("funnel.png", &funnel.png),
        ("cost_per_lead.png", &cost_per_lead.png),
        ("leads_by_store.png", &leads_by_store.png),
        ("by_country.png", &by_country.png),
    ];
    files
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            write_atomically(dir, &path, bytes)?;
            Ok(path)
        })
        .collect()
}

/// Writes `bytes` to a temporary file in `dir`, flushes it to disk, then renames it to
/// `path`. The temporary file is removed if anything fails. Files are readable by others
/// as far as the umask allows, like any file the user writes (a temporary file alone
/// would be private).
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), FolderError> {
    let io = |source| FolderError::Io {
        path: path.to_owned(),
        source,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".chatref-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(dir).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(path).map_err(|error| io(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::figures::sample;

    const NAMES: [&str; 7] = [
        "index.html",
        "funnel.csv",
        "funnel.json",
        "funnel.png",
        "cost_per_lead.png",
        "leads_by_store.png",
        "by_country.png",
    ];

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_every_file_and_nothing_else() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("report");
        let csv = "campaign,clicks\r\nx,1\r\n";
        let written = write(&dir, &sample(), csv).unwrap();
        let expected: Vec<PathBuf> = NAMES.iter().map(|name| dir.join(name)).collect();
        assert_eq!(written, expected);

        let mut sorted: Vec<String> = NAMES.iter().map(|name| name.to_string()).collect();
        sorted.sort();
        assert_eq!(names_in(&dir), sorted, "no temporary file left");

        let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert_eq!(index.matches("<svg").count(), 4, "charts inline");
        assert!(index.contains("href=\"funnel.csv\""));
        assert!(index.contains("href=\"funnel.json\""));
        assert!(index.contains("<style>"), "stylesheet embedded");
        assert!(!index.contains("<link"), "no external file");
        assert_eq!(
            std::fs::read_to_string(dir.join("funnel.csv")).unwrap(),
            csv
        );

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("funnel.json")).unwrap()).unwrap();
        assert_eq!(json["currency"], "USD");
        assert_eq!(json["from"], "2026-11-01");
        assert_eq!(json["campaigns"][2]["name"], "<script>alert(1)</script>");
        assert_eq!(json["by_kind"]["direct_to_chat"]["clicks"], 6_600);
        assert!(
            std::fs::read_to_string(dir.join("funnel.json"))
                .unwrap()
                .contains("\n  \"")
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The same mode as any file the user writes, not a temporary file's 0600.
            let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode();
            let plain = temp.path().join("plain");
            std::fs::write(&plain, "x").unwrap();
            assert_eq!(mode(&dir.join("index.html")), mode(&plain));
        }

        for name in &NAMES[3..] {
            let png = std::fs::read(dir.join(name)).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
        }
    }

    #[test]
    fn rewriting_replaces_files_in_place() {
        let temp = tempfile::tempdir().unwrap();
        write(temp.path(), &sample(), "old\n").unwrap();
        write(temp.path(), &sample(), "new\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(temp.path().join("funnel.csv")).unwrap(),
            "new\n"
        );
        assert_eq!(names_in(temp.path()).len(), NAMES.len());
    }

    #[test]
    fn a_failed_write_names_the_path_and_leaves_no_temporary_file() {
        let temp = tempfile::tempdir().unwrap();
        // A folder where index.html should go: the rename onto it fails.
        std::fs::create_dir(temp.path().join("index.html")).unwrap();
        std::fs::write(temp.path().join("index.html").join("keep"), "x").unwrap();
        let error = write(temp.path(), &sample(), "csv").unwrap_err();
        match &error {
            FolderError::Io { path, .. } => assert_eq!(path, &temp.path().join("index.html")),
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("index.html"), "{error}");
        assert_eq!(names_in(temp.path()), ["index.html"]);
    }

    #[test]
    fn a_folder_that_cannot_be_created_is_an_io_error() {
        let temp = tempfile::tempdir().unwrap();
        let file = temp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let error = write(&file.join("report"), &sample(), "csv").unwrap_err();
        assert!(matches!(error, FolderError::Io { .. }), "{error:?}");
    }

    /// Writes the sample report folder to `$REPORT_SAMPLE_DIR`, or `/tmp/report-sample`, to
    /// look at: `cargo test write_sample_report -- --ignored`. With `REPORT_SAMPLE_EMPTY=1`
    /// the report has no data at all, to look at the empty states.
    #[test]
    #[ignore = "writes files; run by hand to look at the page"]
    fn write_sample_report() {
        let dir =
            std::env::var("REPORT_SAMPLE_DIR").unwrap_or_else(|_| "/tmp/report-sample".into());
        let mut report = sample();
        if std::env::var_os("REPORT_SAMPLE_EMPTY").is_some() {
            report.campaigns.clear();
            report.breakdowns = Default::default();
            report.previous = None;
            report.notes.clear();
            for funnel in [
                &mut report.by_kind.direct_to_chat,
                &mut report.by_kind.landing_page,
            ] {
                *funnel = crate::reports::figures::empty_funnel();
            }
            report.comparison.cost_per_lead_ratio = None;
            report.comparison.click_to_lead.direct_to_chat = crate::reports::stats::wilson(0, 0);
            report.comparison.click_to_lead.landing_page = crate::reports::stats::wilson(0, 0);
            report.comparison.difference = crate::reports::stats::two_proportion(0, 0, 0, 0);
            report.comparison.verdict = "No clicks in this range yet.".into();
        }
        let csv =
            "campaign_id,campaign,kind,clicks,leads\r\n1,Black Friday,direct_to_chat,5120,1046\r\n";
        for path in write(Path::new(&dir), &report, csv).unwrap() {
            println!("{}", path.display());
        }
    }
}
