//! Device, OS and browser from the user agent, with uap-core's regexes (Apache-2.0, bundled
//! in `data/uap/`) and the `ua-parser` crate. Building the parser takes ~150 ms, so it is
//! built once, off the request path, by the click writer; answers are remembered per agent
//! by [`super::agent::AgentParser`].

/// What a user agent says about the visitor's software; `None` where uap says "Other".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device: Option<String>,
    pub os: Option<String>,
    pub browser: Option<String>,
}

const REGEXES: &str = include_str!("../../data/uap/regexes.json");

/// Parses user agents.
pub struct DeviceParser {
    extractor: ua_parser::Extractor<'static>,
}

impl DeviceParser {
    /// Compiles the bundled regexes.
    pub fn new() -> Self {
        let regexes: ua_parser::Regexes<'static> =
            serde_json::from_str(REGEXES).expect("bundled uap regexes are valid JSON");
        DeviceParser {
            extractor: regexes.try_into().expect("bundled uap regexes compile"),
        }
    }

    /// Device, OS and browser of one user agent.
    pub fn parse(&self, user_agent: &str) -> DeviceInfo {
        let (browser, os, device) = self.extractor.extract(user_agent);
        let named = |s: &str| (s != "Other").then(|| s.to_owned());
        DeviceInfo {
            device: device.and_then(|d| named(&d.device)),
            os: os.and_then(|o| named(&o.os)),
            browser: browser.and_then(|b| named(&b.family)),
        }
    }
}

impl Default for DeviceParser {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_phones_desktops_and_in_app_browsers() {
        let parser = DeviceParser::new();
        let iphone = parser.parse("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1");
        assert_eq!(iphone.device.as_deref(), Some("iPhone"));
        assert_eq!(iphone.os.as_deref(), Some("iOS"));
        assert_eq!(iphone.browser.as_deref(), Some("Mobile Safari"));

        let desktop = parser.parse("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");
        assert_eq!(desktop.os.as_deref(), Some("Windows"));
        assert_eq!(desktop.browser.as_deref(), Some("Chrome"));
        assert_eq!(desktop.device, None);

        let instagram = parser.parse("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 300.0.0.0 (iPhone15,2; iOS 17_5; en_US; en; scale=3.00; 1179x2556; 500000000)");
        assert_eq!(instagram.browser.as_deref(), Some("Instagram"));
    }
}
