//! What the streams must carry: the expected frames of the recorded chains
//! (`fixtures/chains/*.valid_*.jsonl`, computed by Planetmint's own library, never our own
//! output), whole, cut to a range of heights, or cycled as the test node cycles a chain; the
//! fields of frames; and line-by-line comparisons that report every difference at once.

use std::path::{Path, PathBuf};

pub fn fixture(relative: &str) -> PathBuf {
    repository("fixtures").join(relative)
}

/// A file of the repository (the README, what `packaging/` ships).
pub fn repository(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The lines `/api/v1/streams/<stream>` must send for `chain` (`stream` is
/// `valid_transactions` or `valid_blocks`).
pub fn expected_lines(chain: &str, stream: &str) -> Vec<String> {
    let path = fixture(&format!("chains/{chain}.{stream}.jsonl"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// How many blocks `chain` has: valid_blocks has one frame per block, empty blocks included.
pub fn chain_blocks(chain: &str) -> u64 {
    expected_lines(chain, "valid_blocks").len() as u64
}

/// [`expected_lines`] of the blocks up to `last_height` only.
pub fn expected_until(chain: &str, stream: &str, last_height: u64) -> Vec<String> {
    let lines = expected_lines(chain, stream);
    let keep = heights(&lines)
        .into_iter()
        .take_while(|height| *height <= last_height)
        .count();
    lines[..keep].to_vec()
}

/// [`expected_lines`] of the blocks `from..=to` only.
pub fn expected_range(chain: &str, stream: &str, from: u64, to: u64) -> Vec<String> {
    let lines = expected_lines(chain, stream);
    heights(&lines)
        .into_iter()
        .zip(lines)
        .filter(|(height, _)| (from..=to).contains(height))
        .map(|(_, line)| line)
        .collect()
}

/// `key` of every frame, in order, read by `get` (which returns None when it is missing or
/// of another type).
fn field<T>(frames: &[String], key: &str, get: impl Fn(&serde_json::Value) -> Option<T>) -> Vec<T> {
    frames
        .iter()
        .map(|frame| {
            let value: serde_json::Value = serde_json::from_str(frame)
                .unwrap_or_else(|e| panic!("frame is not JSON ({e}): {frame}"));
            get(&value[key]).unwrap_or_else(|| panic!("frame without a {key}: {frame}"))
        })
        .collect()
}

/// The `height` of every frame, in order.
pub fn heights(frames: &[String]) -> Vec<u64> {
    field(frames, "height", serde_json::Value::as_u64)
}

/// The `hash` of every block frame, in order.
pub fn hashes(frames: &[String]) -> Vec<String> {
    field(frames, "hash", |v| v.as_str().map(str::to_owned))
}

/// `None` when `got` equals `expected` line for line, else a short report: the counts,
/// the first difference, and how many lines differ.
pub fn diff_lines(what: &str, got: &[String], expected: &[String]) -> Option<String> {
    if got == expected {
        return None;
    }
    let first = got
        .iter()
        .zip(expected)
        .position(|(g, e)| g != e)
        .unwrap_or(got.len().min(expected.len()));
    let differing = got.iter().zip(expected).filter(|(g, e)| g != e).count();
    Some(format!(
        "{what}: got {} frames, expected {}; {differing} of the first {} differ; first difference at line {}:\n  got:      {}\n  expected: {}",
        got.len(),
        expected.len(),
        got.len().min(expected.len()),
        first + 1,
        got.get(first).map_or("<none>", String::as_str),
        expected.get(first).map_or("<none>", String::as_str),
    ))
}

/// Panics with every report at once.
pub fn assert_no_diffs(reports: impl IntoIterator<Item = Option<String>>) {
    let reports: Vec<String> = reports.into_iter().flatten().collect();
    assert!(reports.is_empty(), "\n{}", reports.join("\n\n"));
}

/// Every height once, in order, each with Planetmint's app hash: what the block stream
/// must get right whatever the verdicts on single transactions (the hash follows the ids
/// of the transactions the node accepted).
pub fn assert_heights_and_hashes(what: &str, got: &[String], expected: &[String]) {
    assert_eq!(
        heights(got),
        heights(expected),
        "{what}: valid_blocks must carry every height once, in order"
    );
    assert_eq!(
        hashes(got),
        hashes(expected),
        "{what}: valid_blocks app hashes"
    );
}

/// The frames `/api/v1/streams/<stream>` must send for heights `1..=last_height` of a chain
/// served by `TestNode::start_cycled`: for each height `h`, the fixture frames of block
/// `(h - 1) % N + 1` (N blocks in the chain) with their `height` rewritten to `h`. Hashes and
/// ids stay the fixture's (the block hash follows the header's previous app hash, which
/// cycling keeps). The text is the fixture line's with only the `"height":N` member
/// replaced, so frames compare byte for byte.
pub fn expected_cycled(chain: &str, stream: &str, last_height: u64) -> Vec<String> {
    let blocks = chain_blocks(chain) as usize;
    let lines = expected_lines(chain, stream);
    // Each block's frames, as the text before and after the height's digits.
    let mut frames: Vec<Vec<(&str, &str)>> = vec![Vec::new(); blocks];
    for (line, height) in lines.iter().zip(heights(&lines)) {
        let mut members = line.match_indices("\"height\":");
        let (Some((at, member)), None) = (members.next(), members.next()) else {
            panic!("{chain}.{stream}: not one height member in {line}");
        };
        let digits = at + member.len();
        let end = digits + line[digits..].len()
            - line[digits..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        assert_eq!(line[digits..end], height.to_string(), "{line}");
        assert!(
            (1..=blocks as u64).contains(&height),
            "{chain}.{stream}: height {height} past the chain"
        );
        frames[height as usize - 1].push((&line[..digits], &line[end..]));
    }
    (1..=last_height)
        .flat_map(|height| {
            frames[((height - 1) % blocks as u64) as usize]
                .iter()
                .map(move |(before, after)| format!("{before}{height}{after}"))
        })
        .collect()
}

#[test]
fn expected_cycled_rewrites_heights_only() {
    let chain = "cometbft-0.38";
    let height = |line: &String| heights(std::slice::from_ref(line))[0];
    let shift = |line: &String, by: u64| {
        let h = height(line);
        line.replace(
            &format!(r#""height":{h}"#),
            &format!(r#""height":{}"#, h + by),
        )
    };
    let blocks = chain_blocks(chain);
    let last = 2 * blocks + 6;
    for stream in ["valid_blocks", "valid_transactions"] {
        let fixture = expected_lines(chain, stream);
        assert_eq!(expected_cycled(chain, stream, blocks), fixture);
        // blocks+1..=2*blocks are 1..=blocks again, the last 6 heights are 1..=6.
        let mut expected = fixture.clone();
        expected.extend(fixture.iter().map(|line| shift(line, blocks)));
        expected.extend(
            fixture
                .iter()
                .filter(|line| height(line) <= 6)
                .map(|line| shift(line, 2 * blocks)),
        );
        let cycled = expected_cycled(chain, stream, last);
        assert_eq!(cycled, expected);
        if stream == "valid_blocks" {
            assert_eq!(heights(&cycled), (1..=last).collect::<Vec<_>>());
        }
    }
}
