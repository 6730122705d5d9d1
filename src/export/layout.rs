//! Where each message of a block goes in JetStream, and where an interrupted export stands.
//!
//! In: a chain id, a stored [`EncodedBlock`], and the headers of the last message the stream
//! holds. Out: the block's [`Outgoing`] messages in the order consumers rely on (its
//! transactions, its refusals, then its block message, the commit marker), and the
//! [`Position`] to continue from. Pure: the I/O loop around it only publishes and reads.

use crate::chain::Height;
use crate::wire::{EncodedBlock, Frame};

pub const HEIGHT_HEADER: &str = "Planetmint-Height";
pub const INDEX_HEADER: &str = "Planetmint-Index";
pub const APP_HASH_HEADER: &str = "Planetmint-App-Hash";
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// The kinds of message, each on its own subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Transactions,
    Refused,
    Blocks,
}

impl Kind {
    fn token(self) -> &'static str {
        match self {
            Kind::Transactions => "transactions",
            Kind::Refused => "refused",
            Kind::Blocks => "blocks",
        }
    }

    fn parse(token: &str) -> Option<Kind> {
        [Kind::Transactions, Kind::Refused, Kind::Blocks]
            .into_iter()
            .find(|kind| kind.token() == token)
    }
}

/// A chain's subjects: `planetmint.<chain>.<kind>.<height>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    chain: String,
}

impl Layout {
    /// The layout of `chain_id`. A subject token cannot hold `.`, `*`, `>` or whitespace,
    /// which CometBFT allows in a chain id; those become `_`.
    pub fn new(chain_id: &str) -> Self {
        let chain = chain_id
            .chars()
            .map(|c| {
                if matches!(c, '.' | '*' | '>') || c.is_whitespace() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        Layout { chain }
    }

    /// The one subject filter of the chain's stream.
    pub fn filter(&self) -> String {
        format!("planetmint.{}.>", self.chain)
    }

    fn subject(&self, kind: Kind, height: Height) -> String {
        format!("planetmint.{}.{}.{height}", self.chain, kind.token())
    }

    /// A deterministic id: the same message always gets the same one, so JetStream's
    /// deduplication recognizes a resend.
    fn msg_id(&self, kind: Kind, height: Height, index: Option<usize>) -> String {
        match index {
            Some(index) => format!("{}:{height}:{}:{index}", self.chain, kind.token()),
            None => format!("{}:{height}:{}", self.chain, kind.token()),
        }
    }

    /// The messages of `block` from `from` on, in publishing order, with bodies on the
    /// transaction messages when `bodies`.
    pub fn messages(&self, block: &EncodedBlock, from: Step, bodies: bool) -> Vec<Outgoing> {
        let height = block.height;
        let transactions: Vec<&Frame> = if bodies {
            block.full_transactions().iter().collect()
        } else {
            block.published.iter().map(|tx| &tx.frame).collect()
        };
        let refused = block.refused.iter().map(|tx| &tx.frame);
        let numbered = transactions
            .into_iter()
            .enumerate()
            .map(|(i, frame)| (Kind::Transactions, Some(i), frame))
            .chain(
                refused
                    .enumerate()
                    .map(|(i, frame)| (Kind::Refused, Some(i), frame)),
            );
        numbered
            .chain([(Kind::Blocks, None, &block.block)])
            .filter(|(kind, index, _)| from.includes(*kind, *index))
            .map(|(kind, index, frame)| {
                let mut headers = vec![
                    (MSG_ID_HEADER, self.msg_id(kind, height, index)),
                    (HEIGHT_HEADER, height.to_string()),
                ];
                match index {
                    Some(index) => headers.push((INDEX_HEADER, index.to_string())),
                    None => headers.push((APP_HASH_HEADER, block.app_hash.clone())),
                }
                Outgoing {
                    subject: self.subject(kind, height),
                    headers,
                    payload: frame.clone(),
                }
            })
            .collect()
    }
}

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub subject: String,
    pub headers: Vec<(&'static str, String)>,
    pub payload: Frame,
}

/// Where in a block publishing starts: its beginning, or just after the last message the
/// stream already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Start,
    After(Kind, usize),
}

impl Step {
    fn includes(self, kind: Kind, index: Option<usize>) -> bool {
        let rank = |kind| match kind {
            Kind::Transactions => 0,
            Kind::Refused => 1,
            Kind::Blocks => 2,
        };
        match self {
            Step::Start => true,
            Step::After(done, done_index) => {
                rank(kind) > rank(done)
                    || (kind == done && index.is_some_and(|index| index > done_index))
            }
        }
    }
}

/// Where the export stands, from the stream's last message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The stream holds nothing of this chain yet.
    Empty,
    /// Every message of blocks up to this height is in the stream.
    Done(Height),
    /// Part of this block is: publishing continues after `Step`.
    Within(Height, Step),
}

