//! Where the service reads the time for what it records (clicks, landing-page events,
//! conversions): the system clock, or a simulated one that `chatref demo` moves through a
//! month so its traffic runs the same code paths as real traffic.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of "now", at the microsecond precision both databases keep.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        crate::db::now()
    }
}

/// A clock that shows whatever time it was last set to, until it is released to follow the
/// system clock.
#[derive(Debug)]
pub struct SimulatedClock {
    micros: AtomicI64,
}

impl SimulatedClock {
    /// A clock stopped at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        let clock = SimulatedClock {
            micros: AtomicI64::new(0),
        };
        clock.set(at);
        clock
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        let micros = (at.unix_timestamp_nanos() / 1_000) as i64;
        self.micros.store(micros, Ordering::SeqCst);
    }

    /// From now on, shows the system time.
    pub fn release(&self) {
        self.micros.store(RELEASED, Ordering::SeqCst);
    }
}

/// The stored value of a released clock.
const RELEASED: i64 = i64::MIN;

impl Clock for SimulatedClock {
    fn now(&self) -> OffsetDateTime {
        let micros = self.micros.load(Ordering::SeqCst);
        if micros == RELEASED {
            return SystemClock.now();
        }
        let micros = i128::from(micros);
        OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_simulated_clock_shows_the_time_it_was_set_to() {
        let clock = SimulatedClock::new(datetime!(2026-11-05 10:00:00.123456 UTC));
        assert_eq!(clock.now(), datetime!(2026-11-05 10:00:00.123456 UTC));
        clock.set(datetime!(2026-11-06 00:00 UTC));
        assert_eq!(clock.now(), datetime!(2026-11-06 00:00 UTC));
        clock.release();
        assert!(clock.now() > datetime!(2026-11-06 00:00 UTC));
        let real = SystemClock.now();
        assert_eq!(real.nanosecond() % 1_000, 0, "microsecond precision");
    }
}
