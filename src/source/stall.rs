//! Stall watch: when a silent subscription is asked about, and what its silence means.
//!
//! In: the instants events arrive and bring blocks, and on each check the node's head from
//! `/status` with the next height to send. Out: a [`Check`] (whether to ask `/status` at
//! all) and a [`Decision`] the session acts on. No I/O and no clock of its own: the session
//! passes every instant, so tests drive it without sleeping.

use std::time::{Duration, Instant};

use crate::chain::Height;

/// A subscription that brought nothing for this long while `/status` shows a newer height
/// is dead. CometBFT's blocks come about a second apart; two seconds of silence is a
/// missed block, not a slow one.
pub const STALL_AFTER: Duration = Duration::from_secs(2);

/// With several nodes configured, a node that has brought nothing new for this long is
/// compared with the others (one `/status` each); if one of them has the next height, the
/// service moves to it. Ten seconds is ten blocks of a busy chain, and costs an idle chain
/// one request per node every ten seconds.
pub const PROBE_AFTER: Duration = Duration::from_secs(10);

/// Whether a periodic check needs the node's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The subscription brought something recently enough.
    Wait,
    /// Silent for [`STALL_AFTER`]: ask `/status` and [`Watch::decide`].
    AskStatus,
}

/// What the node's head says about a silent subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The chain has no block we have not sent: nothing to do.
    Quiet,
    /// Blocks committed before the subscription took effect, which bring no event: fetch
    /// them up to `to`.
    Backfill { to: Height },
    /// The node has a block not sent yet; its event may still be on its way.
    Behind,
    /// The node has had a block not sent yet for [`STALL_AFTER`] with no event: one was lost.
    Stalled { head: Height },
    /// Quiet for [`PROBE_AFTER`]: ask the other nodes whether they have the next height.
    ProbeOthers,
}

/// The silence of one subscription.
#[derive(Debug)]
pub struct Watch {
    /// When the subscription last brought a block (or started).
    heard: Instant,
    /// Since when `/status` has shown a height not sent yet, with no event since.
    behind_since: Option<Instant>,
    /// When the other nodes were last probed (or the subscription started).
    probed: Instant,
    /// The node's head when the subscription started.
    subscribed_at: Option<Height>,
    /// Whether there are other nodes to probe.
    others: bool,
}

impl Watch {
    /// A subscription that started at `now`, when the node's head was `subscribed_at`.
    pub fn new(now: Instant, subscribed_at: Option<Height>, others: bool) -> Watch {
        Watch {
            heard: now,
            behind_since: None,
            probed: now,
            subscribed_at,
            others,
        }
    }

    /// An event arrived, whatever it holds: the subscription is alive.
    pub fn arrived(&mut self) {
        self.behind_since = None;
    }

    /// The subscription brought a block at `now` (sent, or sent before).
    pub fn heard(&mut self, now: Instant) {
        self.heard = now;
    }

    /// Whether the subscription has been silent long enough at `now` to ask the node.
    pub fn check(&self, now: Instant) -> Check {
        if now.saturating_duration_since(self.heard) < STALL_AFTER {
            Check::Wait
        } else {
            Check::AskStatus
        }
    }

