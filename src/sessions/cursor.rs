//! The hand-over from history to live, as a pure type: where a subscriber's stream stands,
//! and what to do with each thing that arrives for it.
//!
//! In: the heights of the ring's batches, the ring's lag notices, the store's bounds, and
//! what the session sent. Out: a decision ([`Live`]) per batch, whether to read history
//! now, and whether the client's history expired. No I/O, so every path of the hand-over is
//! unit-tested here, and the session around it stays a thin loop.

use crate::chain::Height;

/// A subscriber's position: the next height it is owed (None: a live client before its
/// first block), and whether it is still catching up from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    next: Option<Height>,
    /// Reading history until a ring batch arrives at exactly the next height.
    catching_up: bool,
}

/// What to do with a batch from the live ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// Send it: it is the next height owed (or the first block of a live client).
    Send,
    /// Drop it: the client has that height already.
    Skip,
    /// Drop it and read the store instead: heights between were missed (the ring lapped
    /// a catching-up session, or the chain skipped a height).
    Behind,
}

impl Cursor {
    /// A cursor starting at `from` (`?from_height=N`), or live when None.
    pub fn new(from: Option<Height>) -> Self {
        Cursor {
            next: from,
            catching_up: from.is_some(),
        }
    }

    /// The next height owed, if one is.
    pub fn next(&self) -> Option<Height> {
        self.next
    }

    /// Whether the next height must come from the store, which holds up to `stored_last`.
    pub fn wants_history(&self, stored_last: Option<Height>) -> bool {
        self.catching_up
            && self
                .next
                .is_some_and(|next| stored_last.is_some_and(|last| next <= last))
    }

    /// Whether the history the client needs is gone: its next height is older than the
    /// oldest one kept.
    pub fn expired(&self, stored_first: Option<Height>) -> bool {
        self.next
            .is_some_and(|next| stored_first.is_some_and(|first| next < first))
    }

    /// Judges a batch of the live ring at `height`.
    pub fn on_live(&mut self, height: Height) -> Live {
        match self.next {
            Some(next) if height < next => Live::Skip,
            Some(next) if height > next => {
                self.catching_up = true;
                Live::Behind
            }
            _ => {
                self.catching_up = false;
                Live::Send
            }
        }
    }

    /// Whether the ring dropping batches for this subscriber costs it nothing: catching up,
    /// the store has them; before its first block, a live client has missed nothing of its
    /// own. Otherwise it is a slow consumer.
    pub fn survives_lag(&self) -> bool {
        self.catching_up || self.next.is_none()
    }

    /// The client has been sent everything through `height`.
    pub fn sent(&mut self, height: Height) {
        self.next = Some(height.next());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(height: u64) -> Height {
        Height::new(height).unwrap()
    }

    #[test]
    fn a_live_client_takes_the_first_batch_and_then_every_next_one() {
        let mut cursor = Cursor::new(None);
        assert!(!cursor.wants_history(Some(h(9))));
        assert!(cursor.survives_lag());
        assert_eq!(cursor.on_live(h(10)), Live::Send);
        cursor.sent(h(10));
        assert!(!cursor.survives_lag(), "a live client that lags is slow");
        assert_eq!(cursor.on_live(h(11)), Live::Send);
    }

    #[test]
    fn a_resuming_client_reads_history_then_hands_over_without_gap_or_repeat() {
        let mut cursor = Cursor::new(Some(h(3)));
        // The ring already has 6 and 7 (subscribed before the upgrade); the store has 1..=6.
        assert!(cursor.wants_history(Some(h(6))));
        cursor.sent(h(5)); // a first chunk of history: 3..=5
        assert!(cursor.wants_history(Some(h(6))));
        cursor.sent(h(6));
        assert!(!cursor.wants_history(Some(h(6))), "the store has no more");
        assert!(cursor.survives_lag(), "still catching up");
        assert_eq!(cursor.on_live(h(6)), Live::Skip, "sent from history");
        assert_eq!(cursor.on_live(h(7)), Live::Send);
        cursor.sent(h(7));
        assert!(!cursor.survives_lag(), "live now");
    }

    #[test]
    fn a_lapped_or_gapped_cursor_goes_back_to_the_store() {
        let mut cursor = Cursor::new(None);
        assert_eq!(cursor.on_live(h(4)), Live::Send);
        cursor.sent(h(4));
        // Height 5 is missing from the ring (a chain file without it): the store decides.
        assert_eq!(cursor.on_live(h(6)), Live::Behind);
        assert!(cursor.wants_history(Some(h(6))));
        assert!(cursor.survives_lag());
        assert_eq!(cursor.next(), Some(h(5)));
    }

    #[test]
    fn history_expires_when_the_next_height_is_pruned() {
        let cursor = Cursor::new(Some(h(3)));
        assert!(!cursor.expired(None));
        assert!(!cursor.expired(Some(h(3))));
        assert!(cursor.expired(Some(h(4))));
        assert!(!Cursor::new(None).expired(Some(h(4))));
    }
}
