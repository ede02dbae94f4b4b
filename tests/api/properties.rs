//! Property tests: arbitrary input never panics the parsers that face the outside world,
//! a ref tag survives the round trip, and a tag with one character changed never verifies.

use chatref::{
    links::{ClickId, LinkCode, RefTag, TagKey},
    platforms::Platform,
    qr::QrOptions,
    reports::ReportRequest,
    secret::Secret,
    spend,
};
use proptest::prelude::*;

fn key() -> TagKey {
    TagKey::new(&Secret::new("property-key"))
}

/// JSON-looking or XML-looking bytes as well as noise, so parsers get past their first check.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "\\{\"(object|update_id|entry|events|message)\":[^}]{0,200}\\}"
            .prop_map(String::into_bytes),
        "<xml>(<[A-Za-z]{1,12}>[^<]{0,40}</[A-Za-z]{1,12}>){0,6}</xml>"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn platform_parsers_never_panic(body in payload()) {
        for platform in Platform::ALL {
            let _ = platform.adapter().parse(&body);
        }
    }

    #[test]
    fn ref_tags_round_trip_and_any_changed_character_is_refused(position in 0usize..64, replacement in "[A-Za-z0-9_-]") {
        let key = key();
        let code = LinkCode::generate();
        let click = ClickId::generate();
        let tag = RefTag::for_click(&key, &code, &click);
        let read = RefTag::verify(&key, &tag).expect("our own tag verifies");
        prop_assert_eq!(read.code.as_str(), code.as_str());
        prop_assert_eq!(read.click_id.as_ref().map(|c| c.as_str()), Some(click.as_str()));
        let index = position % tag.len();
        let mut changed: Vec<char> = tag.chars().collect();
        let new = replacement.chars().next().expect("one character");
        prop_assume!(changed[index] != new);
        changed[index] = new;
        let changed: String = changed.into_iter().collect();
        prop_assert!(RefTag::verify(&key, &changed).is_none(), "{} verified", changed);
    }

    #[test]
    fn arbitrary_text_never_verifies_as_a_tag(text in "\\PC{0,80}") {
        prop_assert!(RefTag::verify(&key(), &text).is_none());
        let _ = RefTag::find_in_text(&key(), &text);
    }

    #[test]
    fn spend_imports_never_panic(body in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        "(date,campaign,amount\n)?([0-9/.-]{0,12},[^,\n]{0,12},[0-9.,-]{0,10}\n){0,8}".prop_map(String::into_bytes),
        "(Campaign name;Day;Amount spent \\(BRL\\)\n)([^;\n]{0,10};[0-9/-]{0,10};[0-9., R$]{0,10}\n){0,8}".prop_map(String::into_bytes),
    ]) {
        let _ = spend::import::parse(&body);
    }

    #[test]
    fn qr_options_never_panic(pairs in proptest::collection::vec(("[a-z_]{0,8}", "\\PC{0,12}"), 0..6)) {
        let _ = QrOptions::from_pairs(pairs);
    }

    #[test]
    fn report_requests_never_panic(pairs in proptest::collection::vec(("[a-z]{0,8}", "\\PC{0,12}"), 0..6)) {
        let _ = ReportRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
}
