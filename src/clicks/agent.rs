//! What a user agent says about a visitor (person or bot; device, OS, browser), worked out
//! once per distinct agent. Real traffic repeats a few thousand agents, and classifying one
//! (substring automata, a regex) and naming its device (uap-core's ~1,000 regexes) costs
//! far more than a hash lookup, so the answers are kept in a bounded map.

use std::collections::HashMap;

use super::{
    ClickClass,
    classify::Classifier,
    device::{DeviceInfo, DeviceParser},
};

/// Distinct agents remembered before the map starts over; bounds memory when a client sends
/// a new agent with every request (about 1 KB per entry: the agent and its answer).
pub const KNOWN_AGENTS: usize = 10_000;

/// One agent's answer. `class` is `Human` or `Bot`; a prefetch is told by the request's
/// headers, not by its agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub class: ClickClass,
    pub device: DeviceInfo,
}

/// Parses user agents, remembering the answers. Building it compiles the device regexes
/// (~150 ms), so the click writer builds it once, off the request path.
pub struct AgentParser {
    classifier: Classifier,
    devices: DeviceParser,
    known: HashMap<Box<str>, Agent>,
    limit: usize,
}

impl AgentParser {
    /// Compiles the classifier and the bundled device regexes.
    pub fn new() -> Self {
        Self::remembering(KNOWN_AGENTS)
    }

    /// A parser that remembers at most `limit` agents.
    pub fn remembering(limit: usize) -> Self {
        AgentParser {
            classifier: Classifier::new(),
            devices: DeviceParser::new(),
            known: HashMap::new(),
            limit,
        }
    }

    /// The answer for one request's agent; a request without one is a script (a bot).
    pub fn parse(&mut self, user_agent: Option<&str>) -> Agent {
        let Some(user_agent) = user_agent else {
            return Agent {
                class: self.classifier.classify(None, false),
                device: DeviceInfo::default(),
            };
        };
        if let Some(known) = self.known.get(user_agent) {
            return known.clone();
        }
        let agent = Agent {
            class: self.classifier.classify(Some(user_agent), false),
            device: self.devices.parse(user_agent),
        };
        if self.known.len() >= self.limit {
            self.known.clear();
        }
        self.known.insert(user_agent.into(), agent.clone());
        agent
    }

    /// Distinct agents remembered now.
    pub fn remembered(&self) -> usize {
        self.known.len()
    }
}

impl Default for AgentParser {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

    #[test]
    fn a_remembered_answer_is_the_parsed_answer() {
        let mut parser = AgentParser::new();
        let first = parser.parse(Some(IPHONE));
        assert_eq!(first.class, ClickClass::Human);
        assert_eq!(first.device.os.as_deref(), Some("iOS"));
        assert_eq!(parser.parse(Some(IPHONE)), first);
        assert_eq!(parser.remembered(), 1);
        let bot = parser.parse(Some("TelegramBot (like TwitterBot)"));
        assert_eq!(bot.class, ClickClass::Bot);
        assert_eq!(parser.parse(None).class, ClickClass::Bot);
    }

    #[test]
    fn memory_stays_bounded_when_every_agent_is_new() {
        let mut parser = AgentParser::remembering(50);
        for i in 0..120 {
            let agent = parser.parse(Some(&format!("{IPHONE} n{i}")));
            assert_eq!(agent.class, ClickClass::Human);
            assert!(parser.remembered() <= 50);
        }
    }
}
