//! Telling people from link-preview agents, crawlers and prefetches (PLATFORMS.md §9).
//!
//! Order matters: (1) our list of chat and social preview agents, (2) a guard that keeps
//! in-app browsers (Facebook, Instagram, LINE) as people, since their user agents carry
//! fields such as `FBCR/OrangeBotswana` that generic bot lists misread, (3) generic crawler
//! words (`…bot`, `crawl`, `spider`, HTTP libraries, headless browsers) and agents that name
//! no browser engine at all. A request without a user agent is a script, not a person.
//!
//! Step 3 is ours rather than the `iscrawl` crate's: iscrawl caches answers per thread keyed
//! by the string's *address*, length and edge bytes, so when the allocator reuses a buffer
//! for another agent of the same length and edges it returns the previous agent's answer.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use super::ClickClass;

/// Link-preview and crawler tokens, matched case-insensitively anywhere in the user agent.
const PREVIEW_TOKENS: &[&str] = &[
    "facebookexternalhit",
    "facebot",
    "facebookcatalog",
    "meta-externalagent",
    "meta-externalfetcher",
    "meta-externalads",
    "telegrambot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "linkedinbot",
    "discordbot",
    "skypeuripreview",
    "viberurldownloader",
    "line-poker",
    "linespider",
    "kakaotalk-scrap",
    "applebot",
    "snap url preview",
    "googlebot",
    "google-pagerenderer",
    "google-inspectiontool",
    "bingbot",
    "bingpreview",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "mastodon/",
    "yandexbot",
];

/// Markers of in-app browsers: real people reading inside a chat or social app.
const IN_APP_MARKERS: &[&str] = &["FBAN/", "FBAV/", "FB_IAB/", "Instagram ", " Line/"];

/// Generic crawler words; `bot` only as the end of a word or before a separator.
const CRAWLER_PATTERN: &str = r"(?i)bot(?:$|[^a-z0-9])|crawl|spider|slurp|scrap|preview|fetcher|monitor|checker|validator|http-?client|python-|aiohttp|go-http|okhttp|curl/|wget/|libwww|java/|axios|node-fetch|headless|phantomjs|lighthouse|pingdom|uptime";

/// Tokens every real browser's agent carries.
const BROWSER_ENGINES: &[&str] = &["mozilla/", "gecko", "webkit", "trident", "presto", "opera"];

/// Classifies requests; build once and share.
pub struct Classifier {
    previews: AhoCorasick,
    in_app: AhoCorasick,
    crawler: Regex,
    engines: AhoCorasick,
}

impl Default for Classifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Classifier {
    /// Builds the matchers (microseconds; no files needed).
    pub fn new() -> Self {
        Classifier {
            previews: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .build(PREVIEW_TOKENS)
                .expect("static patterns compile"),
            in_app: AhoCorasick::new(IN_APP_MARKERS).expect("static patterns compile"),
            crawler: Regex::new(CRAWLER_PATTERN).expect("static pattern compiles"),
            engines: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(BROWSER_ENGINES)
                .expect("static patterns compile"),
        }
    }

    /// The class of one request. `prefetch` is what the request's method and purpose
    /// headers said.
    pub fn classify(&self, user_agent: Option<&str>, prefetch: bool) -> ClickClass {
        if prefetch {
            return ClickClass::Prefetch;
        }
        let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
            return ClickClass::Bot;
        };
        // WhatsApp's preview agent starts with `WhatsApp/`; matching it anywhere could catch
        // a browser that mentions the app.
        if self.previews.is_match(ua)
            || ua
                .get(..9)
                .is_some_and(|p| p.eq_ignore_ascii_case("whatsapp/"))
        {
            return ClickClass::Bot;
        }
        if self.in_app.is_match(ua) {
            return ClickClass::Human;
        }
        // Cubot is a phone brand (`CUBOT_X30`), not a crawler.
        let without_brand = ua.replace("CUBOT", "").replace("Cubot", "");
        if self.crawler.is_match(&without_brand) || !self.engines.is_match(ua) {
            ClickClass::Bot
        } else {
            ClickClass::Human
        }
    }
}

