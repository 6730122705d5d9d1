//! What a subscriber's filter can match in a block, indexed once per block.
//!
//! In: the [`Tags`] of each transaction of a block (published or refused), in block order,
//! from the validate stage or read back from the store. Out: a [`BlockIndex`] mapping each
//! (field, value) to the positions of the transactions carrying it, so a subscriber's filter
//! costs one look-up per value it names, however big the block and however many
//! subscribers there are.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What a filter can match in one transaction, as Planetmint's body names it. Values are
/// kept as the body spells them (ids in lower-case hex, as Planetmint computes them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tags {
    /// The id Planetmint computes for the body; None when the body never got that far.
    pub transaction_id: Option<String>,
    pub operation: Option<String>,
    /// The ids a `valid_transactions` message lists as `asset_ids`.
    pub asset_ids: Vec<String>,
    /// Every key of every output's `public_keys` (a threshold output lists each).
    pub public_keys: Vec<String>,
    /// Every key of every input's `owners_before`.
    pub owners_before: Vec<String>,
}

/// A field a filter can name: one query parameter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    PublicKey,
    OwnerBefore,
    AssetId,
    Operation,
    TransactionId,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::PublicKey,
        Field::OwnerBefore,
        Field::AssetId,
        Field::Operation,
        Field::TransactionId,
    ];

    /// The query parameter that names this field.
    pub fn name(self) -> &'static str {
        match self {
            Field::PublicKey => "public_key",
            Field::OwnerBefore => "owner_before",
            Field::AssetId => "asset_id",
            Field::Operation => "operation",
            Field::TransactionId => "transaction_id",
        }
    }

    /// This field's position in [`Field::ALL`], for per-field tables.
    pub fn slot(self) -> usize {
        self as usize
    }

    /// The values of this field in `tags`.
    fn values(self, tags: &Tags) -> &[String] {
        match self {
            Field::PublicKey => &tags.public_keys,
            Field::OwnerBefore => &tags.owners_before,
            Field::AssetId => &tags.asset_ids,
            Field::Operation => tags.operation.as_slice(),
            Field::TransactionId => tags.transaction_id.as_slice(),
        }
    }
}

/// Positions (in block order) of the transactions carrying each value of each field.
#[derive(Debug, Default)]
pub struct BlockIndex {
    fields: [HashMap<Box<str>, Vec<u32>>; 5],
}

impl BlockIndex {
    /// The index of a block's transactions, given in block order.
    pub fn new<'a>(transactions: impl IntoIterator<Item = &'a Tags>) -> Self {
        let mut index = BlockIndex::default();
        for (position, tags) in (0u32..).zip(transactions) {
            for field in Field::ALL {
                let map = &mut index.fields[field.slot()];
                for value in field.values(tags) {
                    let positions = map.entry(value.as_str().into()).or_default();
                    // A key listed twice in one transaction (two outputs to one owner) must
                    // not send it twice.
                    if positions.last() != Some(&position) {
                        positions.push(position);
                    }
                }
            }
        }
        index
    }

    /// The positions of the transactions whose `field` holds `value`, ascending.
    pub fn positions(&self, field: Field, value: &str) -> &[u32] {
        self.fields[field.slot()]
            .get(value)
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn each_value_lists_its_transactions_once_in_block_order() {
        let tags = [
            Tags {
                transaction_id: Some("t0".into()),
                operation: Some("CREATE".into()),
                asset_ids: strings(&["t0"]),
                public_keys: strings(&["alice", "bob", "alice"]),
                owners_before: strings(&["alice"]),
            },
            Tags::default(),
            Tags {
                transaction_id: Some("t2".into()),
                operation: Some("TRANSFER".into()),
                asset_ids: strings(&["t0"]),
                public_keys: strings(&["bob"]),
                owners_before: strings(&["alice", "bob"]),
            },
        ];
        let index = BlockIndex::new(&tags);
        assert_eq!(index.positions(Field::PublicKey, "alice"), [0]);
        assert_eq!(index.positions(Field::PublicKey, "bob"), [0, 2]);
        assert_eq!(index.positions(Field::OwnerBefore, "bob"), [2]);
        assert_eq!(index.positions(Field::AssetId, "t0"), [0, 2]);
        assert_eq!(index.positions(Field::Operation, "TRANSFER"), [2]);
        assert_eq!(index.positions(Field::TransactionId, "t2"), [2]);
        // Fields do not leak into each other.
        assert!(index.positions(Field::OwnerBefore, "t0").is_empty());
        assert!(index.positions(Field::TransactionId, "nobody").is_empty());
    }
}
