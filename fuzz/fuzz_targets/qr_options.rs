//! The QR options of `?size=…&caption=…` on arbitrary query strings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    let _ = chatref::qr::QrOptions::from_pairs(pairs);
});