/// Whether request headers mark a prefetch or preview rather than a visit.
pub fn is_prefetch(method_is_head: bool, header: impl Fn(&str) -> Option<String>) -> bool {
    if method_is_head {
        return true;
    }
    let has = |name: &str, wanted: &str| {
        header(name).is_some_and(|v| {
            v.split([';', ','])
                .any(|part| part.trim().eq_ignore_ascii_case(wanted))
        })
    };
    has("x-purpose", "preview")
        || has("purpose", "prefetch")
        || has("sec-purpose", "prefetch")
        || has("x-moz", "prefetch")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The preview agents listed in PLATFORMS.md §9.1, verbatim.
    const PREVIEW_AGENTS: &[&str] = &[
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "facebookexternalhit/1.1",
        "Facebot/1.0",
        "Mozilla/5.0 (compatible; FacebookCatalog/1.0)",
        "Mozilla/5.0 (compatible; meta-externalagent/1.1)",
        "Mozilla/5.0 (compatible; meta-externalfetcher/1.1)",
        "Mozilla/5.0 (compatible; meta-externalads/1.0; +http://www.facebook.com/externalhit_uatext.php)",
        "WhatsApp/2.21.12.21 A",
        "whatsapp/2.2123.8 n",
        "WhatsApp/3.0.0.0 A",
        "TelegramBot (like TwitterBot)",
        "Twitterbot/1.0",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
        "ViberUrlDownloader",
        "facebookexternalhit/1.1;line-poker/1.0",
        "Mozilla/5.0 (compatible; linespider/1.1; +https://lin.ee/4dwxkth)",
        "facebookexternalhit/1.1;kakaotalk-scrap/1.0; +https://devtalk.kakao.com/t/scrap/33984",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/600.2.5 (KHTML, like Gecko) Version/8.0.2 Safari/600.2.5 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "Snap URL Preview Service; bot; snapchat; https://developers.snap.com/robots",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Google-PageRenderer",
    ];

    /// Real people: desktop and phone browsers and the in-app browsers of chat apps.
    const PEOPLE: &[&str] = &[
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.0;FBBV/600000000;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/OrangeBotswana;FBID/phone;FBLC/en_US;FBOP/5]",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 300.0.0.0 (iPhone15,2; iOS 17_5; en_US; en; scale=3.00; 1179x2556; 500000000)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.20.1",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Telegram-Android/10.0",
        "Mozilla/5.0 (Linux; Android 13; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0",
    ];

    /// Crawlers and scripts that are not in our preview list.
    const CRAWLERS: &[&str] = &[
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "python-requests/2.31.0",
        "curl/8.5.0",
        "Go-http-client/2.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "okhttp/4.12.0",
    ];

    #[test]
    fn generic_crawlers_and_scripts_are_bots() {
        let c = Classifier::new();
        for ua in CRAWLERS {
            assert_eq!(c.classify(Some(ua), false), ClickClass::Bot, "{ua}");
        }
    }

    #[test]
    fn preview_agents_are_bots() {
        let c = Classifier::new();
        for ua in PREVIEW_AGENTS {
            assert_eq!(c.classify(Some(ua), false), ClickClass::Bot, "{ua}");
        }
    }

    #[test]
    fn people_in_browsers_and_chat_apps_are_human() {
        let c = Classifier::new();
        for ua in PEOPLE {
            assert_eq!(c.classify(Some(ua), false), ClickClass::Human, "{ua}");
        }
    }

    /// The redirect benchmark's agents (`benches/data/user-agents.txt`) are labelled
    /// `human` or `bot`; the benchmark's accounting relies on the labels being right.
    #[test]
    fn the_benchmark_agent_mix_is_classified_as_labelled() {
        let c = Classifier::new();
        let corpus = include_str!("../../benches/data/user-agents.txt");
        let mut seen = 0;
        for line in corpus.lines().filter(|l| !l.starts_with('#')) {
            let (label, ua) = line.split_once(' ').expect("`label agent` lines");
            let expected = ClickClass::parse(label).expect("human or bot");
            assert_eq!(c.classify(Some(ua), false), expected, "{ua}");
            seen += 1;
        }
        assert!(seen > 300, "the mix has hundreds of agents");
    }

    #[test]
    fn prefetch_wins_and_a_missing_agent_is_a_bot() {
        let c = Classifier::new();
        assert_eq!(c.classify(Some(PEOPLE[0]), true), ClickClass::Prefetch);
        assert_eq!(c.classify(None, false), ClickClass::Bot);
        assert_eq!(c.classify(Some("  "), false), ClickClass::Bot);
    }

    #[test]
    fn purpose_headers_mark_prefetches() {
        let headers = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(is_prefetch(true, headers(&[])));
        assert!(is_prefetch(false, headers(&[("x-purpose", "preview")])));
        assert!(is_prefetch(
            false,
            headers(&[("sec-purpose", "prefetch;prerender")])
        ));
        assert!(is_prefetch(false, headers(&[("purpose", "prefetch")])));
        assert!(!is_prefetch(
            false,
            headers(&[("sec-purpose", "prerender")])
        ));
        assert!(!is_prefetch(false, headers(&[])));
    }
}
