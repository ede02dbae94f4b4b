//! What the redirect keeps beside its cache of links by code: the codes the database did not
//! know (so scanners and typos cost one lookup a minute, not one each), and when it last
//! asked the database whether links changed in another process (the CLI, another instance).

use std::{
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use dashmap::DashMap;

/// Codes recently looked up and not found, each remembered for [`UnknownCodes::TTL`]. Bounded:
/// at [`UnknownCodes::CAPACITY`] codes the whole set is dropped and starts again, so a flood
/// of made-up codes costs memory of at most that many entries.
pub struct UnknownCodes {
    seen: DashMap<String, Instant>,
    capacity: usize,
    ttl: Duration,
}

impl Default for UnknownCodes {
    fn default() -> Self {
        Self::new(Self::CAPACITY, Self::TTL)
    }
}

impl UnknownCodes {
    /// Codes remembered at most.
    pub const CAPACITY: usize = 10_000;
    /// How long a code stays known as unknown.
    pub const TTL: Duration = Duration::from_secs(60);

    pub fn new(capacity: usize, ttl: Duration) -> Self {
        UnknownCodes {
            seen: DashMap::new(),
            capacity: capacity.max(1),
            ttl,
        }
    }

    /// Whether `code` was looked up and not found within the TTL.
    pub fn contains(&self, code: &str) -> bool {
        // The read guard is dropped before an expired entry is removed (same shard lock).
        let fresh = self.seen.get(code).map(|at| at.elapsed() < self.ttl);
        match fresh {
            Some(true) => true,
            Some(false) => {
                self.seen.remove_if(code, |_, at| at.elapsed() >= self.ttl);
                false
            }
            None => false,
        }
    }

    /// Remembers that the database has no link with `code`.
    pub fn insert(&self, code: &str) {
        if self.seen.len() >= self.capacity {
            self.seen.clear();
        }
        self.seen.insert(code.to_owned(), Instant::now());
    }

    /// Forgets one code (a link with it now exists or changed).
    pub fn forget(&self, code: &str) {
        self.seen.remove(code);
    }

    /// Forgets every code (links were created: codes are random, so any could be new).
    pub fn clear(&self) {
        self.seen.clear();
    }

    /// Codes remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Paces the question "did links change elsewhere?": at most one caller at a time, once per
/// [`ChangeWatch::INTERVAL`], gets a [`Check`]; every other caller goes on without waiting.
pub struct ChangeWatch {
    started: Instant,
    /// Milliseconds after `started` when the next check is due.
    due_ms: AtomicU64,
    checking: AtomicBool,
    /// The version last read; `None` before the first read.
    seen: Mutex<Option<Option<String>>>,
}

impl Default for ChangeWatch {
    fn default() -> Self {
        ChangeWatch {
            started: Instant::now(),
            due_ms: AtomicU64::new(0),
            checking: AtomicBool::new(false),
            seen: Mutex::new(None),
        }
    }
}

/// The right to check once; when dropped (finished, or abandoned with its request) the next
/// check is due one interval later.
pub struct Check<'a>(&'a ChangeWatch);

impl Drop for Check<'_> {
    fn drop(&mut self) {
        let next = self.0.elapsed_ms() + ChangeWatch::INTERVAL.as_millis() as u64;
        self.0.due_ms.store(next, Ordering::Relaxed);
        self.0.checking.store(false, Ordering::Release);
    }
}

impl ChangeWatch {
    /// How often the database is asked.
    pub const INTERVAL: Duration = Duration::from_millis(500);

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A check when one is due and nobody else is making it.
    pub fn begin(&self) -> Option<Check<'_>> {
        if self.elapsed_ms() < self.due_ms.load(Ordering::Relaxed) {
            return None;
        }
        if self.checking.swap(true, Ordering::Acquire) {
            return None;
        }
        Some(Check(self))
    }
}

impl Check<'_> {
    /// Records the version just read; `true` when it is not the one read last time (or this
    /// is the first read), meaning every cached link and unknown code must be dropped.
    pub fn changed(&self, version: Option<String>) -> bool {
        let mut seen = self.0.seen.lock().unwrap_or_else(|e| e.into_inner());
        let changed = seen.as_ref() != Some(&version);
        *seen = Some(version);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_expire_and_stay_bounded() {
        let codes = UnknownCodes::new(3, Duration::from_millis(50));
        codes.insert("AAAAAAAA");
        assert!(codes.contains("AAAAAAAA"));
        assert!(!codes.contains("BBBBBBBB"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!codes.contains("AAAAAAAA"), "expired");
        assert!(codes.is_empty(), "an expired code is removed when seen");
        for code in ["A", "B", "C"] {
            codes.insert(code);
        }
        assert_eq!(codes.len(), 3);
        codes.insert("D");
        assert_eq!(codes.len(), 1, "cleared at capacity");
        assert!(codes.contains("D"));
        codes.forget("D");
        assert!(!codes.contains("D"));
    }

    #[test]
    fn one_check_at_a_time_once_per_interval() {
        let watch = ChangeWatch::default();
        let check = watch.begin().expect("the first check is due at once");
        assert!(watch.begin().is_none(), "one at a time");
        assert!(check.changed(None), "the first read counts as a change");
        drop(check);
        assert!(watch.begin().is_none(), "not due again yet");
        watch.due_ms.store(0, Ordering::Relaxed);
        let check = watch.begin().unwrap();
        assert!(!check.changed(None));
        assert!(check.changed(Some("v2".into())));
        assert!(!check.changed(Some("v2".into())));
    }
}
