//! Crypto-conditions. TEMPORARY STUB on main, replaced by the `condition` branch.
use super::json::Value;
#[derive(Debug)]
pub enum Fulfillment {}
pub enum Verification {
    Valid,
    Invalid,
    Unverifiable,
}
#[derive(Debug)]
pub struct Condition;
#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub enum ConditionError {
    Stub,
}
impl ConditionError {
    pub fn code(&self) -> &'static str {
        "stub"
    }
}
impl Fulfillment {
    pub fn from_uri(_uri: &str) -> Result<Fulfillment, ConditionError> {
        Err(ConditionError::Stub)
    }
    pub fn condition(&self) -> Condition {
        match *self {}
    }
    pub fn validate(&self, _message: &[u8]) -> Verification {
        match *self {}
    }
    pub fn public_keys(&self) -> Vec<[u8; 32]> {
        match *self {}
    }
}
impl Condition {
    pub fn uri(&self) -> String {
        String::new()
    }
    pub fn from_details(_d: &Value) -> Result<Condition, ConditionError> {
        Err(ConditionError::Stub)
    }
}
