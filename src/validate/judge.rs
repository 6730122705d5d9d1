//! Block verdicts: which transactions of a block are published, which are refused and why,
//! and Planetmint's app hash after the block.
//!
//! In: a [`RawBlock`] (raw transactions plus the node's result codes and app hashes). Out: a
//! [`JudgedBlock`]. Pure: the same block always gives the same judgement.
//!
//! A transaction is published if and only if the node accepted it (code 0) *and* the core
//! finds it valid or unverifiable. The app hash follows what the node accepted, not what we
//! publish, because it is the node's state we check ourselves against (§5 of the facts:
//! `app_H = sha3(app_{H-1} ‖ sha3(accepted ids))`, unchanged by a block that accepted none).

use sha3::{Digest, Sha3_256};

use super::{TxId, Verdict, validate};
use crate::chain::{Height, RawBlock};
use crate::parallel::map_in_order;

/// A transaction to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: TxId,
    pub asset_ids: Vec<String>,
    /// True when a part of it could not be verified (see `Transaction::unverifiable`).
    pub unverifiable: bool,
}

/// Why a transaction of the block is not published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The node's result code was not 0.
    NodeRejected { code: u32 },
    /// The node accepted it, but it is not valid (a forged CREATE, say).
    Invalid { code: &'static str, message: String },
}

impl Refusal {
    /// The counter label for this refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NodeRejected { .. } => "node_rejected",
            Refusal::Invalid { code, .. } => code,
        }
    }
}

/// One refused transaction, with what is known of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub index: usize,
    pub id: Option<TxId>,
    pub refusal: Refusal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedBlock {
    pub height: Height,
    pub published: Vec<Published>,
    pub refused: Vec<Refused>,
    /// Planetmint's app hash after this block, from the header's previous app hash and the
    /// ids of the transactions the node accepted.
    pub app_hash: String,
    /// The app hash the node reported with the block (0.38), to compare with `app_hash`.
    pub reported_app_hash: Option<String>,
    /// Accepted by the node, yet without an id we could compute: the app hash cannot
    /// follow the node's, and the mismatch check will say so.
    pub accepted_without_id: usize,
}

/// Judges every transaction of `block`, validating on up to `threads` threads.
pub fn judge(block: &RawBlock, threads: usize) -> JudgedBlock {
    let verdicts = map_in_order(&block.txs, threads, |raw| validate(raw));
    let mut judged = JudgedBlock {
        height: block.height,
        published: Vec::new(),
        refused: Vec::new(),
        app_hash: String::new(),
        reported_app_hash: block.app_hash.clone(),
        accepted_without_id: 0,
    };
    let mut accepted = Vec::new();
    for (index, (verdict, &code)) in verdicts.into_iter().zip(&block.codes).enumerate() {
        let Verdict {
            transaction_id,
            result,
            ..
        } = verdict;
        if code != 0 {
            judged.refused.push(Refused {
                index,
                id: transaction_id,
                refusal: Refusal::NodeRejected { code },
            });
            continue;
        }
        match transaction_id {
            Some(id) => accepted.push(id),
            None => judged.accepted_without_id += 1,
        }
        match result {
            Ok(tx) => judged.published.push(Published {
                id: tx.id,
                asset_ids: tx.asset_ids,
                unverifiable: tx.unverifiable.is_some(),
            }),
            Err(invalid) => judged.refused.push(Refused {
                index,
                id: transaction_id,
                refusal: Refusal::Invalid {
                    code: invalid.code(),
                    message: invalid.to_string(),
                },
            }),
        }
    }
    judged.app_hash = next_app_hash(&block.previous_app_hash, &accepted);
    judged
}

/// Planetmint's `end_block`: the app hash after a block that accepted `accepted`.
pub fn next_app_hash(previous: &str, accepted: &[TxId]) -> String {
    if accepted.is_empty() {
        return previous.to_owned();
    }
    let ids: Vec<String> = accepted.iter().map(TxId::to_string).collect();
    let block_hash = calculate_hash(ids.iter().map(String::as_str));
    calculate_hash([previous, block_hash.as_str()])
}

/// Planetmint's `calculate_hash`: SHA3-256 hex of the keys joined, `""` for no keys.
pub fn calculate_hash<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha3_256::new();
    let mut any = false;
    for key in keys {
        hasher.update(key.as_bytes());
        any = true;
    }
    if !any {
        return String::new();
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calculate_hash_matches_planetmint() {
        // planetmint.abci.utils.calculate_hash([]) and (["abc"]): sha3_256(b"abc").
        assert_eq!(calculate_hash([]), "");
        assert_eq!(
            calculate_hash(["a", "bc"]),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
    }

    #[test]
    fn blocks_without_accepted_transactions_keep_the_app_hash() {
        assert_eq!(next_app_hash("abcd", &[]), "abcd");
        let id = TxId::of(b"x");
        assert_eq!(
            next_app_hash("", &[id]),
            calculate_hash(["", calculate_hash([id.to_string().as_str()]).as_str()])
        );
    }

    #[test]
    fn node_rejections_and_invalid_transactions_are_refused() {
        let block = RawBlock {
            height: Height::new(5).unwrap(),
            txs: vec![b"{}".to_vec(), b"not json".to_vec()],
            codes: vec![1, 0],
            previous_app_hash: "ab".into(),
            app_hash: None,
            received: None,
        };
        let judged = judge(&block, 2);
        assert!(judged.published.is_empty());
        assert_eq!(judged.refused.len(), 2);
        assert_eq!(judged.refused[0].refusal, Refusal::NodeRejected { code: 1 });
        assert_eq!(judged.refused[1].refusal.reason(), "json");
        assert_eq!(judged.accepted_without_id, 1);
        assert_eq!(judged.app_hash, "ab");
    }
}
