//! Background jobs: their states and what a job may move to. The queue itself is in the store;
//! running them is the application's.
//!
//! ```text
//!   enqueue ──► Queued ──claim──► Running ──finish──► Succeeded
//!                 ▲  │              │  │
//!          retry  │  │ cancel       │  └──fail, attempts left──► Queued (after a backoff)
//!                 │  ▼              │  └──fail, none left──────► Failed (dead letter)
//!                 │ Cancelled ◄─────┘ cancel asked, seen at a heartbeat
//!                 └── a lease that ran out (the worker died) is claimed again, or Failed
//! ```

use crate::names::string_enum;

string_enum!(
    JobState {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        /// Out of attempts: the dead letter state, for the operator to look at.
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl JobState {
    /// Waiting or running: the queue's depth counts these.
    pub fn is_live(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// How long a failed attempt waits before the next: doubling from `base_secs`, at most an hour.
pub fn backoff_secs(attempts: i64, base_secs: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    base_secs.saturating_mul(1i64 << exp).min(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(
            (1..=5).map(|a| backoff_secs(a, 10)).collect::<Vec<_>>(),
            [10, 20, 40, 80, 160]
        );
        assert_eq!(backoff_secs(40, 10), 3600);
    }
}
