//! Crypto-conditions (draft-thomas-crypto-conditions) as Planetmint uses them. STUB: being written.
