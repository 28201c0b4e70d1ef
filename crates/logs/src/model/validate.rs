//! AWS's model validation messages (`1 validation error detected: Value 'x' at 'logGroupName'
//! failed to satisfy constraint: Member must ...`), collected per request so one answer names
//! every violated constraint, as AWS does.
//!
//! The character rules of the model's `pattern` traits are written out as predicates here rather
//! than compiled regexes: each one is a simple character class.

/// A `pattern` trait: its text (for the message) and the predicate that checks it.
pub type Rule<'a> = (&'a str, fn(&str) -> bool);

/// The violations found so far in one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

/// `logGroupName`'s pattern.
pub const GROUP_NAME_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
/// `logStreamName`'s pattern.
pub const STREAM_NAME_PATTERN: &str = "[^:*]*";
/// `logGroupIdentifier`'s pattern.
pub const IDENTIFIER_PATTERN: &str = r"[\w#+=/:,.@-]*";
/// `resourceArn`'s pattern.
pub const RESOURCE_ARN_PATTERN: &str = r"[\w+=/:,.@-]*";
/// `logGroupNamePattern`'s pattern (DescribeLogGroups).
pub const GROUP_NAME_SUBSTRING_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]*";
/// A tag key's pattern.
pub const TAG_KEY_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$";
/// A tag value's pattern.
pub const TAG_VALUE_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `value` at `path` breaks `constraint`.
    pub fn push(&mut self, value: &str, path: &str, constraint: &str) {
        self.0.push(format!(
            "Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Records a missing required member.
    pub fn missing(&mut self, path: &str) {
        self.0.push(format!(
            "Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ));
    }

    /// Checks a string's length (in characters, as AWS counts) and character pattern.
    pub fn string(
        &mut self,
        value: &str,
        path: &str,
        min: usize,
        max: usize,
        pattern: Option<Rule<'_>>,
    ) {
        let len = value.chars().count();
        if len < min {
            self.push(
                value,
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.push(
                value,
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
        if let Some((text, ok)) = pattern
            && !ok(value)
        {
            self.push(
                value,
                path,
                &format!("Member must satisfy regular expression pattern: {text}"),
            );
        }
    }

    /// Checks an integer's range.
    pub fn range(&mut self, value: i64, path: &str, min: i64, max: i64) {
        if value < min {
            self.push(
                &value.to_string(),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if value > max {
            self.push(
                &value.to_string(),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// Checks an enum.
    pub fn one_of(&mut self, value: &str, path: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                value,
                path,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The combined message, or `None` when there is nothing to report.
    pub fn message(&self) -> Option<String> {
        match self.0.len() {
            0 => None,
            1 => Some(format!("1 validation error detected: {}", self.0[0])),
            n => Some(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            )),
        }
    }
}

/// `[\.\-_/#A-Za-z0-9]+` (and `*` when empty is allowed by the caller's min length).
pub fn is_group_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'))
}

/// `[^:*]*`.
pub fn is_stream_name(s: &str) -> bool {
    !s.contains([':', '*'])
}

/// `[\w#+=/:,.@-]*` (`\w` in Java's sense: ASCII letters, digits, `_`).
pub fn is_identifier(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '#' | '+' | '=' | '/' | ':' | ',' | '.' | '@' | '-')
    })
}

/// `[\w+=/:,.@-]*`.
pub fn is_resource_arn(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '+' | '=' | '/' | ':' | ',' | '.' | '@' | '-')
    })
}

fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

fn is_tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || is_space_separator(c)
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// A tag key's characters (length is checked separately).
pub fn is_tag_key(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_tag_char)
}

/// A tag value's characters.
pub fn is_tag_value(s: &str) -> bool {
    s.chars().all(is_tag_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_aws_shape() {
        let mut v = Violations::new();
        assert_eq!(v.message(), None);
        v.range(10001, "limit", 1, 10000);
        assert_eq!(
            v.message().unwrap(),
            "1 validation error detected: Value '10001' at 'limit' failed to satisfy \
             constraint: Member must have value less than or equal to 10000"
        );
        v.string(
            "a b",
            "logGroupName",
            1,
            512,
            Some((GROUP_NAME_PATTERN, is_group_name)),
        );
        assert!(
            v.message()
                .unwrap()
                .starts_with("2 validation errors detected: ")
        );
        assert!(v.message().unwrap().contains(
            "; Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        ));
    }

    #[test]
    fn character_classes() {
        assert!(is_group_name("/aws/lambda/my-fn_1.#"));
        assert!(!is_group_name("has space"));
        assert!(is_stream_name("2024/01/01/[$LATEST]abc"));
        assert!(!is_stream_name("a:b"));
        assert!(is_tag_key("env name"));
        assert!(!is_tag_key("bad!"));
        assert!(is_tag_value(""));
        assert!(is_identifier(
            "arn:aws:logs:us-east-1:000000000000:log-group:x"
        ));
        assert!(!is_identifier("arn:*"));
    }
}
