//! The webhook inbox: group commit for verified webhook calls.
//!
//! Each call must be durably stored before it is answered 200, so unlike clicks it cannot be
//! dropped or acknowledged early. One transaction per call makes SQLite's single writer the
//! bottleneck; instead handlers hand their call to this task and wait. The task takes every
//! call waiting (up to [`MAX_BATCH`]) and stores them in one transaction, then answers each
//! handler. While a batch commits, the next one queues up, so batches grow with load and a
//! lone call is stored at once. If a batch fails, its calls are retried one by one so each
//! gets its own answer and one bad call cannot sink the others.
//!
//! SQLite has one writer, so one task; PostgreSQL takes concurrent writers, so
//! [`POSTGRES_WRITERS`] tasks share the queue (a conflict between two of their batches, such
//! as the same new contact in both, fails one batch, whose calls are then retried alone).
//!
//! The writers run under [`supervise`]: a panic fails the calls of the batch in hand (their
//! handlers answer 503, so the platform redelivers) and the writer is started again. On
//! shutdown the writers stop taking new calls, store those already queued, and return.

use std::sync::Arc;

use tokio::{
    sync::{Mutex, mpsc, oneshot},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

use crate::{
    db::{Db, DbError, IngestSummary, WebhookCall},
    supervise::supervise,
    telemetry::Metrics,
};

/// Most calls stored per transaction.
pub const MAX_BATCH: usize = 256;
/// Writer tasks on PostgreSQL (measured: one task leaves the server's concurrency unused).
pub const POSTGRES_WRITERS: usize = 4;
/// Calls waiting for the writer before handlers wait for room (back-pressure, never loss).
const QUEUE: usize = 4_096;

type Reply = oneshot::Sender<Result<IngestSummary, DbError>>;

/// The handlers' side.
#[derive(Clone)]
pub struct Inbox {
    sender: mpsc::Sender<(WebhookCall, Reply)>,
}

impl Inbox {
    /// Starts the writer tasks; the handle finishes once `shutdown` is cancelled and every
    /// queued call is stored (or every [`Inbox`] is dropped).
    pub fn spawn(
        db: Db,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> (Self, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        let writers = match db {
            Db::Sqlite { .. } => 1,
            Db::Postgres(_) => POSTGRES_WRITERS,
        };
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..writers {
            let (db, receiver, shutdown) = (db.clone(), receiver.clone(), shutdown.clone());
            tasks.spawn(supervise("webhook_inbox", metrics.clone(), move || {
                run(db.clone(), receiver.clone(), shutdown.clone())
            }));
        }
        let handle = tokio::spawn(async move {
            tasks.join_all().await;
            tracing::info!("webhook inbox drained and stopped");
        });
        (Inbox { sender }, handle)
    }

    /// Stores one call and returns what it changed, once committed.
    pub async fn store(&self, call: WebhookCall) -> Result<IngestSummary, DbError> {
        let (reply, answer) = oneshot::channel();
        let closed = || DbError::Stopped("webhook writer");
        self.sender
            .send((call, reply))
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

type Queue = Arc<Mutex<mpsc::Receiver<(WebhookCall, Reply)>>>;

async fn run(db: Db, receiver: Queue, shutdown: CancellationToken) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Hold the queue only while taking a batch, so other writers take the next one.
        let taken = {
            let mut queue = receiver.lock().await;
            tokio::select! {
                taken = queue.recv_many(&mut batch, MAX_BATCH) => taken,
                _ = shutdown.cancelled() => {
                    // Refuse new calls; what is queued is still stored below.
                    queue.close();
                    queue.recv_many(&mut batch, MAX_BATCH).await
                }
            }
        };
        if taken == 0 {
            break;
        }
        let (calls, replies): (Vec<WebhookCall>, Vec<Reply>) = batch.drain(..).unzip();
        match db.ingest_webhooks(&calls).await {
            Ok(summaries) => {
                for (reply, summary) in replies.into_iter().zip(summaries) {
                    let _ = reply.send(Ok(summary));
                }
            }
            Err(error) if calls.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(error)));
            }
            Err(error) => {
                tracing::warn!(%error, calls = calls.len(), "webhook batch failed; storing one by one");
                for (call, reply) in calls.into_iter().zip(replies) {
                    let result = db
                        .ingest_webhooks(std::slice::from_ref(&call))
                        .await
                        .map(|mut s| s.remove(0));
                    let _ = reply.send(result);
                }
            }
        }
    }
}
