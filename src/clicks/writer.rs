//! The click writer: background stages between the redirect and the database.
//!
//! **A full queue.** The redirect calls [`ClickQueue::record`]. With room in the bounded
//! queue the click is queued at once. When the queue is full the redirect waits up to
//! [`QUEUE_WAIT`] for room (the writer frees room continuously while it keeps up), and only
//! then drops the click: it is counted (`chatref_clicks_dropped_total`), logged (at most one
//! line per [`DROP_LOG_EVERY`]) and `/healthz` answers 503 for [`DROPS_UNHEALTHY_FOR`]. A
//! stalled database therefore costs each redirect at most `QUEUE_WAIT`, never an unbounded
//! wait, and any loss is visible.
//!
//! **Two stages.** The collector takes whatever clicks are queued (up to [`TAKE`] at a
//! time), enriches them (class, device and OS once per distinct user agent; country;
//! visitor hash) and adds them to its pending batch; whenever an inserter
//! is free it hands the whole pending batch over. So the queue drains as fast as clicks can
//! be enriched, and batches grow with load (group commit) while the database is busy, up to
//! [`MAX_PENDING`]. SQLite has one writer, so one inserter; PostgreSQL takes concurrent
//! inserts, so [`POSTGRES_INSERTERS`]. Every stage runs under [`supervise`]: a panic is
//! logged, counted and the stage restarted.
//!
//! **Shutdown.** The collector stops taking new clicks, drains the queue and hands over
//! what it holds; the inserters store everything handed to them, then the writer returns.

use std::{
    sync::{Arc, Mutex as SyncMutex},
    time::{Duration, Instant},
};

