//! The ref-tag decoder on arbitrary text: never panics, and nothing but a tag signed with
//! the key verifies (a random input verifying would be a forged lead).
#![no_main]

use chatref::{
    links::{RefTag, TagKey},
    secret::Secret,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let key = TagKey::new(&Secret::new("fuzz-key"));
    if let Some(tag) = RefTag::verify(&key, text) {
        // Only possible by producing a valid MAC: report it as a finding.
        panic!("an arbitrary input verified as a tag: {text:?} -> {tag:?}");
    }
    let _ = RefTag::find_in_text(&key, text);
});
