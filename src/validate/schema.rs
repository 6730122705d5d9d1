//! Structural rules of Planetmint transactions. STUB: being written.
