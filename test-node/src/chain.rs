//! Chain files: a recorded chain (`*.chain.jsonl`: a status line, then one line per block
//! with its `/block` and `/block_results` replies) read into [`Chain`], each block kept as
//! [`Template`]s with their height fields cut out, so a block can be served at any height.
//! In: a path. Out: the status, the dialect and the blocks, for the RPC handlers and the
//! websocket sessions to render.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// The one query the node serves subscriptions for.
pub(crate) const NEW_BLOCK_QUERY: &str = "tm.event = 'NewBlock'";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    V0_34,
    V0_38,
}

/// A chain file, read.
pub(crate) struct Chain {
    /// The status line's recorded `/status` reply.
    pub status: Value,
    pub dialect: Dialect,
    /// The blocks of heights 1, 2, 3, ...
    pub blocks: Vec<Block>,
}

impl Chain {
    /// Reads the chain file at `path`; panics (naming what is wrong) on a file that is not
    /// a chain file of heights 1, 2, 3, ...
    pub fn read(path: &Path) -> Chain {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut lines = text.lines();
        let status: Value = serde_json::from_str::<Value>(lines.next().expect("status line"))
            .expect("status line is JSON")["status"]
            .clone();
        let version = status["result"]["node_info"]["version"]
            .as_str()
            .expect("node version");
        let dialect = if version.starts_with("0.34.") {
            Dialect::V0_34
        } else if version.starts_with("0.38.") {
            Dialect::V0_38
        } else {
            panic!("test node: unsupported node version {version}");
        };
        let blocks = lines
            .enumerate()
            .map(|(i, line)| {
                let (height, block) = parse_line(line, dialect);
                assert_eq!(
                    height,
                    i as u64 + 1,
                    "chain file heights must be 1, 2, 3, ..."
                );
                block
            })
            .collect();
        Chain {
            status,
            dialect,
            blocks,
        }
    }
}

/// One recorded block, as texts with its height fields cut out (see [`Template`]).
pub(crate) struct Block {
    /// The `result` of its `/block` reply.
    pub block: Template,
    /// The `result` of its `/block_results` reply.
    pub results: Template,
    /// The `result` of its NewBlock event.
    pub event: Template,
}

/// A recorded text with its height fields cut out, filled in with the height served: the
/// recorded height gives back the recorded text byte for byte.
pub(crate) struct Template {
    /// The text around the holes: `pieces[0]`, hole 0, `pieces[1]`, hole 1, ...
    pieces: Vec<String>,
    holes: Vec<Hole>,
}

/// A height field (a JSON string) of a recorded text.
#[derive(Debug, Clone, Copy)]
enum Hole {
    /// The block's height (`block.header.height`, `block_results.height`).
    Height,
    /// The height before (`block.last_commit.height`).
    Previous,
}

impl Hole {
    fn value(self, height: u64) -> u64 {
        match self {
            Hole::Height => height,
            Hole::Previous => height - 1,
        }
    }
}

impl Template {
    /// `text` with the fields at `holes` cut out; each must hold its value at `recorded`.
    fn cut(text: &str, mut holes: Vec<(Range<usize>, Hole)>, recorded: u64) -> Template {
        holes.sort_by_key(|(range, _)| range.start);
        let mut template = Template {
            pieces: Vec::with_capacity(holes.len() + 1),
            holes: Vec::with_capacity(holes.len()),
        };
        let mut at = 0;
        for (range, hole) in holes {
            let field = &text[range.clone()];
            assert_eq!(
                field,
                format!("\"{}\"", hole.value(recorded)),
                "test node: {hole:?} field of the block at height {recorded}"
            );
            template.pieces.push(text[at..range.start].to_owned());
            template.holes.push(hole);
            at = range.end;
        }
        template.pieces.push(text[at..].to_owned());
        template
    }

    fn literal(text: &str) -> Template {
        Template {
            pieces: vec![text.to_owned()],
            holes: Vec::new(),
        }
    }

    fn push_str(&mut self, text: &str) {
        self.pieces.last_mut().expect("a piece").push_str(text);
    }

    fn push(&mut self, other: &Template) {
        let mut pieces = other.pieces.iter();
        self.push_str(pieces.next().expect("a piece"));
        self.pieces.extend(pieces.cloned());
        self.holes.extend(&other.holes);
    }

    /// The text for `height`.
    pub fn render_into(&self, height: u64, out: &mut String) {
        out.reserve(self.pieces.iter().map(String::len).sum::<usize>() + 24 * self.holes.len());
        out.push_str(&self.pieces[0]);
        for (hole, piece) in self.holes.iter().zip(&self.pieces[1..]) {
            write!(out, "\"{}\"", hole.value(height)).expect("writing to a String");
            out.push_str(piece);
        }
    }

