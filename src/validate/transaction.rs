//! Transaction ids, signed messages and verdicts. STUB: being written.