use tokio::{
    sync::{Mutex, mpsc, mpsc::error::TrySendError},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

use super::{ClickClass, RawClick, agent::AgentParser, geo::GeoIp, referrer_host};
use crate::{db::ClickRecord, db::Db, links::TagKey, supervise::supervise, telemetry::Metrics};

/// Longest a redirect waits for room in a full queue before dropping its click.
pub const QUEUE_WAIT: Duration = Duration::from_millis(50);
/// Most clicks the collector takes off the queue at a time.
pub const TAKE: usize = 256;
/// Most enriched clicks waiting for an inserter (never more than the queue's capacity);
/// beyond this the queue fills. Bounds memory to about twice the queue.
pub const MAX_PENDING: usize = 20_000;
/// Inserters on PostgreSQL (its server inserts batches in parallel).
pub const POSTGRES_INSERTERS: usize = 3;
/// Attempts at a batch before its clicks are counted as failed.
const ATTEMPTS: u32 = 5;
/// Longest user agent kept (for re-classifying later); the rest is cut.
const MAX_USER_AGENT: usize = 512;
/// At most one "clicks dropped" log line per this interval.
pub const DROP_LOG_EVERY: Duration = Duration::from_secs(10);
/// `/healthz` answers 503 for this long after a click was dropped.
pub const DROPS_UNHEALTHY_FOR: Duration = Duration::from_secs(10);

/// The sending side, held by the redirect handler.
#[derive(Clone)]
pub struct ClickQueue {
    sender: mpsc::Sender<RawClick>,
    metrics: Arc<Metrics>,
    last_drop: Arc<SyncMutex<Option<DropLog>>>,
}

struct DropLog {
    at: Instant,
    logged_at: Instant,
    unlogged: u64,
}

impl ClickQueue {
    /// Queues a click, waiting at most [`QUEUE_WAIT`] for room; returns false (and counts
    /// and logs it) if it was dropped.
    pub async fn record(&self, click: RawClick) -> bool {
        let click = match self.sender.try_send(click) {
            Ok(()) => return true,
            Err(TrySendError::Full(click)) => click,
            Err(TrySendError::Closed(_)) => return self.dropped(),
        };
        match tokio::time::timeout(QUEUE_WAIT, self.sender.send(click)).await {
            Ok(Ok(())) => true,
            _ => self.dropped(),
        }
    }

    fn dropped(&self) -> bool {
        self.metrics.click_dropped();
        let now = Instant::now();
        let mut last = self
            .last_drop
            .lock()
            .expect("the drop log is never poisoned");
        match last.as_mut() {
            Some(log) if now.duration_since(log.logged_at) < DROP_LOG_EVERY => {
                log.at = now;
                log.unlogged += 1;
            }
            _ => {
                let unlogged = last.as_ref().map_or(0, |l| l.unlogged);
                tracing::error!(
                    dropped_since_last_line = unlogged + 1,
                    total = self.metrics.dropped_total(),
                    "click queue full: clicks are being dropped (the database is not keeping up)"
                );
                *last = Some(DropLog {
                    at: now,
                    logged_at: now,
                    unlogged: 0,
                });
            }
        }
        false
    }

    /// Clicks waiting for the writer.
    pub fn depth(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    /// Whether a click was dropped within [`DROPS_UNHEALTHY_FOR`].
    pub fn dropping(&self) -> bool {
        let last = self
            .last_drop
            .lock()
            .expect("the drop log is never poisoned");
        last.as_ref()
            .is_some_and(|log| log.at.elapsed() < DROPS_UNHEALTHY_FOR)
    }
}

/// What the writer needs besides the queue.
#[derive(Clone)]
pub struct WriterContext {
    pub db: Db,
    pub geo: Arc<GeoIp>,
    pub key: TagKey,
    pub metrics: Arc<Metrics>,
}

type Shared<T> = Arc<Mutex<mpsc::Receiver<T>>>;

/// Starts the writer; it finishes after `shutdown` is cancelled and every queued click is
/// stored (or counted as failed).
pub fn spawn(
    context: WriterContext,
    capacity: usize,
    shutdown: CancellationToken,
) -> (ClickQueue, JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel(capacity);
    let queue = ClickQueue {
        sender,
        metrics: context.metrics.clone(),
        last_drop: Arc::default(),
    };
    let max_pending = capacity.clamp(1, MAX_PENDING);
    let inserters = match context.db {
        Db::Sqlite { .. } => 1,
        Db::Postgres(_) => POSTGRES_INSERTERS,
    };
    let handle = tokio::spawn(async move {
        let raw: Shared<RawClick> = Arc::new(Mutex::new(receiver));
        // One batch handed over and waiting while the inserters work on theirs.
        let (batches, batch_receiver) = mpsc::channel::<Vec<ClickRecord>>(1);
        let batch_receiver: Shared<Vec<ClickRecord>> = Arc::new(Mutex::new(batch_receiver));
        let mut inserting = tokio::task::JoinSet::new();
        for _ in 0..inserters {
            let (context, batch_receiver) = (context.clone(), batch_receiver.clone());
            inserting.spawn(supervise(
                "click_inserter",
                context.metrics.clone(),
                move || insert(context.clone(), batch_receiver.clone()),
            ));
        }
        let metrics = context.metrics.clone();
        supervise("click_collector", metrics, || {
            collect(
                context.clone(),
                raw.clone(),
                batches.clone(),
                max_pending,
                shutdown.clone(),
            )
        })
        .await;
        // The last sender goes: the inserters finish what was handed over, then return.
        drop(batches);
        inserting.join_all().await;
        tracing::info!("click writer flushed and stopped");
    });
    (queue, handle)
}

/// Turns raw clicks into records on a blocking thread; owns the per-agent memory.
struct Enricher {
    agents: AgentParser,
    geo: Arc<GeoIp>,
    key: TagKey,
}

impl Enricher {
    fn enrich(&mut self, click: RawClick) -> ClickRecord {
        let user_agent = click.user_agent.as_deref();
        let agent = self.agents.parse(user_agent);
        let class = if click.prefetch {
            ClickClass::Prefetch
        } else {
            agent.class
        };
        let geo = click.ip.map(|ip| self.geo.lookup(ip)).unwrap_or_default();
        let ip_text = click.ip.map(|ip| ip.to_canonical().to_string());
        let visitor = self.key.visitor_hash(&[
            ip_text.as_deref().unwrap_or_default(),
            user_agent.unwrap_or_default(),
        ]);
        ClickRecord {
            click_id: click.click_id.as_str().to_owned(),
            link_id: click.link_id,
            at: click.at,
            via: click.via,
            class,
            visitor,
            country: geo.country,
            region: geo.region,
            city: geo.city,
            device: agent.device.device,
            os: agent.device.os,
            browser: agent.device.browser,
            referrer_host: click.referrer.as_deref().and_then(referrer_host),
            user_agent: click.user_agent.map(|mut ua| {
                if ua.len() > MAX_USER_AGENT {
                    let mut end = MAX_USER_AGENT;
                    while !ua.is_char_boundary(end) {
                        end -= 1;
                    }
                    ua.truncate(end);
                }
                ua
            }),
        }
    }
}

/// The collector stage: queue → enrich → pending batch → a free inserter.
async fn collect(
    context: WriterContext,
    raw: Shared<RawClick>,
    batches: mpsc::Sender<Vec<ClickRecord>>,
    max_pending: usize,
    shutdown: CancellationToken,
) {
    // Compiling the device regexes takes ~150 ms of CPU: not on an async worker.
    let (geo, key) = (context.geo.clone(), context.key.clone());
    let Ok(mut enricher) = tokio::task::spawn_blocking(move || Enricher {
        agents: AgentParser::new(),
        geo,
        key,
    })
    .await
    else {
        tracing::error!("the click writer could not start");
        return;
    };
    // One collector at a time: a restarted collector takes over the same queue.
    let mut raw = raw.lock().await;
    let mut taken = Vec::with_capacity(TAKE);
    let mut pending = Vec::new();
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            permit = batches.reserve(), if !pending.is_empty() => match permit {
                Ok(permit) => permit.send(std::mem::take(&mut pending)),
                // Every inserter is gone: only when the runtime is shutting down.
                Err(_) => return,
            },
            received = raw.recv_many(&mut taken, TAKE), if pending.len() < max_pending => {
                if received == 0 {
                    break;
                }
                enrich(&context, &mut enricher, &mut taken, &mut pending);
            }
        }
    }
    // Stop accepting, then hand over everything already queued: nothing acknowledged is lost.
    raw.close();
    while raw.recv_many(&mut taken, TAKE).await > 0 {
        enrich(&context, &mut enricher, &mut taken, &mut pending);
        if pending.len() >= max_pending && batches.send(std::mem::take(&mut pending)).await.is_err()
        {
            return;
        }
    }
    if !pending.is_empty() {
        let _ = batches.send(pending).await;
    }
}

