//! Every platform's webhook parser on arbitrary bodies: the first byte picks the platform.
#![no_main]

use chatref::platforms::Platform;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let platform = Platform::ALL[usize::from(pick) % Platform::ALL.len()];
    let _ = platform.adapter().parse(body);
});
