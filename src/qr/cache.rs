//! Rendered codes kept in memory, bounded in bytes rather than entries (one 4000-px PNG with
//! a caption is megabytes, a small SVG a few kilobytes).

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use dashmap::DashMap;

/// Bytes of rendered images kept before the cache starts over.
pub const CACHE_BYTES: usize = 32 * 1024 * 1024;
/// Larger images are served but never kept.
pub const MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

/// A byte-bounded map from ETag to rendered image.
#[derive(Debug)]
pub struct RenderCache {
    entries: DashMap<String, Bytes>,
    bytes: AtomicUsize,
    limit: usize,
}

impl Default for RenderCache {
    fn default() -> Self {
        Self::with_limit(CACHE_BYTES)
    }
}

impl RenderCache {
    /// A cache holding at most `limit` bytes of images.
    pub fn with_limit(limit: usize) -> Self {
        RenderCache {
            entries: DashMap::new(),
            bytes: AtomicUsize::new(0),
            limit,
        }
    }

    /// The image rendered under `tag`, if kept.
    pub fn get(&self, tag: &str) -> Option<Bytes> {
        self.entries.get(tag).map(|b| b.clone())
    }

    /// Keeps `body` under `tag`, starting over when the limit would be passed.
    pub fn insert(&self, tag: String, body: Bytes) {
        if body.len() > MAX_ENTRY_BYTES.min(self.limit) {
            return;
        }
        if self.bytes.load(Ordering::Relaxed) + body.len() > self.limit {
            self.entries.clear();
            self.bytes.store(0, Ordering::Relaxed);
        }
        let size = body.len();
        if let Some(old) = self.entries.insert(tag, body) {
            self.bytes.fetch_sub(old.len(), Ordering::Relaxed);
        }
        self.bytes.fetch_add(size, Ordering::Relaxed);
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_never_holds_more_than_its_limit() {
        let cache = RenderCache::with_limit(1_000);
        for i in 0..50 {
            cache.insert(format!("t{i}"), Bytes::from(vec![0u8; 300]));
            assert!(cache.bytes() <= 1_000);
        }
        assert!(cache.get("t49").is_some());
        cache.insert("big".into(), Bytes::from(vec![0u8; 2_000]));
        assert!(
            cache.get("big").is_none(),
            "bigger than the whole cache: not kept"
        );
        cache.insert("t49".into(), Bytes::from(vec![0u8; 10]));
        assert!(cache.bytes() <= 1_000);
    }
}
