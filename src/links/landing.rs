//! Landing-page targets: the destination with UTM parameters (so the site's analytics see the
//! campaign) and `chatref_click=<tag>` (so the page can report views and form leads back).

use url::Url;

use super::Link;

/// The UTM parameters a link may set.
pub const UTM_KEYS: [&str; 5] = [
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

/// Builds the landing URL. Precedence: the link's `utm` overrides, then parameters already in
/// the destination, then defaults (`chatref`, the channel, the campaign name, the store or
/// label). `chatref_click` always carries the click tag when there is one.
pub fn landing_url(link: &Link, destination: &str, click_tag: Option<&str>) -> String {
    let Ok(mut url) = Url::parse(destination) else {
        return destination.to_owned();
    };
    let existing: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "chatref_click" && !link.utm.contains_key(k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let defaults = [
        ("utm_source", Some("chatref".to_owned())),
        ("utm_medium", Some(link.campaign_channel.clone())),
        ("utm_campaign", Some(link.campaign_name.clone())),
        (
            "utm_content",
            link.store.clone().or_else(|| link.label.clone()),
        ),
    ];
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (k, v) in &existing {
            query.append_pair(k, v);
        }
        for (k, v) in &link.utm {
            query.append_pair(k, v);
        }
        for (k, v) in defaults {
            let present = link.utm.contains_key(k) || existing.iter().any(|(e, _)| e == k);
            if let (false, Some(v)) = (present, v) {
                query.append_pair(k, &v);
            }
        }
        if let Some(tag) = click_tag {
            query.append_pair("chatref_click", tag);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn link(utm: &[(&str, &str)]) -> Link {
        Link {
            id: 1,
            campaign_id: 1,
            code: "Ab3dE9xQ".into(),
            account_id: None,
            platform: None,
            handle: None,
            destination_url: None,
            label: Some("Window poster".into()),
            store: None,
            prefill_text: None,
            utm: utm
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            wechat_qr_url: None,
            active: true,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            campaign_name: "Summer Sale".into(),
            campaign_channel: "ads".into(),
        }
    }

    fn pairs(url: &str) -> Vec<(String, String)> {
        Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }

    #[test]
    fn adds_defaults_and_the_click() {
        let url = landing_url(&link(&[]), "https://shop.example/sale", Some("TAG-1"));
        assert_eq!(
            pairs(&url),
            vec![
                ("utm_source".into(), "chatref".into()),
                ("utm_medium".into(), "ads".into()),
                ("utm_campaign".into(), "Summer Sale".into()),
                ("utm_content".into(), "Window poster".into()),
                ("chatref_click".into(), "TAG-1".into()),
            ]
        );
    }

    #[test]
    fn keeps_existing_parameters_and_lets_overrides_win() {
        let url = landing_url(
            &link(&[("utm_source", "facebook")]),
            "https://shop.example/?ref=x&utm_medium=cpc&utm_source=old&chatref_click=stale",
            Some("NEW"),
        );
        let p = pairs(&url);
        assert!(p.contains(&("ref".into(), "x".into())));
        assert!(p.contains(&("utm_medium".into(), "cpc".into())));
        assert!(p.contains(&("utm_source".into(), "facebook".into())));
        assert_eq!(p.iter().filter(|(k, _)| k == "utm_source").count(), 1);
        assert_eq!(p.iter().filter(|(k, _)| k == "utm_medium").count(), 1);
        assert_eq!(
            p.iter()
                .filter(|(k, _)| k == "chatref_click")
                .collect::<Vec<_>>(),
            vec![&("chatref_click".to_string(), "NEW".to_string())]
        );
    }
}