    pub fn render(&self, height: u64) -> String {
        let mut out = String::new();
        self.render_into(height, &mut out);
        out
    }
}

/// Where `part`, a slice of `whole` (as serde_json borrows it), lies in `whole`.
fn span(whole: &str, part: &str) -> Range<usize> {
    let start = (part.as_ptr() as usize)
        .checked_sub(whole.as_ptr() as usize)
        .filter(|start| start + part.len() <= whole.len())
        .expect("a slice of the text");
    start..start + part.len()
}

/// A chain line: its height and what the node serves for it.
fn parse_line(line: &str, dialect: Dialect) -> (u64, Block) {
    #[derive(Deserialize)]
    struct Line<'a> {
        height: u64,
        #[serde(borrow)]
        block: &'a RawValue,
        #[serde(borrow)]
        block_results: &'a RawValue,
    }
    #[derive(Deserialize)]
    struct Reply<'a> {
        #[serde(borrow)]
        result: &'a RawValue,
    }
    /// The `result` of a `/block` reply.
    #[derive(Deserialize)]
    struct BlockResult<'a> {
        #[serde(borrow)]
        block_id: &'a RawValue,
        #[serde(borrow)]
        block: &'a RawValue,
    }
    #[derive(Deserialize)]
    struct BlockHeights<'a> {
        #[serde(borrow)]
        header: HasHeight<'a>,
        #[serde(borrow, default)]
        last_commit: Option<HasHeight<'a>>,
    }
    #[derive(Deserialize)]
    struct HasHeight<'a> {
        #[serde(borrow)]
        height: &'a RawValue,
    }
    let raw: Line = serde_json::from_str(line).expect("chain line");
    let result = |reply: &RawValue| {
        serde_json::from_str::<Reply>(reply.get())
            .expect("recorded reply")
            .result
            .get()
            .to_owned()
    };
    let height = raw.height;

    let block_result = result(raw.block);
    let parts: BlockResult = serde_json::from_str(&block_result).expect("recorded block");
    let block_text = parts.block.get();
    let heights: BlockHeights = serde_json::from_str(block_text).expect("recorded block");
    let mut holes = vec![(span(block_text, heights.header.height.get()), Hole::Height)];
    if let Some(last_commit) = &heights.last_commit {
        holes.push((span(block_text, last_commit.height.get()), Hole::Previous));
    }
    let at = span(&block_result, block_text).start;
    let in_result = holes
        .iter()
        .map(|(range, hole)| (range.start + at..range.end + at, *hole))
        .collect();
    let block = Template::cut(&block_result, in_result, height);

    let results_text = result(raw.block_results);
    let results_height: HasHeight =
        serde_json::from_str(&results_text).expect("recorded block results");
    let results = Template::cut(
        &results_text,
        vec![(
            span(&results_text, results_height.height.get()),
            Hole::Height,
        )],
        height,
    );

    // check_chain_shapes.py's `new_block_event`.
    let mut event = Template::literal(&format!(
        r#"{{"query":{},"data":{{"type":"tendermint/event/NewBlock","value":{{"block":"#,
        json!(NEW_BLOCK_QUERY)
    ));
    event.push(&Template::cut(block_text, holes, height));
    match dialect {
        Dialect::V0_34 => event
            .push_str(r#","result_begin_block":{},"result_end_block":{"validator_updates":null}"#),
        Dialect::V0_38 => {
            let results: Value =
                serde_json::from_str(&results_text).expect("recorded block results");
            event.push_str(&format!(
                r#","block_id":{},"result_finalize_block":{}"#,
                parts.block_id.get(),
                result_finalize_block(&results)
            ));
        }
    }
    event.push_str(r#"}},"events":{"tm.event":["NewBlock"]}}"#);

    (
        height,
        Block {
            block,
            results,
            event,
        },
    )
}

/// The `result_finalize_block` of a 0.38 NewBlock event, from the block's `/block_results`
/// `result` (check_chain_shapes.py's `new_block_event`).
fn result_finalize_block(results: &Value) -> Value {
    let truthy = |v: &Value| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    let mut finalize = serde_json::Map::new();
    if truthy(&results["txs_results"]) {
        finalize.insert("tx_results".into(), results["txs_results"].clone());
    }
    finalize.insert("validator_updates".into(), json!([]));
    if truthy(&results["app_hash"]) {
        finalize.insert("app_hash".into(), results["app_hash"].clone());
    }
    Value::Object(finalize)
}
