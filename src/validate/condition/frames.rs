//! Where CPython's recursion limit stops Python's recursive walks over a fulfillment.
//!
//! In: the nesting a parser or encoder is at and the level or leaf it enters. Out: the
//! deeper position, or [`ConditionError::TooDeep`] where Python raises `RecursionError`.
//! Refusing early also bounds our own recursion.

use super::types::{Condition, ConditionError};

/// Python stack frames one nesting level or one leaf takes in each of the three recursive
/// walks that can hit CPython's recursion limit of 1000 (`RecursionError`): pyasn1's DER
/// decoder and native encoder, both inside `from_uri`, and the encoding inside
/// `serialize_uri`.
///
/// Measured with pyasn1 0.4.8 on CPython 3.11 by bisecting `sys.setrecursionlimit` over
/// chains and mixes of thresholds and prefixes on every kind of leaf, calling from two frames
/// deep. Planetmint calls from a deeper stack, so its real limits sit a few levels lower
/// than ours; nothing under 20 levels of nesting is affected, and past that Python's
/// condition and (for thresholds) serialization already take time exponential in the depth.
/// Not modelled: the cost computation a threshold runs on its subtree while serializing,
/// which Python can push a few frames past these limits when five or more thresholds sit
/// under a hundred prefixes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frames {
    decode: u32,
    native: u32,
    encode: u32,
}

impl Frames {
    pub(super) const NONE: Frames = Frames::new(0, 0, 0);
    pub(super) const THRESHOLD_LEVEL: Frames = Frames::new(10, 9, 12);
    pub(super) const PREFIX_LEVEL: Frames = Frames::new(6, 6, 8);
    pub(super) const ED25519_LEAF: Frames = Frames::new(16, 24, 26);
    /// Preimage and rsa-sha-256 leaves.
    pub(super) const BYTES_LEAF: Frames = Frames::new(16, 20, 23);
    /// A threshold with neither subfulfillments nor subconditions.
    pub(super) const EMPTY_THRESHOLD_LEAF: Frames = Frames::new(16, 19, 23);
    const SIMPLE_CONDITION_LEAF: Frames = Frames::new(16, 25, 27);
    const COMPOUND_CONDITION_LEAF: Frames = Frames::new(17, 25, 27);
    /// Every path ends in a leaf taking at least this many frames.
    const SMALLEST_LEAF: Frames = Frames::new(16, 19, 23);
    const PYTHON_RECURSION_LIMIT: u32 = 1000;

    const fn new(decode: u32, native: u32, encode: u32) -> Frames {
        Frames {
            decode,
            native,
            encode,
        }
    }

    pub(super) fn plus(self, other: Frames) -> Frames {
        Frames::new(
            self.decode + other.decode,
            self.native + other.native,
            self.encode + other.encode,
        )
    }

    /// Whether `from_uri` gets through a leaf `leaf` nested under `self`.
    pub(super) fn parses(self, leaf: Frames) -> Result<(), ConditionError> {
        let total = self.plus(leaf);
        if total.decode <= Frames::PYTHON_RECURSION_LIMIT
            && total.native <= Frames::PYTHON_RECURSION_LIMIT
        {
            Ok(())
        } else {
            Err(ConditionError::TooDeep)
        }
    }

    /// Enters one level, refusing early what no leaf below could fit, which also bounds
    /// our own recursion.
    pub(super) fn enter(self, level: Frames) -> Result<Frames, ConditionError> {
        let inner = self.plus(level);
        inner.parses(Frames::SMALLEST_LEAF)?;
        Ok(inner)
    }

    /// Whether `serialize_uri` gets through a leaf `leaf` nested under `self`.
    pub(super) fn encodes(self, leaf: Frames) -> Result<(), ConditionError> {
        if self.encode + leaf.encode <= Frames::PYTHON_RECURSION_LIMIT {
            Ok(())
        } else {
            Err(ConditionError::TooDeep)
        }
    }
}

impl Condition {
    /// The frames a subcondition takes as a leaf.
    pub(super) fn frames(&self) -> Frames {
        if self.kind.is_compound() {
            Frames::COMPOUND_CONDITION_LEAF
        } else {
            Frames::SIMPLE_CONDITION_LEAF
        }
    }
}