/// Enriches `taken` into `pending`. Inline on the async worker: with answers remembered
/// per user agent a click takes about a microsecond, so a take of [`TAKE`] holds the worker
/// for a fraction of a millisecond, less than handing it to a blocking thread would cost.
fn enrich(
    context: &WriterContext,
    enricher: &mut Enricher,
    taken: &mut Vec<RawClick>,
    pending: &mut Vec<ClickRecord>,
) {
    let count = taken.len();
    pending.extend(taken.drain(..).map(|c| enricher.enrich(c)));
    context.metrics.clicks_pending(count as i64);
}

/// The inserter stage: stores each handed-over batch in one transaction.
async fn insert(context: WriterContext, batches: Shared<Vec<ClickRecord>>) {
    loop {
        // Hold the receiver only while taking a batch, so other inserters take the next.
        let batch = batches.lock().await.recv().await;
        let Some(batch) = batch else { return };
        context.metrics.clicks_pending(-(batch.len() as i64));
        context.metrics.clicks_writing(batch.len() as i64);
        insert_with_retries(&context, &batch).await;
        context.metrics.clicks_writing(-(batch.len() as i64));
    }
}

/// Inserts a batch, retrying with back-off; counts the clicks as stored or failed.
async fn insert_with_retries(context: &WriterContext, records: &[ClickRecord]) {
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=ATTEMPTS {
        match context.db.insert_clicks(records).await {
            Ok(_) => {
                for class in ClickClass::ALL {
                    let n = records.iter().filter(|r| r.class == class).count() as u64;
                    if n > 0 {
                        context.metrics.clicks_stored(class, n);
                    }
                }
                return;
            }
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(%error, attempt, clicks = records.len(), "click batch failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(error) => {
                tracing::error!(%error, clicks = records.len(), "click batch failed; clicks lost");
                context.metrics.clicks_failed(records.len() as u64);
            }
        }
    }
}
