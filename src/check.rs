//! The `check` command: validate a file of transactions, one verdict line per input line.
//!
//! In: lines of base64 (the raw transaction bytes as CometBFT blocks show them) or, with
//! [`Encoding::Json`], of raw JSON text. Out: one compact JSON object per line, in input
//! order: `{"valid", "transaction_id", "asset_id", "asset_ids", "operation", "error"}`.
//!
//! Input is read in bounded batches that all cores validate at once, and written before
//! the next batch is read, so memory depends on the batch limits below, never on the input
//! length, and order is kept without a reordering buffer.

use std::borrow::Cow;
use std::io::{self, BufRead, Write};

use base64::Engine as _;
use serde::Serialize;

use crate::parallel::map_in_order;
use crate::validate::{self, Verdict};

/// Longest line accepted. CometBFT's default `max_tx_bytes` is 1 MiB, which base64 makes
/// 1.4 MiB; 8 MiB leaves room for nodes configured larger while bounding memory per line.
pub const MAX_LINE_BYTES: usize = 8 << 20;

/// Lines per batch: enough that spawning the batch's threads costs well under 1% of the
/// validation work (about 40 µs a transaction), small enough to keep the output flowing.
const BATCH_LINES: usize = 4096;

/// Bytes per batch, so a file of huge transactions cannot make a batch hold gigabytes.
const BATCH_BYTES: usize = 32 << 20;

/// How each line encodes the raw transaction bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Standard base64, as CometBFT's JSON shows `block.data.txs`.
    Base64,
    /// The raw JSON text itself.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("reading input: {0}")]
    Read(#[source] io::Error),
    #[error("writing output: {0}")]
    Write(#[source] io::Error),
}

/// Counts over a whole run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub invalid: u64,
}

/// One input line: its bytes, or why it could not be held.
enum Line {
    Text(Vec<u8>),
    TooLong,
}

/// Validates every line of `input` and writes one verdict line per input line to `output`.
pub fn run(
    mut input: impl BufRead,
    mut output: impl Write,
    encoding: Encoding,
    threads: usize,
) -> Result<Summary, CheckError> {
    let mut summary = Summary::default();
    let mut batch = Vec::with_capacity(BATCH_LINES);
    loop {
        let mut batch_bytes = 0;
        batch.clear();
        while batch.len() < BATCH_LINES && batch_bytes < BATCH_BYTES {
            match read_line(&mut input).map_err(CheckError::Read)? {
                Some(line) => {
                    if let Line::Text(bytes) = &line {
                        batch_bytes += bytes.len();
                    }
                    batch.push(line);
                }
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        let results = map_in_order(&batch, threads, |line| verdict_line(line, encoding));
        for (valid, line) in results {
            summary.lines += 1;
            summary.invalid += u64::from(!valid);
            output.write_all(&line).map_err(CheckError::Write)?;
        }
    }
    output.flush().map_err(CheckError::Write)?;
    Ok(summary)
}

/// Reads one line without its line ending; a line over [`MAX_LINE_BYTES`] is skipped to
/// its end without being stored.
fn read_line(input: &mut impl BufRead) -> io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            if line.is_empty() && !too_long {
                return Ok(None);
            }
            break;
        }
        let (chunk, done) = match newline_at(available) {
            Some(i) => (&available[..i], i + 1),
            None => (available, available.len()),
        };
        let found_newline = done > chunk.len();
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        input.consume(done);
        if found_newline {
            break;
        }
    }
    if too_long {
        return Ok(Some(Line::TooLong));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(Line::Text(line)))
}

fn newline_at(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// The output record, fields in the documented order.
#[derive(Serialize)]
struct Record<'a> {
    valid: bool,
    transaction_id: Option<String>,
    asset_id: Option<&'a str>,
    asset_ids: Option<&'a [String]>,
    operation: Option<&'a str>,
    error: Option<String>,
}

impl Record<'_> {
    fn refused(error: String) -> Self {
        Record {
            valid: false,
            transaction_id: None,
            asset_id: None,
            asset_ids: None,
            operation: None,
            error: Some(error),
        }
    }
}

/// The verdict for one line, as (valid, JSON line with its newline).
fn verdict_line(line: &Line, encoding: Encoding) -> (bool, Vec<u8>) {
    let verdict: Verdict;
    let record = match decode_line(line, encoding) {
        Err(error) => Record::refused(error),
        Ok(raw) => {
            verdict = validate::validate(&raw);
            record_of(&verdict)
        }
    };
    let mut out = serde_json::to_vec(&record).expect("records always serialize");
    out.push(b'\n');
    (record.valid, out)
}

/// The raw transaction bytes of a line: the line itself in JSON mode (no copy), decoded
/// base64 otherwise.
fn decode_line(line: &Line, encoding: Encoding) -> Result<Cow<'_, [u8]>, String> {
    let Line::Text(text) = line else {
        return Err(format!("line_too_long: over {MAX_LINE_BYTES} bytes"));
    };
    match encoding {
        Encoding::Json => Ok(Cow::Borrowed(text)),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(text.trim_ascii())
            .map(Cow::Owned)
            .map_err(|e| format!("base64: {e}")),
    }
}

fn record_of(verdict: &Verdict) -> Record<'_> {
    let operation = verdict.tags.operation.as_deref();
    let transaction_id = verdict.transaction_id.map(|id| id.to_string());
    match &verdict.result {
        Err(invalid) => Record {
            transaction_id,
            operation,
            ..Record::refused(format!("{}: {invalid}", invalid.code()))
        },
        Ok(tx) => Record {
            valid: tx.unverifiable.is_none(),
            transaction_id,
            asset_id: tx.asset_id(),
            asset_ids: Some(&tx.asset_ids),
            operation,
            error: tx.unverifiable.map(|why| format!("unverifiable: {why}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &[u8], encoding: Encoding) -> (Summary, Vec<serde_json::Value>) {
        let mut out = Vec::new();
        let summary = run(input, &mut out, encoding, 3).unwrap();
        let lines = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        (summary, lines)
    }

    #[test]
    fn every_line_gets_a_verdict_in_order() {
        let (summary, lines) = run_on(b"not base64!\n\ne30=\r\nWzFd\n", Encoding::Base64);
        assert_eq!(
            summary,
            Summary {
                lines: 4,
                invalid: 4
            }
        );
        let errors: Vec<&str> = lines.iter().map(|l| l["error"].as_str().unwrap()).collect();
        assert!(errors[0].starts_with("base64"), "{errors:?}");
        assert!(errors[1].starts_with("json"), "empty line: {errors:?}");
        assert!(errors[2].starts_with("missing_key"), "{{}}: {errors:?}");
        assert!(errors[3].starts_with("not_object"), "[1]: {errors:?}");
    }

    #[test]
    fn records_keep_the_documented_key_order() {
        let mut out = Vec::new();
        run(&b"e30=\n"[..], &mut out, Encoding::Base64, 1).unwrap();
        let text = String::from_utf8(out).unwrap();
        let keys = [
            "valid",
            "transaction_id",
            "asset_id",
            "asset_ids",
            "operation",
            "error",
        ];
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.is_sorted(), "{text}");
    }

    #[test]
    fn overlong_lines_are_refused_not_stored() {
        let mut input = vec![b'A'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n{}\n");
        let (summary, lines) = run_on(&input, Encoding::Json);
        assert_eq!(summary.lines, 2);
        assert!(
            lines[0]["error"]
                .as_str()
                .unwrap()
                .starts_with("line_too_long")
        );
        assert!(
            lines[1]["error"]
                .as_str()
                .unwrap()
                .starts_with("missing_key")
        );
    }
}
