//! Which frames of a block a subscriber receives: those of its stream that its filter
//! matches, with bodies or without.
//!
//! In: an [`EncodedBlock`] (live from the hub, or read back from the store), the stream and
//! the [`Subscription`]. Out: the frames to write, in block order. Pure, and the same for
//! live blocks and history, so a resumed filtered stream is exactly the live one. A
//! filtered subscriber costs one index look-up per value it names; the frames it gets are
//! the block's shared ones (only a filtered `valid_blocks` message is made for it alone,
//! since its `transaction_ids` are its own).

use crate::filter::Subscription;
use crate::wire::{EncodedBlock, Frame, StreamKind};

/// The frames of `block` that `subscription` receives on `stream`.
pub fn frames(block: &EncodedBlock, stream: StreamKind, subscription: &Subscription) -> Vec<Frame> {
    let filter = &subscription.filter;
    let bodies = subscription.bodies;
    match stream {
        StreamKind::Transactions => {
            let picked = (!filter.is_everything()).then(|| filter.select(block.index()));
            if bodies {
                let full = block.full_transactions();
                pick(full.len(), |i| &full[i], picked)
            } else {
                pick(block.published.len(), |i| &block.published[i].frame, picked)
            }
        }
        StreamKind::Refused => {
            let picked = (!filter.is_everything()).then(|| filter.select(block.refused_index()));
            pick(block.refused.len(), |i| &block.refused[i].frame, picked)
        }
        // One frame per block whatever matched: a filtered client's progress marker.
        StreamKind::Blocks => vec![match (filter.is_everything(), bodies) {
            (true, false) => block.block.clone(),
            (true, true) => block.full_block().clone(),
            (false, _) => block.filtered_block(&filter.select(block.index()), bodies),
        }],
    }
}

/// The frames at `picked` (ascending positions), or all `len` of them.
fn pick<'a>(len: usize, get: impl Fn(usize) -> &'a Frame, picked: Option<Vec<u32>>) -> Vec<Frame> {
    match picked {
        None => (0..len).map(|i| get(i).clone()).collect(),
        Some(positions) => positions
            .into_iter()
            .map(|i| get(i as usize).clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Height;
    use crate::filter::{QueryLimits, parse};
    use crate::wire::Refusal;
    use crate::wire::index::Tags;

    const ALICE: &str = "3RUtgMVfFVoWvUPLorTTbS93V5FkrB43F1D5JNnKNW7R";
    const BOB: &str = "C7yJPaDX4vhy9GF9LwuNNHwnkUawypowiWMQedtQ3HBZ";

    fn tags(id: char, key: &str, operation: &str) -> Tags {
        Tags {
            transaction_id: Some(id.to_string().repeat(64)),
            operation: Some(operation.into()),
            asset_ids: vec![id.to_string().repeat(64)],
            public_keys: vec![key.into()],
            owners_before: vec![ALICE.into()],
        }
    }

    /// Published: a (to Alice), b (to Bob), c (to Bob, a TRANSFER); refused: d (to Alice).
    fn block() -> EncodedBlock {
        let refusal = Refusal::by_node(3, tags('d', ALICE, "CREATE"));
        EncodedBlock::encode(
            Height::new(9).unwrap(),
            "hash",
            vec![
                (tags('a', ALICE, "CREATE"), r#"{"n":"a"}"#.into()),
                (tags('b', BOB, "CREATE"), r#"{"n":"b"}"#.into()),
                (tags('c', BOB, "TRANSFER"), r#"{"n":"c"}"#.into()),
            ],
            vec![refusal],
        )
    }

    fn view(stream: StreamKind, query: &str) -> Vec<serde_json::Value> {
        let subscription = parse(stream, Some(query), &QueryLimits::default()).unwrap();
        frames(&block(), stream, &subscription)
            .iter()
            .map(|frame| serde_json::from_str(frame).unwrap())
            .collect()
    }

    fn ids(messages: &[serde_json::Value]) -> Vec<char> {
        messages
            .iter()
            .map(|m| {
                m["transaction_id"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .next()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn an_unfiltered_subscriber_gets_every_frame_as_before() {
        let block = block();
        let everything = parse(StreamKind::Transactions, None, &QueryLimits::default()).unwrap();
        let sent = frames(&block, StreamKind::Transactions, &everything);
        let shared: Vec<Frame> = block.published.iter().map(|tx| tx.frame.clone()).collect();
        assert_eq!(sent, shared);
        assert_eq!(
            frames(&block, StreamKind::Blocks, &everything),
            std::slice::from_ref(&block.block)
        );
        assert_eq!(ids(&view(StreamKind::Refused, "")), ['d']);
    }

    #[test]
    fn filters_pick_the_matching_transactions_on_every_stream() {
        let tx = StreamKind::Transactions;
        assert_eq!(ids(&view(tx, &format!("public_key={BOB}"))), ['b', 'c']);
        assert_eq!(
            ids(&view(tx, &format!("public_key={BOB}&operation=create"))),
            ['b']
        );
        assert_eq!(
            ids(&view(tx, &format!("public_key={BOB},{ALICE}"))),
            ['a', 'b', 'c']
        );
        assert!(view(tx, &format!("owner_before={BOB}")).is_empty());
        let blocks = view(StreamKind::Blocks, &format!("public_key={ALICE}"));
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            blocks[0]["transaction_ids"],
            serde_json::json!(["a".repeat(64)])
        );
        // A quiet filter still gets its progress marker.
        let quiet = view(
            StreamKind::Blocks,
            &format!("transaction_id={}", "e".repeat(64)),
        );
        assert_eq!(
            quiet,
            [serde_json::json!({"height": 9, "hash": "hash", "transaction_ids": []})]
        );
        assert_eq!(
            ids(&view(StreamKind::Refused, &format!("public_key={ALICE}"))),
            ['d']
        );
        assert!(view(StreamKind::Refused, &format!("public_key={BOB}")).is_empty());
    }

    #[test]
    fn bodies_come_with_filtered_and_unfiltered_frames() {
        let full = view(
            StreamKind::Transactions,
            &format!("public_key={BOB}&transaction=full"),
        );
        assert_eq!(full[1]["transaction"], serde_json::json!({"n": "c"}));
        let blocks = view(StreamKind::Blocks, "operation=TRANSFER&transactions=full");
        assert_eq!(blocks[0]["transactions"], serde_json::json!([{"n": "c"}]));
        let all = view(StreamKind::Blocks, "transactions=full");
        assert_eq!(all[0]["transactions"].as_array().unwrap().len(), 3);
    }
}
