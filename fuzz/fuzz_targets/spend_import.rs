//! The ad-spend CSV reader (Meta in three languages, Google Ads, plain) on arbitrary files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chatref::spend::import::parse(data);
});
