//! A capped, growing, jittered pause between attempts to reach something that failed (a
//! node, a NATS server): pure, shared by every supervisor loop.
//!
//! In: failures and progress. Out: how long to wait before the next attempt.

use std::time::Duration;

/// First pause: long enough not to spin on a refused connection, short enough that a blip
/// costs a client nothing noticeable.
pub const FIRST: Duration = Duration::from_millis(200);
/// Longest pause: a server back after an outage is found within 10 s.
pub const MAX: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    attempt: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: FIRST,
            attempt: 0,
        }
    }
}

impl Backoff {
    /// The pause before the next attempt: between half the current backoff and all of it
    /// (jitter, so a fleet restarted together does not retry in step); the backoff then
    /// doubles, up to [`MAX`].
    pub fn pause(&mut self) -> Duration {
        self.attempt += 1;
        let pause = jittered(self.next, self.attempt);
        self.next = (self.next * 2).min(MAX);
        pause
    }

    /// Progress was made: the next failure starts from [`FIRST`] again.
    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}

/// A pause between `backoff / 2` and `backoff`.
fn jittered(backoff: Duration, attempt: u64) -> Duration {
    // A randomly keyed hash is all the randomness this needs.
    let random = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), attempt);
    let half = backoff / 2;
    half + half.mul_f64((random % 1024) as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_the_cap_within_their_upper_half_and_start_over_after_progress() {
        let mut backoff = Backoff::default();
        let pauses: Vec<Duration> = (0..10).map(|_| backoff.pause()).collect();
        let mut ceiling = FIRST;
        for pause in &pauses {
            assert!(
                *pause >= ceiling / 2 && *pause <= ceiling,
                "{pause:?} not in its half of {ceiling:?}"
            );
            ceiling = (ceiling * 2).min(MAX);
        }
        assert!(pauses[9] >= MAX / 2);
        backoff.reset();
        assert!(backoff.pause() <= FIRST);
        let many: Vec<Duration> = (0..64).map(|attempt| jittered(MAX, attempt)).collect();
        assert!(many.iter().any(|p| *p != many[0]), "no jitter: {many:?}");
    }
}
