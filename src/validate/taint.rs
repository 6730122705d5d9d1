//! Outputs nobody may be seen spending: those of transactions the node accepted but the
//! stream refused, and, in turn, of every transaction spending one of them.
//!
//! In: the judge's decisions, block by block, in block order. Out: whether a transaction
//! spends a tainted output, and what a batch of blocks changed ([`Delta`]). Planetmint 2.5
//! accepts a forged CREATE (it does not check CREATE signatures), and a later TRANSFER of
//! its outputs is state-valid to the node and passes every stateless check, so only a
//! stream that remembers what it refused can keep the TRANSFER out. The set is the stream's
//! state: the store keeps it, updated by each batch's delta in the same commit as the
//! cursor, so it survives restarts; it starts where the store starts.
//!
//! Size: an output leaves the set once a transaction the node accepted spends it (the node
//! never lets an output be spent twice), so the set holds the unspent outputs of forged
//! transactions: a part of the node's own unspent-output state, which the chain's block
//! size limits as it limits the node's. Judging never copies it: blocks are judged against
//! the stored set through an [`Overlay`] that records only what they change.

use std::collections::{BTreeSet, HashSet};

use super::TxId;
use crate::chain::OutputLink;

/// The tainted outputs, as stored after the last stored block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taint {
    outputs: HashSet<OutputLink>,
}

/// What judging some blocks changed in the [`Taint`]: applied, and stored, once they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub added: BTreeSet<OutputLink>,
    pub removed: BTreeSet<OutputLink>,
}

impl Taint {
    pub fn new(outputs: impl IntoIterator<Item = OutputLink>) -> Self {
        Taint {
            outputs: outputs.into_iter().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    pub fn apply(&mut self, delta: &Delta) {
        for link in &delta.removed {
            self.outputs.remove(link);
        }
        self.outputs.extend(delta.added.iter().cloned());
    }
}

/// The taint as judging sees it: the stored set, plus what the blocks judged since changed.
pub struct Overlay<'a> {
    base: &'a Taint,
    delta: Delta,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a Taint) -> Self {
        Overlay {
            base,
            delta: Delta::default(),
        }
    }

    /// What the blocks judged through this overlay changed.
    pub fn into_delta(self) -> Delta {
        self.delta
    }

    fn contains(&self, link: &OutputLink) -> bool {
        self.delta.added.contains(link)
            || (self.base.outputs.contains(link) && !self.delta.removed.contains(link))
    }

    /// The first tainted output among `spent`, the outputs a transaction the node accepted
    /// spends; every tainted one it spends leaves the set (it cannot be spent again).
    pub fn spend<'b>(
        &mut self,
        spent: impl IntoIterator<Item = &'b OutputLink>,
    ) -> Option<OutputLink> {
        let mut first = None;
        for link in spent {
            if self.contains(link) {
                if !self.delta.added.remove(link) {
                    self.delta.removed.insert(link.clone());
                }
                first.get_or_insert_with(|| link.clone());
            }
        }
        first
    }

    /// Taints the `outputs` outputs of the transaction `id`, which the node accepted and the
    /// stream refused.
    pub fn taint(&mut self, id: TxId, outputs: usize) {
        let transaction_id = id.to_string();
        for output_index in 0..outputs as u64 {
            let link = OutputLink {
                transaction_id: transaction_id.clone(),
                output_index,
            };
            self.delta.removed.remove(&link);
            self.delta.added.insert(link);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: TxId, output_index: u64) -> OutputLink {
        OutputLink {
            transaction_id: id.to_string(),
            output_index,
        }
    }

    #[test]
    fn a_spent_tainted_output_taints_the_spender_and_leaves_the_set() {
        let (forged, spender, clean) = (
            TxId::of(b"forged"),
            TxId::of(b"spender"),
            TxId::of(b"clean"),
        );
        let mut stored = Taint::default();
        let mut overlay = Overlay::new(&stored);
        overlay.taint(forged, 2);
        assert_eq!(overlay.spend([&link(clean, 0)]), None);
        assert_eq!(
            overlay.spend([&link(clean, 0), &link(forged, 1)]),
            Some(link(forged, 1))
        );
        overlay.taint(spender, 1);
        // Spent once, gone: the node refuses a second spend anyway.
        assert_eq!(overlay.spend([&link(forged, 1)]), None);
        let delta = overlay.into_delta();
        assert_eq!(delta.added, [link(forged, 0), link(spender, 0)].into());
        assert!(
            delta.removed.is_empty(),
            "never stored, so nothing to remove"
        );
        stored.apply(&delta);
        assert_eq!(stored, Taint::new([link(forged, 0), link(spender, 0)]));
    }

    #[test]
    fn later_blocks_see_the_stored_set_and_record_only_their_changes() {
        let forged = TxId::of(b"forged");
        let mut stored = Taint::new([link(forged, 0), link(forged, 1)]);
        let mut overlay = Overlay::new(&stored);
        assert_eq!(overlay.spend([&link(forged, 0)]), Some(link(forged, 0)));
        assert_eq!(overlay.spend([&link(forged, 0)]), None);
        let delta = overlay.into_delta();
        assert_eq!(delta.removed, [link(forged, 0)].into());
        assert!(delta.added.is_empty());
        stored.apply(&delta);
        assert_eq!(stored, Taint::new([link(forged, 1)]));
        assert_eq!(stored.len(), 1);
    }
}
