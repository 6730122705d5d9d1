//! Schema. TEMPORARY STUB on main, replaced by the `schema` branch.
use super::json::Object;
#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub enum SchemaError {
    Stub,
}
impl SchemaError {
    pub fn code(&self) -> &'static str {
        "stub"
    }
    pub fn python_class(&self) -> &'static str {
        "stub"
    }
}
pub fn check(_local: &Object) -> Result<(), SchemaError> {
    Ok(())
}
