//! Typed access to an operation's awsJson-shaped input, shared by the service adapters: each
//! service words the errors its own way ([`InputErrors`]), the reading rules are one.
//!
//! Reading rules (what the query decoder and lenient awsJson clients send): a `null` member is
//! absent; a string member also accepts a number or a boolean (as its text); an integer
//! accepts a number or numeric text; a boolean accepts `true`/`false` in any case as text.

use std::marker::PhantomData;

use serde_json::Value;

/// What a member should have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A boolean.
    Boolean,
    /// A list of strings.
    StringList,
    /// A map of strings.
    StringMap,
}

/// How a service words the errors of [`Input`].
pub trait InputErrors {
    /// The service's error.
    type Error;
    /// A `null` value inside a string map reads as `""` (SNS attributes) instead of failing.
    const NULL_IN_MAP_IS_EMPTY: bool = false;
    /// A required member is absent.
    fn missing(member: &str) -> Self::Error;
    /// `member` (or an element of it) is not what it should be; `shown` is the offending value
    /// as the service quotes it (JSON text, or the raw text of a string that did not parse).
    fn wrong(member: &str, shown: &str, expected: Expected) -> Self::Error;
}

/// An operation's input object, read with `E`'s errors.
pub struct Input<'a, E> {
    value: &'a Value,
    errors: PhantomData<E>,
}

impl<'a, E: InputErrors> Input<'a, E> {
    /// Wraps an input object.
    pub fn new(value: &'a Value) -> Self {
        Input {
            value,
            errors: PhantomData,
        }
    }

    /// A member, `None` when absent or `null`.
    pub fn get(&self, k: &str) -> Option<&'a Value> {
        self.value.get(k).filter(|v| !v.is_null())
    }

    /// An optional string.
    pub fn opt_str(&self, k: &str) -> Result<Option<String>, E::Error> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => text(v)
                .map(Some)
                .ok_or_else(|| E::wrong(k, &v.to_string(), Expected::String)),
        }
    }

    /// A required string.
    pub fn req_str(&self, k: &str) -> Result<String, E::Error> {
        self.opt_str(k)?.ok_or_else(|| E::missing(k))
    }

    /// An optional integer.
    pub fn opt_int(&self, k: &str) -> Result<Option<i64>, E::Error> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| E::wrong(k, &n.to_string(), Expected::Integer)),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| E::wrong(k, s, Expected::Integer)),
            Some(v) => Err(E::wrong(k, &v.to_string(), Expected::Integer)),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, k: &str) -> Result<Option<bool>, E::Error> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(E::wrong(k, &v.to_string(), Expected::Boolean)),
        }
    }

    /// A list of strings; absent = empty.
    pub fn str_list(&self, k: &str) -> Result<Vec<String>, E::Error> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(E::wrong(k, &other.to_string(), Expected::StringList)),
                })
                .collect(),
            Some(v) => Err(E::wrong(k, &v.to_string(), Expected::StringList)),
        }
    }

    /// A string map in request order (AWS validates attributes in the order given); absent =
    /// empty.
    pub fn str_map(&self, k: &str) -> Result<Vec<(String, String)>, E::Error> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(key, v)| match (v, text(v)) {
                    (_, Some(t)) => Ok((key.clone(), t)),
                    (Value::Null, None) if E::NULL_IN_MAP_IS_EMPTY => {
                        Ok((key.clone(), String::new()))
                    }
                    (other, None) => Err(E::wrong(k, &other.to_string(), Expected::StringMap)),
                })
                .collect(),
            Some(v) => Err(E::wrong(k, &v.to_string(), Expected::StringMap)),
        }
    }
}

/// A string, number or boolean as text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Words;
    impl InputErrors for Words {
        type Error = String;
        fn missing(member: &str) -> String {
            format!("missing {member}")
        }
        fn wrong(member: &str, shown: &str, expected: Expected) -> String {
            format!("{member}={shown} not {expected:?}")
        }
    }

    #[test]
    fn reading_rules() {
        let v = json!({"s": 5, "n": null, "i": " 42 ", "bad": "x", "b": "TRUE",
                       "l": ["a", 1], "m": {"a": 1, "b": null}});
        let i = Input::<Words>::new(&v);
        assert_eq!(i.opt_str("s"), Ok(Some("5".into())));
        assert_eq!(i.req_str("n"), Err("missing n".into()));
        assert_eq!(i.opt_int("i"), Ok(Some(42)));
        assert_eq!(i.opt_int("bad"), Err("bad=x not Integer".into()));
        assert_eq!(i.opt_bool("b"), Ok(Some(true)));
        assert_eq!(i.str_list("l"), Err("l=1 not StringList".into()));
        assert_eq!(i.str_map("m"), Err("m=null not StringMap".into()));
        assert_eq!(i.str_list("absent"), Ok(vec![]));
    }
}
