//! The click writer: a background task between the redirect and the database.
//!
//! The redirect calls [`ClickQueue::record`], which never waits: when the bounded queue is
//! full the click is dropped and counted (`chatref_clicks_dropped_total`), because a slow
//! database must never slow or fail a redirect. The writer takes up to [`BATCH_SIZE`] clicks
//! or whatever arrived within [`FLUSH_INTERVAL`], enriches them (class, geo, device,
//! visitor hash) and inserts them in one transaction. On shutdown it stops taking new clicks,
//! drains the queue and flushes before returning.

use std::{sync::Arc, time::Duration};

use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use super::{
    ClickClass, RawClick, classify::Classifier, device::DeviceParser, geo::GeoIp, referrer_host,
};
use crate::{db::ClickRecord, db::Db, links::TagKey, telemetry::Metrics};

/// Most clicks per insert transaction.
pub const BATCH_SIZE: usize = 1_000;
/// Longest a click waits in a partial batch.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(200);
/// Attempts at a batch before its clicks are counted as failed.
const ATTEMPTS: u32 = 5;
/// Longest user agent kept (for re-classifying later); the rest is cut.
const MAX_USER_AGENT: usize = 512;

/// The sending side, held by the redirect handler.
#[derive(Clone)]
pub struct ClickQueue {
    sender: mpsc::Sender<RawClick>,
    metrics: Arc<Metrics>,
}

impl ClickQueue {
    /// Queues a click without waiting; returns false (and counts it) if it was dropped.
    pub fn record(&self, click: RawClick) -> bool {
        match self.sender.try_send(click) {
            Ok(()) => true,
            Err(_) => {
                self.metrics.click_dropped();
                false
            }
        }
    }

    /// Clicks waiting for the writer.
    pub fn depth(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }
}

/// What the writer needs besides the queue.
pub struct WriterContext {
    pub db: Db,
    pub geo: Arc<GeoIp>,
    pub key: TagKey,
    pub metrics: Arc<Metrics>,
}

/// Starts the writer; it finishes after `shutdown` is cancelled and the queue is flushed.
pub fn spawn(
    context: WriterContext,
    capacity: usize,
    shutdown: CancellationToken,
) -> (ClickQueue, JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel(capacity);
    let queue = ClickQueue {
        sender,
        metrics: context.metrics.clone(),
    };
    let handle = tokio::spawn(run(context, receiver, shutdown));
    (queue, handle)
}

async fn run(
    context: WriterContext,
    mut receiver: mpsc::Receiver<RawClick>,
    shutdown: CancellationToken,
) {
    let Ok(devices) = tokio::task::spawn_blocking(DeviceParser::new).await else {
        // Only when the runtime is shutting down before the writer ever started.
        tracing::error!("the click writer could not start");
        return;
    };
    let mut enricher = Enricher {
        classifier: Classifier::new(),
        devices,
        geo: context.geo.clone(),
        key: context.key.clone(),
    };
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    loop {
        let stopping = tokio::select! {
            received = receiver.recv_many(&mut batch, BATCH_SIZE) => received == 0,
            _ = shutdown.cancelled() => true,
        };
        if stopping {
            break;
        }
        let deadline = tokio::time::sleep(FLUSH_INTERVAL);
        tokio::pin!(deadline);
        while batch.len() < BATCH_SIZE {
            let room = BATCH_SIZE - batch.len();
            tokio::select! {
                received = receiver.recv_many(&mut batch, room) => if received == 0 { break },
                _ = &mut deadline => break,
                _ = shutdown.cancelled() => break,
            }
        }
        enricher = write_batch(&context, enricher, &mut batch).await;
    }
    // Stop accepting, then flush what is already queued: nothing acknowledged is lost.
    receiver.close();
    while let Some(click) = receiver.recv().await {
        batch.push(click);
        if batch.len() == BATCH_SIZE {
            enricher = write_batch(&context, enricher, &mut batch).await;
        }
    }
    write_batch(&context, enricher, &mut batch).await;
    tracing::info!("click writer flushed and stopped");
}

struct Enricher {
    classifier: Classifier,
    devices: DeviceParser,
    geo: Arc<GeoIp>,
    key: TagKey,
}

impl Enricher {
    fn enrich(&mut self, click: RawClick) -> ClickRecord {
        let user_agent = click.user_agent.as_deref();
        let class = self.classifier.classify(user_agent, click.prefetch);
        let geo = click.ip.map(|ip| self.geo.lookup(ip)).unwrap_or_default();
        let device = user_agent
            .map(|ua| self.devices.parse(ua))
            .unwrap_or_default();
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
            device: device.device,
            os: device.os,
            browser: device.browser,
            referrer_host: click.referrer.as_deref().and_then(referrer_host),
            user_agent: click
                .user_agent
                .map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        }
    }
}

async fn write_batch(
    context: &WriterContext,
    enricher: Enricher,
    batch: &mut Vec<RawClick>,
) -> Enricher {
    if batch.is_empty() {
        return enricher;
    }
    // Enriching a full batch takes milliseconds of CPU; on a blocking thread it does not
    // hold up the requests waiting on the async workers.
    let clicks = std::mem::take(batch);
    let mut enricher = enricher;
    let (enricher, records) = tokio::task::spawn_blocking(move || {
        let records: Vec<ClickRecord> = clicks.into_iter().map(|c| enricher.enrich(c)).collect();
        (enricher, records)
    })
    .await
    .expect("enriching clicks does not panic");
    context.metrics.set_clicks_writing(records.len());
    insert_with_retries(context, &records).await;
    context.metrics.set_clicks_writing(0);
    enricher
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
