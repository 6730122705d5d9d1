//! Outputs nobody may be seen spending: those of transactions the node accepted but the
//! stream refused, and, in turn, of every transaction spending one of them.
//!
//! In: the judge's decisions, block by block, in block order. Out: whether a transaction
//! spends a tainted output. Planetmint 2.5 accepts a forged CREATE (it does not check CREATE
//! signatures), and a later TRANSFER of its outputs is state-valid to the node and passes
//! every stateless check, so only a stream that remembers what it refused can keep the
//! TRANSFER out. The set is the stream's state: the store keeps it in the same commit as the
//! cursor, so it survives restarts, and it starts where the store starts.
//!
//! It stays small: an output leaves the set once a transaction the node accepted spends it,
//! because the node never lets an output be spent twice, so the set holds only the unspent
//! outputs of refused-but-accepted transactions (a forged CREATE is rare, and each costs
//! its author a committed transaction).

use std::collections::BTreeSet;

use super::TxId;
use crate::chain::OutputLink;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taint {
    outputs: BTreeSet<OutputLink>,
}

impl Taint {
    pub fn new(outputs: BTreeSet<OutputLink>) -> Self {
        Taint { outputs }
    }

    /// The tainted outputs, for the store.
    pub fn outputs(&self) -> &BTreeSet<OutputLink> {
        &self.outputs
    }

    /// The first tainted output among `spent`, the outputs a transaction the node accepted
    /// spends; every tainted one it spends leaves the set (it cannot be spent again).
    pub fn spend<'a>(
        &mut self,
        spent: impl IntoIterator<Item = &'a OutputLink>,
    ) -> Option<OutputLink> {
        let mut first = None;
        for link in spent {
            if self.outputs.remove(link) {
                first.get_or_insert_with(|| link.clone());
            }
        }
        first
    }

    /// Taints the `outputs` outputs of the transaction `id`, which the node accepted and the
    /// stream refused.
    pub fn taint(&mut self, id: TxId, outputs: usize) {
        let transaction_id = id.to_string();
        self.outputs
            .extend((0..outputs as u64).map(|output_index| OutputLink {
                transaction_id: transaction_id.clone(),
                output_index,
            }));
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
        let (forged, spender) = (TxId::of(b"forged"), TxId::of(b"spender"));
        let mut taint = Taint::default();
        taint.taint(forged, 2);
        assert_eq!(taint.outputs().len(), 2);
        let clean = link(TxId::of(b"clean"), 0);
        assert_eq!(taint.spend([&clean]), None);
        assert_eq!(
            taint.spend([&clean, &link(forged, 1)]),
            Some(link(forged, 1))
        );
        taint.taint(spender, 1);
        assert_eq!(
            taint.outputs().iter().cloned().collect::<Vec<_>>(),
            [link(forged, 0), link(spender, 0)]
                .into_iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        );
        // Spent once, gone: the node refuses a second spend anyway.
        assert_eq!(taint.spend([&link(forged, 1)]), None);
        assert_eq!(Taint::new(taint.outputs().clone()), taint);
    }
}
