//! The decoded JSON model: [`Value`] and its [`Object`], as Python's `json` module holds them.
//!
//! In: what the decoder (or a test) builds. Out: the tree every later stage reads: canonical
//! bytes, ids, schema rules and signatures. It holds exactly what Python holds, no more:
//! integers exact at any size, objects with unique keys (the last of a repeated key wins),
//! and a string with a lone surrogate as [`Value::Unencodable`]. How a value prints
//! (`Display`, its canonical form) lives with the canonical writer, which reads this model.

/// A decoded JSON value, as Python's `json` module represents it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// An integer beyond 64 bits, kept as its exact decimal text (optional `-`, no leading zeros).
    BigInt(Box<str>),
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    Object(Object),
    /// A string holding a lone surrogate escape (`"\ud800"`). Python decodes it, but no
    /// serializer Planetmint uses can encode it: any id or message over it fails.
    Unencodable,
}

/// A JSON object: keys unique and sorted by code point, which is the order the canonical form
/// needs and gives lookups by binary search. Python keeps insertion order, but nothing
/// Planetmint hashes or validates depends on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    entries: Vec<(String, Value)>,
}

impl Object {
    /// Builds an object from pairs in document order; a repeated key keeps its last value.
    pub fn from_pairs(mut pairs: Vec<(String, Value)>) -> Self {
        // Stable sort keeps document order among equal keys, so the last of a run is the one
        // Python's dict would have kept.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            match entries.last_mut() {
                Some(last) if last.0 == key => last.1 = value,
                _ => entries.push((key, value)),
            }
        }
        Object { entries }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Entries in canonical (code point) order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets `key` to `value`, inserting it in order when absent.
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (key.to_owned(), value)),
        }
    }

    /// Keeps only the entries whose key satisfies `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|(k, _)| keep(k));
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// `value[key]` when `self` is an object holding `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// Python's name for this value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::BigInt(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Unencodable => "string",
        }
    }

    /// Whether a [`Value::Unencodable`] occurs anywhere inside.
    pub fn contains_unencodable(&self) -> bool {
        match self {
            Value::Unencodable => true,
            Value::Array(items) => items.iter().any(Value::contains_unencodable),
            Value::Object(object) => object.iter().any(|(_, v)| v.contains_unencodable()),
            _ => false,
        }
    }
}
