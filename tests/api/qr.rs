//! QR codes over HTTP and the CLI, read back with real decoders (rqrr, and zbarimg after
//! pdftoppm for PDF sheets), then followed to check the scan is recorded.

use std::process::Command;

use chatref::{clicks::Via, qr::Paper};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, IPHONE, TestApp};

fn decode_png(bytes: &[u8]) -> String {
    let image = image::load_from_memory(bytes).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "expected one code");
    grids[0].decode().unwrap().1
}

async fn store_links(app: &TestApp, stores: &[&str]) -> (i64, Vec<Value>) {
    let campaign = app.campaign("direct_to_chat").await;
    let account = app.account("whatsapp", "15551234567", json!({})).await;
    let rows: Vec<Value> = stores.iter().map(|s| json!({"store": s})).collect();
    let (status, links) = app
        .post(
            &format!("/api/campaigns/{campaign}/links/bulk"),
            json!({"account_id": account, "stores": rows}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{links}");
    (campaign, links.as_array().unwrap().clone())
}

async fn every_code_decodes_to_the_scan_url_and_counts_as_a_scan(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let (_, links) = store_links(&app, &["Store 1"]).await;
    let link = &links[0];
    let id = link["id"].as_i64().unwrap();
    let expected = format!("{}?via=qr", link["short_url"].as_str().unwrap());
    for ecc in ["L", "M", "Q", "H"] {
        for caption in ["", "&caption=Scan%20to%20chat%20with%20us%20on%20WhatsApp"] {
            let response = app
                .api(
                    reqwest::Method::GET,
                    &format!("/api/links/{id}/qr.png?ecc={ecc}&size=500{caption}"),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["content-type"], "image/png");
            let bytes = response.bytes().await.unwrap();
            assert_eq!(
                decode_png(&bytes),
                expected,
                "ecc {ecc} caption {caption:?}"
            );
        }
    }
    let svg = app
        .api(reqwest::Method::GET, &format!("/api/links/{id}/qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));

    // Follow what a phone would read.
    let path = expected.replace("https://go.example.test", "");
    assert_eq!(app.follow(&path, IPHONE).await.status(), StatusCode::FOUND);
    let db = app.stop().await;
    let clicks = db.clicks_of_link(id).await.unwrap();
    assert_eq!(clicks.len(), 1);
    assert_eq!(clicks[0].via, Via::Qr);
}

async fn print_size_and_caching(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, links) = store_links(&app, &["Store 1"]).await;
    let id = links[0]["id"].as_i64().unwrap();
    let url = format!("/api/links/{id}/qr.png?size_mm=50&dpi=300");
    let first = app.api(reqwest::Method::GET, &url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.headers()["cache-control"], "private, max-age=86400");
    let image = image::load_from_memory(&first.bytes().await.unwrap()).unwrap();
    assert_eq!(image.width(), 591);
    let again = app
        .api(reqwest::Method::GET, &url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let other = app
        .api(reqwest::Method::GET, &format!("{url}&ecc=H"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        other.headers()["etag"].to_str().unwrap(),
        etag,
        "options are part of the tag"
    );
}

async fn bad_qr_requests_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (campaign, links) = store_links(&app, &["Store 1"]).await;
    let id = links[0]["id"].as_i64().unwrap();
    for (query, words) in [
        ("size=5", "100"),
        ("size=999999", "4000"),
        ("margin=99", "20"),
        ("dpi=5&size_mm=50", "72"),
        ("ecc=Z", "L, M, Q"),
        ("fg=ffffff&bg=000000", "inverted"),
        ("fg=777777&bg=888888", "contrast"),
        ("colour=red", "colour"),
        (
            "caption=Supercalifragilisticexpialidociouslyextraordinarilylongword",
            "caption",
        ),
    ] {
        let (status, body) = app.get(&format!("/api/links/{id}/qr.png?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{query}: {message}");
    }
    assert_eq!(
        app.get("/api/links/999/qr.png").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/campaigns/999/qr-sheet").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/campaigns/{campaign}/qr-sheet?format=doc"))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get(&format!("/api/campaigns/{campaign}/qr-sheet?paper=a3"))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

/// Rasterises each code's cell of a PDF sheet (as a phone would read one code) and returns
/// what zbarimg reads in each, in order.
fn decode_pdf(pdf: &[u8], paper: Paper, count: usize) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sheet.pdf");
    std::fs::write(&file, pdf).unwrap();
    let px = |mm: f32| ((mm * 150.0 / 25.4).round() as i64).to_string();
    (0..count)
        .map(|position| {
            let cell = chatref::qr::cell_box(paper, position);
            let page = (cell.page + 1).to_string();
            let stem = dir.path().join(format!("cell{position}"));
            let status = Command::new("pdftoppm")
                .args(["-r", "150", "-png", "-singlefile", "-f", &page, "-l", &page])
                .args([
                    "-x",
                    &px(cell.x_mm),
                    "-y",
                    &px(cell.y_mm),
                    "-W",
                    &px(cell.width_mm),
                    "-H",
                    &px(cell.height_mm),
                ])
                .arg(&file)
                .arg(&stem)
                .status()
                .expect("pdftoppm is missing: install Debian package poppler-utils");
            assert!(status.success());
            let output = Command::new("zbarimg")
                .args(["--raw", "-q"])
                .arg(stem.with_extension("png"))
                .output()
                .expect("zbarimg is missing: install Debian package zbar-tools");
            String::from_utf8(output.stdout)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn scan_urls(links: &[Value]) -> Vec<Vec<String>> {
    links
        .iter()
        .map(|l| vec![format!("{}?via=qr", l["short_url"].as_str().unwrap())])
        .collect()
}

async fn the_print_sheet_holds_every_store_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let stores: Vec<String> = (1..=14).map(|n| format!("Store {n}")).collect();
    let names: Vec<&str> = stores.iter().map(String::as_str).collect();
    let (campaign, links) = store_links(&app, &names).await;
    let expected = scan_urls(&links);
    for (paper, size) in [("a4", Paper::A4), ("letter", Paper::Letter)] {
        let response = app
            .api(
                reqwest::Method::GET,
                &format!(
                    "/api/campaigns/{campaign}/qr-sheet?paper={paper}&caption=Scan%20to%20chat"
                ),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert_eq!(
            decode_pdf(&response.bytes().await.unwrap(), size, links.len()),
            expected,
            "{paper}"
        );
    }
    let html = app
        .api(
            reqwest::Method::GET,
            &format!("/api/campaigns/{campaign}/qr-sheet?format=html"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let text = html.text().await.unwrap();
    assert_eq!(text.matches("<svg").count(), 14);
    assert!(text.contains("Store 14"));
}

async fn the_cli_writes_sheets_and_zips(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (campaign, links) = store_links(&app, &["North", "South", "East"]).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chatref"))
            .args(args)
            .env("CHATREF_DATABASE_URL", &app.database.url)
            .env("CHATREF_PUBLIC_URL", "https://go.example.test")
            .output()
            .unwrap()
    };
    let campaign = campaign.to_string();
    let zip_path = dir.path().join("codes.zip");
    let out = run(&[
        "qr",
        "zip",
        "--campaign",
        &campaign,
        "--out",
        zip_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    assert_eq!(archive.len(), 3);
    let mut decoded = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        assert!(file.name().ends_with(".png"));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
        decoded.push(decode_png(&bytes));
    }
    decoded.sort();
    let mut expected: Vec<String> = links
        .iter()
        .map(|l| format!("{}?via=qr", l["short_url"].as_str().unwrap()))
        .collect();
    expected.sort();
    assert_eq!(decoded, expected);

    let pdf = dir.path().join("sheet.pdf");
    let out = run(&[
        "qr",
        "sheet",
        "--campaign",
        &campaign,
        "--paper",
        "letter",
        "--out",
        pdf.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        decode_pdf(&std::fs::read(&pdf).unwrap(), Paper::Letter, links.len()),
        scan_urls(&links)
    );

    let bad = run(&[
        "qr",
        "code",
        "--link",
        "1",
        "--out",
        dir.path().join("x.png").to_str().unwrap(),
        "--option",
        "size=1",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(!dir.path().join("x.png").exists(), "nothing half-written");
}

async fn sheets_leave_off_inactive_links_and_wechat_links_without_a_code_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (campaign, links) = store_links(&app, &["Store 1", "Store 2", "Store 3"]).await;
    let wechat = app
        .account("wechat", "gh_a786fbe98353", json!({"token": "t"}))
        .await;
    let (status, scenes) = app
        .post(
            &format!("/api/campaigns/{campaign}/links/bulk"),
            json!({"account_id": wechat, "stores": [
                {"store": "Store 7"}, {"store": "Tienda Núñez"}, {"store": "Store 9"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{scenes}");
    let id = |link: &Value| link["id"].as_i64().unwrap();
    let (status, _) = crate::links::patch(&app, id(&links[1]), json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = crate::links::patch(
        &app,
        id(&scenes[2]),
        json!({"wechat_qr_url": "http://weixin.qq.com/q/02abcDEF"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let response = app
        .api(
            reqwest::Method::GET,
            &format!("/api/campaigns/{campaign}/qr-sheet?format=html"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let warning = response.headers()["x-chatref-warning"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        warning,
        format!(
            "2 WeChat links without a code URL were left off: Store 7 (link {}), Tienda N%C3%BA%C3%B1ez (link {})",
            id(&scenes[0]),
            id(&scenes[1])
        )
    );
    let html = response.text().await.unwrap();
    assert_eq!(html.matches("<svg").count(), 3, "Store 1, Store 3, Store 9");
    for shown in ["Store 1", "Store 3", "Store 9"] {
        assert!(html.contains(shown), "{shown}");
    }
    for left_off in ["Store 2", "Store 7", "Tienda"] {
        assert!(!html.contains(left_off), "{left_off}");
    }

    // The CLI leaves off the same links and says so.
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("codes.zip");
    let out = crate::links::chatref(
        &app.database,
        &[
            "qr",
            "zip",
            "--campaign",
            &campaign.to_string(),
            "--format",
            "svg",
            "--out",
            zip_path.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: 2 WeChat links without a code URL were left off: Store 7 (link {}), Tienda Núñez (link {})",
            id(&scenes[0]),
            id(&scenes[1])
        )),
        "{stderr}"
    );
    assert!(stderr.contains("1 inactive link left off"), "{stderr}");
    let archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut names: Vec<&str> = archive.file_names().collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[0].starts_with("Store_1-") && names[2].starts_with("Store_9-"),
        "{names:?}"
    );

    let html_path = dir.path().join("sheet.html");
    let out = crate::links::chatref(
        &app.database,
        &[
            "qr",
            "sheet",
            "--campaign",
            &campaign.to_string(),
            "--out",
            html_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: 2 WeChat links"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(3 codes)"));

    // Nothing left to print is an error that says why.
    let (_, only) = app
        .post(
            &format!(
                "/api/campaigns/{}/links",
                app.campaign("direct_to_chat").await
            ),
            json!({"account_id": wechat, "store": "Lonely"}),
        )
        .await;
    let response = app
        .api(
            reqwest::Method::GET,
            &format!(
                "/api/campaigns/{}/qr-sheet?format=html",
                only["campaign_id"]
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"]["message"].as_str().unwrap().contains(
            "has no links to print: 1 WeChat link without a code URL was left off: Lonely"
        ),
        "{answer}"
    );
}

crate::on_both_backends!(
    every_code_decodes_to_the_scan_url_and_counts_as_a_scan,
    print_size_and_caching,
    bad_qr_requests_are_refused,
    the_print_sheet_holds_every_store_code,
    the_cli_writes_sheets_and_zips,
    sheets_leave_off_inactive_links_and_wechat_links_without_a_code_url,
);
