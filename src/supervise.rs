//! Keeping background tasks alive. A task that panics would otherwise stop recording
//! silently (no clicks stored, webhooks never answered) while the service looks healthy:
//! [`supervise`] logs the panic, counts it in `chatref_task_restarts_total{task}`, marks the
//! task down (which `/healthz` reports) and starts it again after a short pause.

use std::{future::Future, sync::Arc, time::Duration};

use crate::telemetry::Metrics;

/// Pause before a restart, so a task that panics at once does not spin a core.
pub const RESTART_PAUSE: Duration = Duration::from_millis(200);

/// Runs the task `start` makes until it returns normally, starting it again whenever it
/// panics. Returns when the task returns (or when the runtime is shutting down).
pub async fn supervise<F, Fut>(task: &'static str, metrics: Arc<Metrics>, mut start: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        match tokio::spawn(start()).await {
            Ok(()) => return,
            Err(error) if error.is_panic() => {
                let panic = error.into_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(task, %message, "background task panicked; restarting it");
                metrics.task_down(task);
                tokio::time::sleep(RESTART_PAUSE).await;
                metrics.task_restarted(task);
            }
            // Cancelled: the runtime is shutting down.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_counted() {
        let metrics = Arc::new(Metrics::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        supervise("test_task", metrics.clone(), move || {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 2 {
                    panic!("run {run} fails");
                }
            }
        })
        .await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "two panics, then a clean run"
        );
        let text = metrics.render(0);
        assert!(
            text.contains("chatref_task_restarts_total{task=\"test_task\"} 2"),
            "{text}"
        );
        assert_eq!(metrics.tasks_down(), 0, "running again after the restart");
    }
}
