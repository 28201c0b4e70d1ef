//! Message attributes: SNS's validation (with its messages), size accounting, and the three
//! forms they travel in — the notification envelope (`{"n": {"Type", "Value"}}`), SQS message
//! attributes for raw delivery, and the filter-policy matcher's view.
//!
//! Rules (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html>; messages as
//! AWS answers them): names of at most 256 bytes made of `A-Za-z0-9_-.`, not starting or ending
//! with `.` and without `..`; `DataType` `String`, `Number`, `Binary` or one of those followed by
//! `.` and a custom suffix (`String.Array` is a `String` whose value is a JSON array); a
//! non-empty `StringValue` (or `BinaryValue` for binary types).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// One message attribute as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAttribute {
    /// `String`, `Number`, `Binary`, `String.Array`, or with a custom suffix.
    pub data_type: String,
    /// Text value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// Base64 of the bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

impl MessageAttribute {
    /// The value as the envelope shows it (binary stays base64).
    pub fn value(&self) -> &str {
        self.string_value
            .as_deref()
            .or(self.binary_value.as_deref())
            .unwrap_or("")
    }

    fn is_binary(&self) -> bool {
        self.data_type.starts_with("Binary")
    }
}

/// Attributes by name, in name order.
pub type MessageAttributes = BTreeMap<String, MessageAttribute>;

/// Parses and validates `MessageAttributes` (awsJson shape `{name: {DataType, StringValue,
/// BinaryValue}}`). `batch_position` (1-based) words the null-`DataType` message as
/// `PublishBatch` does.
pub fn parse(value: Option<&Value>, batch_position: Option<usize>) -> Result<MessageAttributes> {
    let mut out = MessageAttributes::new();
    let Some(map) = value.and_then(Value::as_object) else {
        return Ok(out);
    };
    for (name, attr) in map {
        check_name(name)?;
        let attr = attr.as_object().cloned().unwrap_or_default();
        let Some(data_type) = attr.get("DataType").and_then(Value::as_str) else {
            let at = match batch_position {
                Some(p) => format!(
                    "publishBatchRequestEntries.{p}.member.messageAttributes.{name}.member.dataType"
                ),
                None => format!("messageAttributes.{name}.member.dataType"),
            };
            return Err(Error::Validation(format!(
                "1 validation error detected: Value null at '{at}' failed to satisfy constraint: \
                 Member must not be null"
            )));
        };
        check_type(name, data_type)?;
        let string_value = attr
            .get("StringValue")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let binary_value = attr
            .get("BinaryValue")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let empty = || {
            Error::ParameterValueInvalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute value \
                 for message attribute type '{data_type}'."
            ))
        };
        if string_value.is_none() && binary_value.is_none() {
            return Err(empty());
        }
        let binary = data_type.starts_with("Binary");
        let (field, present) = if binary {
            ("Binary", binary_value.as_deref())
        } else {
            ("String", string_value.as_deref())
        };
        match present {
            None => {
                return Err(Error::ParameterValueInvalid(format!(
                    "The message attribute '{name}' with type '{data_type}' must use field \
                     '{field}'."
                )));
            }
            Some("") => return Err(empty()),
            Some(v) => check_value(name, data_type, v)?,
        }
        let attribute = MessageAttribute {
            data_type: data_type.to_owned(),
            string_value: if binary { None } else { string_value },
            binary_value: if binary { binary_value } else { None },
        };
        out.insert(name.clone(), attribute);
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<()> {
    let bad = |m: String| Err(Error::ParameterValueInvalid(m));
    if name.len() > 256 {
        return bad("Length of message attribute name must be less than 256 bytes.".into());
    }
    if name.is_empty() {
        return bad("The message attribute name can not be empty.".into());
    }
    if name.starts_with('.') {
        return bad("Invalid message attribute name starting with character '.' was found.".into());
    }
    if name.ends_with('.') {
        return bad("Invalid message attribute name ending with character '.' was found.".into());
    }
    let mut prev = '\0';
    for c in name.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return bad(format!(
                "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute \
                 name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
                c as u32
            ));
        }
        if c == '.' && prev == '.' {
            return bad("Message attribute name can not have successive '.' character.".into());
        }
        prev = c;
    }
    Ok(())
}

fn check_type(name: &str, data_type: &str) -> Result<()> {
    let base = data_type.split_once('.').map_or(data_type, |(b, _)| b);
    let suffix_ok = data_type.split_once('.').is_none_or(|(_, s)| !s.is_empty());
    if matches!(base, "String" | "Number" | "Binary") && suffix_ok && data_type.len() <= 256 {
        return Ok(());
    }
    Err(Error::ParameterValueInvalid(format!(
        "The message attribute '{name}' has an invalid message attribute type, the set of \
         supported type prefixes is Binary, Number, and String."
    )))
}