impl Position {
    /// The position the last message (on `subject`, with `headers`) leaves the export in;
    /// None when it is not a message this layout writes.
    pub fn of_last(subject: &str, header: impl Fn(&str) -> Option<String>) -> Option<Position> {
        let kind = Kind::parse(subject.rsplit('.').nth(1)?)?;
        let height = Height::new(header(HEIGHT_HEADER)?.parse().ok()?)?;
        Some(match kind {
            Kind::Blocks => Position::Done(height),
            kind => {
                let index = header(INDEX_HEADER)?.parse().ok()?;
                Position::Within(height, Step::After(kind, index))
            }
        })
    }

    /// The last block whose every message is in the stream.
    pub fn exported(self) -> Option<Height> {
        match self {
            Position::Empty => None,
            Position::Done(height) => Some(height),
            Position::Within(height, _) => height.previous(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Refusal;
    use crate::wire::index::Tags;

    fn block() -> EncodedBlock {
        let tags = |id: &str| Tags {
            transaction_id: Some(id.into()),
            ..Tags::default()
        };
        let refusal = Refusal::by_node(2, Tags::default());
        EncodedBlock::encode(
            Height::new(7).unwrap(),
            "apphash",
            vec![(tags("a"), "{}".into()), (tags("b"), "{}".into())],
            vec![refusal],
        )
    }

    fn ids(messages: &[Outgoing]) -> Vec<&str> {
        messages.iter().map(|m| m.headers[0].1.as_str()).collect()
    }

    #[test]
    fn a_block_is_its_transactions_its_refusals_then_its_commit_marker() {
        let layout = Layout::new("test.chain *1");
        assert_eq!(layout.filter(), "planetmint.test_chain__1.>");
        let messages = layout.messages(&block(), Step::Start, false);
        assert_eq!(
            ids(&messages),
            [
                "test_chain__1:7:transactions:0",
                "test_chain__1:7:transactions:1",
                "test_chain__1:7:refused:0",
                "test_chain__1:7:blocks"
            ]
        );
        assert_eq!(
            messages[1].subject,
            "planetmint.test_chain__1.transactions.7"
        );
        assert_eq!(messages[3].subject, "planetmint.test_chain__1.blocks.7");
        assert_eq!(
            messages[3].headers[2],
            (APP_HASH_HEADER, "apphash".to_owned())
        );
        assert_eq!(messages[1].headers[2], (INDEX_HEADER, "1".to_owned()));
        assert_eq!(messages[3].payload, block().block);
        let full = layout.messages(&block(), Step::Start, true);
        assert!(full[0].payload.contains("\"transaction\":{}"));
    }

    #[test]
    fn an_interrupted_block_continues_after_the_last_stored_message() {
        let layout = Layout::new("c");
        let after_first = layout.messages(&block(), Step::After(Kind::Transactions, 0), false);
        assert_eq!(
            ids(&after_first),
            ["c:7:transactions:1", "c:7:refused:0", "c:7:blocks"]
        );
        let after_refused = layout.messages(&block(), Step::After(Kind::Refused, 0), false);
        assert_eq!(ids(&after_refused), ["c:7:blocks"]);
        // Read back: each message names where it leaves the export.
        for (i, message) in layout
            .messages(&block(), Step::Start, false)
            .iter()
            .enumerate()
        {
            let header = |name: &str| {
                message
                    .headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
            };
            let position = Position::of_last(&message.subject, header).unwrap();
            let rest = match position {
                Position::Done(height) => {
                    assert_eq!(height.get(), 7);
                    Vec::new()
                }
                Position::Within(_, step) => layout.messages(&block(), step, false),
                Position::Empty => unreachable!(),
            };
            assert_eq!(rest.len(), 3 - i, "after message {i}");
        }
        let h = Height::new(7).unwrap();
        assert_eq!(Position::Within(h, Step::Start).exported(), Height::new(6));
        assert_eq!(Position::of_last("other.subject", |_| None), None);
    }
}
