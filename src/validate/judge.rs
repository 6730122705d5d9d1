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

use super::taint::Overlay;
use super::{TxId, Verdict, validate};
use crate::chain::{Height, OutputLink, RawBlock};
use crate::parallel::map_in_order;
use crate::wire::index::Tags;

/// A transaction to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: TxId,
    /// Its id, asset ids, operation and keys, for messages and filters.
    pub tags: Tags,
    /// The body clients may ask for ([`super::extract::body_json`]).
    pub body: String,
    /// True when a part of it could not be verified (see `Transaction::unverifiable`).
    pub unverifiable: bool,
}

/// Why a transaction of the block is not published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The node's result code was not 0; `log` is the node's, often empty.
    NodeRejected { code: u32, log: String },
    /// The node accepted it, but it is not valid (a forged CREATE, say).
    Invalid { code: &'static str, message: String },
    /// The node accepted it and it is valid, but it spends an output of a transaction the
    /// stream refused ([`Taint`]).
    SpendsRefused { output: OutputLink },
}

impl Refusal {
    /// The stable code clients and counters see.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NodeRejected { .. } => "node_rejected",
            Refusal::Invalid { code, .. } => code,
            Refusal::SpendsRefused { .. } => "spends_refused",
        }
    }

    /// The node's result code: 0 for what only the stream refused.
    pub fn node_code(&self) -> u32 {
        match self {
            Refusal::NodeRejected { code, .. } => *code,
            Refusal::Invalid { .. } | Refusal::SpendsRefused { .. } => 0,
        }
    }

    /// One line for the client: the node's log, or what the stream found.
    pub fn message(&self) -> String {
        match self {
            Refusal::NodeRejected { log, .. } if log.is_empty() => "rejected by the node".into(),
            Refusal::NodeRejected { log, .. } => log.clone(),
            Refusal::Invalid { message, .. } => message.clone(),
            Refusal::SpendsRefused { output } => format!(
                "spends output {} of {}, which the stream refused",
                output.output_index, output.transaction_id
            ),
        }
    }
}

/// One refused transaction, with what is known of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub index: usize,
    pub id: Option<TxId>,
    pub refusal: Refusal,
    /// What filters match, as far as the body could be read.
    pub tags: Tags,
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

/// Judges every transaction of `block`, validating on up to `threads` threads. `taint` is
/// the stream's memory of refused outputs before the block, and after it on return.
pub fn judge(block: &RawBlock, threads: usize, taint: &mut Overlay) -> JudgedBlock {
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
    for (index, (verdict, result)) in verdicts.into_iter().zip(&block.results).enumerate() {
        if result.code != 0 {
            let refusal = Refusal::NodeRejected {
                code: result.code,
                log: result.log.clone(),
            };
            judged.refused.push(Refused {
                index,
                id: verdict.transaction_id,
                refusal,
                tags: verdict.tags,
            });
            continue;
        }
        match verdict.transaction_id {
            Some(id) => accepted.push(id),
            None => judged.accepted_without_id += 1,
        }
        match judge_accepted(index, verdict, taint) {
            Outcome::Publish(published) => judged.published.push(published),
            Outcome::Refuse(refused) => judged.refused.push(refused),
        }
    }
    judged.app_hash = next_app_hash(&block.previous_app_hash, &accepted);
    judged
}

/// A transaction the node accepted, at `index`: published, unless it is invalid or spends a
/// tainted output, in which case its own outputs are tainted.
///
/// Whatever the verdict, the node took the outputs it spends out of its state, so tainted
/// ones among them leave the set. Its own outputs are tainted under the id we computed:
/// the node accepted it, so its claimed id passed Planetmint's `validate_id` and is that
/// one. One the node accepted without an id we can compute taints nothing: the app-hash
/// check reports that block as disagreeing with the node.
fn judge_accepted(index: usize, verdict: Verdict, taint: &mut Overlay) -> Outcome {
    let Verdict {
        transaction_id,
        tags,
        body,
        outputs,
        spends,
        result,
    } = verdict;
    let refusal = match (result, taint.spend(&spends)) {
        (Ok(tx), None) => {
            return Outcome::Publish(Published {
                id: tx.id,
                tags,
                body: body.expect("a valid transaction decoded"),
                unverifiable: tx.unverifiable.is_some(),
            });
        }
        (Ok(_), Some(output)) => Refusal::SpendsRefused { output },
        (Err(invalid), _) => Refusal::Invalid {
            code: invalid.code(),
            message: invalid.to_string(),
        },
    };
    if let Some(id) = transaction_id {
        taint.taint(id, outputs);
    }
    Outcome::Refuse(Refused {
        index,
        id: transaction_id,
        refusal,
        tags,
    })
}

enum Outcome {
    Publish(Published),
    Refuse(Refused),
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
    use crate::chain::TxResult;
    use crate::validate::taint::Taint;

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
            results: vec![
                TxResult {
                    code: 1,
                    log: String::new(),
                },
                TxResult::accepted(),
            ],
            previous_app_hash: "ab".into(),
            app_hash: None,
            received: None,
        };
        let judged = judge(&block, 2, &mut Overlay::new(&Taint::default()));
        assert!(judged.published.is_empty());
        assert_eq!(judged.refused.len(), 2);
        assert_eq!(
            judged.refused[0].refusal,
            Refusal::NodeRejected {
                code: 1,
                log: String::new()
            }
        );
        assert_eq!(judged.refused[0].refusal.message(), "rejected by the node");
        assert_eq!(judged.refused[1].refusal.reason(), "json");
        assert_eq!(judged.accepted_without_id, 1);
        assert_eq!(judged.app_hash, "ab");
    }
}