    /// What the node's `head` (None before its first block) means at `now`, with `next`
    /// the next height to send.
    pub fn decide(&mut self, now: Instant, head: Option<Height>, next: Height) -> Decision {
        let Some(head) = head.filter(|head| *head >= next) else {
            self.behind_since = None;
            let silent = now.saturating_duration_since(self.heard) >= PROBE_AFTER;
            if self.others && silent && now.saturating_duration_since(self.probed) >= PROBE_AFTER {
                self.probed = now;
                return Decision::ProbeOthers;
            }
            return Decision::Quiet;
        };
        if let Some(at) = self.subscribed_at.filter(|at| next <= *at) {
            return Decision::Backfill { to: at.min(head) };
        }
        // The node stores a block a moment before it sends its event: behind for a whole
        // further STALL_AFTER is a lost event.
        match self.behind_since {
            Some(since) if now.saturating_duration_since(since) >= STALL_AFTER => {
                Decision::Stalled { head }
            }
            Some(_) => Decision::Behind,
            None => {
                self.behind_since = Some(now);
                Decision::Behind
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn height(height: u64) -> Height {
        Height::new(height).unwrap()
    }

    /// A watch started now, subscribed when the node's head was 9, and when it started.
    fn started(others: bool) -> (Watch, Instant) {
        let start = Instant::now();
        (Watch::new(start, Some(height(9)), others), start)
    }

    /// What a head of `head` means at `at`, with `next` to send.
    fn decide(watch: &mut Watch, at: Instant, head: u64, next: u64) -> Decision {
        watch.decide(at, Height::new(head), height(next))
    }

    /// A watch that first saw block 10 unsent, STALL_AFTER after it started, and when.
    fn behind() -> (Watch, Instant) {
        let (mut watch, start) = started(false);
        let behind = start + STALL_AFTER;
        assert_eq!(decide(&mut watch, behind, 10, 10), Decision::Behind);
        (watch, behind)
    }

    #[test]
    fn waits_until_silent_for_stall_after() {
        let (mut watch, start) = started(false);
        assert_eq!(watch.check(start), Check::Wait);
        assert_eq!(watch.check(start + STALL_AFTER - SECOND), Check::Wait);
        assert_eq!(watch.check(start + STALL_AFTER), Check::AskStatus);
        watch.heard(start + STALL_AFTER);
        assert_eq!(watch.check(start + STALL_AFTER + SECOND), Check::Wait);
    }

    #[test]
    fn a_quiet_chain_is_quiet_and_a_single_node_never_probes() {
        let (mut watch, start) = started(false);
        // Several PROBE_AFTER periods of silence.
        for seconds in 2..60 {
            let at = start + SECOND * seconds;
            assert_eq!(decide(&mut watch, at, 9, 10), Decision::Quiet);
            // No block yet at all.
            assert_eq!(decide(&mut watch, at, 0, 1), Decision::Quiet);
        }
    }

    #[test]
    fn blocks_from_before_the_subscription_are_backfilled_up_to_it() {
        let (mut watch, start) = started(false);
        let at = start + STALL_AFTER;
        let to = |to| Decision::Backfill { to: height(to) };
        assert_eq!(decide(&mut watch, at, 12, 7), to(9));
        assert_eq!(decide(&mut watch, at, 8, 7), to(8));
        // Past the subscription's head, a missing block is a missing event.
        assert_eq!(decide(&mut watch, at, 12, 10), Decision::Behind);
    }

    /// Block 10 unsent from `at` on, with no event: behind until STALL_AFTER later, then
    /// stalled.
    fn stalls_after_stall_after_from(watch: &mut Watch, at: Instant) {
        assert_eq!(decide(watch, at, 10, 10), Decision::Behind);
        let almost = at + STALL_AFTER - SECOND;
        assert_eq!(decide(watch, almost, 11, 10), Decision::Behind);
        let stalled = Decision::Stalled { head: height(11) };
        assert_eq!(decide(watch, at + STALL_AFTER, 11, 10), stalled);
    }

    #[test]
    fn one_lost_event_stalls_only_after_stall_after_more() {
        let (mut watch, start) = started(false);
        stalls_after_stall_after_from(&mut watch, start + STALL_AFTER);
    }

    #[test]
    fn an_event_arriving_resets_the_stall() {
        let (mut watch, behind) = behind();
        watch.arrived();
        stalls_after_stall_after_from(&mut watch, behind + STALL_AFTER);
    }

    #[test]
    fn catching_up_resets_the_stall() {
        let (mut watch, behind) = behind();
        // Block 10 came by a backfill: nothing to send now.
        assert_eq!(decide(&mut watch, behind + SECOND, 10, 11), Decision::Quiet);
        let later = behind + STALL_AFTER;
        assert_eq!(decide(&mut watch, later, 11, 11), Decision::Behind);
    }

    #[test]
    fn others_are_probed_every_probe_after_of_silence() {
        let (mut watch, start) = started(true);
        let mut quiet = |at| decide(&mut watch, at, 9, 10);
        assert_eq!(quiet(start + PROBE_AFTER - SECOND), Decision::Quiet);
        assert_eq!(quiet(start + PROBE_AFTER), Decision::ProbeOthers);
        assert_eq!(quiet(start + PROBE_AFTER + SECOND), Decision::Quiet);
        let again = start + PROBE_AFTER * 2;
        assert_eq!(quiet(again - SECOND), Decision::Quiet);
        assert_eq!(quiet(again), Decision::ProbeOthers);
    }

    #[test]
    fn others_are_probed_only_after_probe_after_without_a_block() {
        let (mut watch, start) = started(true);
        let heard = start + PROBE_AFTER - SECOND;
        watch.heard(heard);
        let almost = heard + PROBE_AFTER - SECOND;
        assert_eq!(decide(&mut watch, almost, 9, 10), Decision::Quiet);
        let due = heard + PROBE_AFTER;
        assert_eq!(decide(&mut watch, due, 9, 10), Decision::ProbeOthers);
    }
}
