//! Prometheus metrics (one registry per running app, no global state) and log set-up.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::{clicks::ClickClass, platforms::Platform};

/// Labels of an HTTP request count: the matched route pattern, never the raw path, so codes
/// and ids do not explode the series count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    task: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabels {
    platform: &'static str,
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    clicks: Family<ClassLabels, Counter>,
    clicks_dropped: Counter,
    clicks_failed: Counter,
    queue_depth: Gauge,
    clicks_writing: Gauge,
    clicks_pending: Gauge,
    /// Connections closed at once because the connection cap was reached.
    pub connections_refused: Counter,
    /// Redirect lookups of a code the database does not have (unknown codes are then
    /// remembered for a minute, so repeats cost nothing).
    pub unknown_code_lookups: Counter,
    webhook_entries_skipped: Family<PlatformLabels, Counter>,
    webhook_events_unrouted: Family<PlatformLabels, Counter>,
    task_restarts: Family<TaskLabels, Counter>,
    tasks_down: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("chatref");
        let requests = Family::<RequestLabels, Counter>::default();
        let clicks = Family::<ClassLabels, Counter>::default();
        let clicks_dropped = Counter::default();
        let clicks_failed = Counter::default();
        let queue_depth = Gauge::default();
        let clicks_writing = Gauge::default();
        let clicks_pending = Gauge::default();
        let connections_refused = Counter::default();
        let unknown_code_lookups = Counter::default();
        let webhook_entries_skipped = Family::<PlatformLabels, Counter>::default();
        let webhook_events_unrouted = Family::<PlatformLabels, Counter>::default();
        let task_restarts = Family::<TaskLabels, Counter>::default();
        let tasks_down = Gauge::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "clicks",
            "Clicks stored, by class (human, bot, prefetch)",
            clicks.clone(),
        );
        registry.register(
            "clicks_dropped",
            "Clicks not recorded because the click queue was full",
            clicks_dropped.clone(),
        );
        registry.register(
            "clicks_failed",
            "Clicks lost because the database refused the batch after retries",
            clicks_failed.clone(),
        );
        registry.register(
            "click_queue_depth",
            "Clicks waiting for the writer",
            queue_depth.clone(),
        );
        registry.register(
            "clicks_writing",
            "Clicks the writer has taken off the queue and is inserting (retries included)",
            clicks_writing.clone(),
        );
        registry.register(
            "clicks_pending",
            "Clicks taken off the queue and enriched, waiting for the database",
            clicks_pending.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections closed at once because CHATREF_MAX_CONNECTIONS were open",
            connections_refused.clone(),
        );
        registry.register(
            "unknown_code_lookups",
            "Database lookups of short codes that no link has",
            unknown_code_lookups.clone(),
        );
        registry.register(
            "webhook_entries_skipped",
            "Entries of accepted webhook batches left out because they cannot be read (the body is kept)",
            webhook_entries_skipped.clone(),
        );
        registry.register(
            "webhook_events_unrouted",
            "Webhook events not recorded because no account of the platform has their recipient as external_id (the body is kept)",
            webhook_events_unrouted.clone(),
        );
        registry.register(
            "task_restarts",
            "Background tasks (click writer stages, webhook inbox) restarted after a panic",
            task_restarts.clone(),
        );
        registry.register(
            "tasks_down",
            "Background tasks that panicked and are not yet running again",
            tasks_down.clone(),
        );
        for platform in Platform::ALL {
            let labels = PlatformLabels {
                platform: platform.as_str(),
            };
            let _ = webhook_entries_skipped.get_or_create(&labels);
            let _ = webhook_events_unrouted.get_or_create(&labels);
        }
        for class in ClickClass::ALL {
            // Present from the start, so dashboards see 0 rather than no series.
            let _ = clicks.get_or_create(&ClassLabels {
                class: class.as_str(),
            });
        }
        Metrics {
            registry,
            requests,
            clicks,
            clicks_dropped,
            clicks_failed,
            queue_depth,
            clicks_writing,
            clicks_pending,
            connections_refused,
            unknown_code_lookups,
            webhook_entries_skipped,
            webhook_events_unrouted,
            task_restarts,
            tasks_down,
        }
    }

    /// Marks a background task as down after a panic.
    pub fn task_down(&self, task: &'static str) {
        self.tasks_down.inc();
        self.task_restarts.get_or_create(&TaskLabels { task }).inc();
    }

    /// Marks a background task as running again.
    pub fn task_restarted(&self, _task: &'static str) {
        self.tasks_down.dec();
    }

    /// Background tasks down now.
    pub fn tasks_down(&self) -> i64 {
        self.tasks_down.get()
    }

    /// Counts webhook entries skipped as unreadable.
    pub fn webhook_entries_skipped(&self, platform: Platform, count: u64) {
        self.webhook_entries_skipped
            .get_or_create(&PlatformLabels {
                platform: platform.as_str(),
            })
            .inc_by(count);
    }

    /// Counts webhook events sent to an id no account has.
    pub fn webhook_events_unrouted(&self, platform: Platform, count: u64) {
        self.webhook_events_unrouted
            .get_or_create(&PlatformLabels {
                platform: platform.as_str(),
            })
            .inc_by(count);
    }

    /// Counts one answered request.
    pub fn request(&self, labels: RequestLabels) {
        self.requests.get_or_create(&labels).inc();
    }

    /// Counts stored clicks of one class.
    pub fn clicks_stored(&self, class: ClickClass, count: u64) {
        self.clicks
            .get_or_create(&ClassLabels {
                class: class.as_str(),
            })
            .inc_by(count);
    }

    /// Counts a click dropped at a full queue.
    pub fn click_dropped(&self) {
        self.clicks_dropped.inc();
    }

    /// Counts clicks lost to a database failure.
    pub fn clicks_failed(&self, count: u64) {
        self.clicks_failed.inc_by(count);
    }

    /// Adds to (or, negative, takes from) the enriched clicks waiting for an inserter.
    pub fn clicks_pending(&self, change: i64) {
        self.clicks_pending.inc_by(change);
    }

    /// Adds to (or, negative, takes from) the clicks being inserted now.
    pub fn clicks_writing(&self, change: i64) {
        self.clicks_writing.inc_by(change);
    }

    /// Clicks lost to database failures so far.
    pub fn clicks_failed_total(&self) -> u64 {
        self.clicks_failed.get()
    }

    /// Clicks stored so far, every class.
    pub fn clicks_stored_total(&self) -> u64 {
        ClickClass::ALL
            .iter()
            .map(|class| {
                self.clicks
                    .get_or_create(&ClassLabels {
                        class: class.as_str(),
                    })
                    .get()
            })
            .sum()
    }

    /// Dropped clicks so far.
    pub fn dropped_total(&self) -> u64 {
        self.clicks_dropped.get()
    }

    /// The text exposition, with the queue depth read at scrape time.
    pub fn render(&self, queue_depth: usize) -> String {
        self.queue_depth
            .set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in files or journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