fn check_value(name: &str, data_type: &str, value: &str) -> Result<()> {
    if data_type.starts_with("Number") {
        let ok = value.trim().parse::<f64>().is_ok_and(f64::is_finite);
        if !ok {
            return Err(Error::ParameterValueInvalid(format!(
                "Could not cast message attribute '{name}' value to number."
            )));
        }
    }
    if data_type == "String.Array" {
        let ok = serde_json::from_str::<Value>(value).is_ok_and(|v| {
            v.as_array().is_some_and(|items| {
                items
                    .iter()
                    .all(|i| !matches!(i, Value::Array(_) | Value::Object(_)))
            })
        });
        if !ok {
            return Err(Error::ParameterValueInvalid(format!(
                "The message attribute '{name}' with type 'String.Array' has an invalid value: \
                 {value}. The value must be a JSON array of strings, numbers, booleans or null."
            )));
        }
    }
    Ok(())
}

/// Bytes the attributes count towards the 256 KB message limit: name, type and value.
pub fn size(attrs: &MessageAttributes) -> usize {
    attrs
        .iter()
        .map(|(n, a)| n.len() + a.data_type.len() + a.value().len())
        .sum()
}

/// The envelope form: `{"name": {"Type": "String", "Value": "v"}}`.
pub fn envelope(attrs: &MessageAttributes) -> Value {
    let mut m = Map::new();
    for (name, a) in attrs {
        m.insert(
            name.clone(),
            json!({ "Type": a.data_type, "Value": a.value() }),
        );
    }
    Value::Object(m)
}

/// The delivery form: SQS message attributes for raw delivery and topic-to-topic publishes.
pub fn to_delivery(attrs: &MessageAttributes) -> BTreeMap<String, ponte_delivery::Attribute> {
    attrs
        .iter()
        .map(|(n, a)| {
            (
                n.clone(),
                ponte_delivery::Attribute {
                    data_type: a.data_type.clone(),
                    string_value: a.string_value.clone(),
                    binary_value: a.binary_value.clone(),
                },
            )
        })
        .collect()
}

/// Back from the delivery form (a job handed to SNS by another service).
pub fn from_delivery(attrs: &BTreeMap<String, ponte_delivery::Attribute>) -> MessageAttributes {
    attrs
        .iter()
        .map(|(n, a)| {
            (
                n.clone(),
                MessageAttribute {
                    data_type: a.data_type.clone(),
                    string_value: a.string_value.clone(),
                    binary_value: a.binary_value.clone(),
                },
            )
        })
        .collect()
}

/// The filter-policy matcher's view (binary attributes are ignored by SNS filtering).
pub fn for_filter(attrs: &MessageAttributes) -> Vec<ponte_pattern::Attribute<'_>> {
    attrs
        .iter()
        .filter(|(_, a)| !a.is_binary())
        .map(|(n, a)| ponte_pattern::Attribute {
            name: n,
            data_type: &a.data_type,
            value: a.value(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(v: Value) -> String {
        parse(Some(&v), None).unwrap_err().to_string()
    }

    #[test]
    fn validation_uses_aws_messages() {
        let ok = parse(
            Some(&json!({"a": {"DataType": "String", "StringValue": "x"},
                         "b": {"DataType": "Number.float", "StringValue": "1.5"},
                         "c": {"DataType": "Binary", "BinaryValue": "AQI="},
                         "d": {"DataType": "String.Array", "StringValue": "[\"x\", 1, true]"}})),
            None,
        )
        .unwrap();
        assert_eq!(ok.len(), 4);
        assert_eq!(
            envelope(&ok)["c"],
            json!({"Type": "Binary", "Value": "AQI="})
        );
        assert_eq!(for_filter(&ok).len(), 3);
        assert_eq!(
            err(json!({".a": {"DataType": "String", "StringValue": "x"}})),
            "Invalid message attribute name starting with character '.' was found."
        );
        assert_eq!(
            err(json!({"a..b": {"DataType": "String", "StringValue": "x"}})),
            "Message attribute name can not have successive '.' character."
        );
        assert_eq!(
            err(json!({"a b": {"DataType": "String", "StringValue": "x"}})),
            "Invalid non-alphanumeric character '#x20' was found in the message attribute name. \
             Can only include alphanumeric characters, hyphens, underscores, or dots."
        );
        assert_eq!(
            err(json!({"a": {"DataType": "Text", "StringValue": "x"}})),
            "The message attribute 'a' has an invalid message attribute type, the set of \
             supported type prefixes is Binary, Number, and String."
        );
        assert_eq!(
            err(json!({"a": {"DataType": "Binary", "StringValue": "x"}})),
            "The message attribute 'a' with type 'Binary' must use field 'Binary'."
        );
        assert_eq!(
            err(json!({"a": {"DataType": "String", "StringValue": ""}})),
            "The message attribute 'a' must contain non-empty message attribute value for \
             message attribute type 'String'."
        );
        assert_eq!(
            err(json!({"a": {"DataType": "Number", "StringValue": "one"}})),
            "Could not cast message attribute 'a' value to number."
        );
        let null_type = parse(Some(&json!({"a": {"StringValue": "x"}})), Some(2)).unwrap_err();
        assert_eq!(null_type.to_aws().code, "ValidationError");
        assert!(
            null_type.to_string().contains(
                "publishBatchRequestEntries.2.member.messageAttributes.a.member.dataType"
            )
        );
    }
}
