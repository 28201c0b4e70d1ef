//! Function identifiers (name, partial ARN, full ARN, with or without qualifier), ARNs, and
//! Lambda's timestamp format. Pure functions, no state.
//!
//! Lambda accepts a function as `my-function`, `my-function:v1`, `123456789012:function:my-function`,
//! or `arn:aws:lambda:us-east-1:123456789012:function:my-function[:qualifier]`; a qualifier may
//! also come separately (`Qualifier=`), and when both are given they must agree.

use ponte_types::{Millis, RequestContext};

use crate::error::{Error, Result, validation};

/// The pattern AWS quotes when a function name is malformed.
pub const FUNCTION_NAME_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

/// `$LATEST`.
pub const LATEST: &str = "$LATEST";

/// A resolved function reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnRef {
    /// Function name.
    pub name: String,
    /// Qualifier (`$LATEST`, a version number or an alias name), from the ARN or the parameter.
    pub qualifier: Option<String>,
    /// Account (from the ARN, else the caller's).
    pub account: String,
    /// Region (the caller's; an ARN of another region is refused).
    pub region: String,
    /// True when the input was only a name (no ARN parts).
    pub bare_name: bool,
}

impl FnRef {
    /// Unqualified ARN.
    pub fn arn(&self) -> String {
        function_arn(&self.region, &self.account, &self.name)
    }

    /// ARN with the qualifier when there is one.
    pub fn arn_with_qualifier(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.arn()),
            None => self.arn(),
        }
    }
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn qualifier_ok(s: &str) -> bool {
    s == LATEST
        || (!s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')))
}

fn account_ok(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The parts of a function identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    /// Region, when the identifier is a full ARN.
    pub region: Option<&'a str>,
    /// Account, when the identifier is an ARN (full or partial).
    pub account: Option<&'a str>,
    /// Function name.
    pub name: &'a str,
    /// Qualifier, when the identifier has one.
    pub qualifier: Option<&'a str>,
}

/// Splits a function identifier into its parts; `None` when it does not match AWS's pattern.
pub fn split(input: &str) -> Option<Parts<'_>> {
    let parts: Vec<&str> = input.split(':').collect();
    let (region, account, rest): (Option<&str>, Option<&str>, &[&str]) = if parts[0] == "arn" {
        // arn:partition:lambda:region:account:function:name[:qualifier]
        if parts.len() < 7
            || !parts[1].starts_with("aws")
            || parts[2] != "lambda"
            || parts[5] != "function"
        {
            return None;
        }
        (Some(parts[3]), Some(parts[4]), &parts[6..])
    } else if parts.len() >= 3 && account_ok(parts[0]) && parts[1] == "function" {
        (None, Some(parts[0]), &parts[2..])
    } else if parts.len() >= 4 && account_ok(parts[1]) && parts[2] == "function" {
        (Some(parts[0]), Some(parts[1]), &parts[3..])
    } else if parts.len() >= 2 && parts[0] == "function" {
        (None, None, &parts[1..])
    } else {
        (None, None, &parts[..])
    };
    if let Some(a) = account
        && !account_ok(a)
    {
        return None;
    }
    if let Some(r) = region
        && (r.is_empty() || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return None;
    }
    let (name, qualifier) = match rest {
        [name] if name_ok(name) => (*name, None),
        [name, q] if name_ok(name) && qualifier_ok(q) => (*name, Some(*q)),
        _ => return None,
    };
    Some(Parts {
        region,
        account,
        name,
        qualifier,
    })
}

/// Resolves a `FunctionName` (and optional `Qualifier` parameter) the way Lambda does, with its
/// validation errors. `max_len` is the member's length limit (140 for most operations, 170 for
/// namespaced ones).
pub fn resolve(
    ctx: &RequestContext,
    input: &str,
    qualifier: Option<&str>,
    max_len: usize,
) -> Result<FnRef> {
    if input.is_empty() {
        return Err(validation(
            input,
            "functionName",
            "Member must have length greater than or equal to 1",
        ));
    }
    if input.len() > max_len {
        return Err(validation(
            input,
            "functionName",
            &format!("Member must have length less than or equal to {max_len}"),
        ));
    }
    let Some(Parts {
        region,
        account,
        name,
        qualifier: arn_q,
    }) = split(input)
    else {
        return Err(validation(
            input,
            "functionName",
            &format!("Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"),
        ));
    };
    if let Some(q) = qualifier {
        if q.len() > 128 {
            return Err(validation(
                q,
                "qualifier",
                "Member must have length less than or equal to 128",
            ));
        }
        if q.is_empty()
            || !q
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'$' | b'_' | b'-'))
        {
            return Err(validation(
                q,
                "qualifier",
                "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
            ));
        }
    }
    if let Some(r) = region
        && r != ctx.region
    {
        return Err(Error::ResourceNotFound(format!(
            "Functions from '{r}' are not reachable in this region ('{}')",
            ctx.region
        )));
    }
    if let (Some(q), Some(aq)) = (qualifier, arn_q)
        && q != aq
    {
        return Err(Error::InvalidParameterValue(
            "The derived qualifier from the function name does not match the specified qualifier."
                .into(),
        ));
    }
    Ok(FnRef {
        name: name.to_owned(),
        qualifier: qualifier.or(arn_q).map(str::to_owned),
        account: account.unwrap_or(&ctx.account).to_owned(),
        region: ctx.region.clone(),
        bare_name: region.is_none() && account.is_none() && arn_q.is_none() && input == name,
    })
}

/// `arn:aws:lambda:<region>:<account>:function:<name>`.
pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

/// True for a published version number (`1`, `42`).
pub fn is_version(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit())
}

/// True for a syntactically valid alias name (not all digits, `[a-zA-Z0-9-_]+`).
pub fn is_alias_name(q: &str) -> bool {
    !q.is_empty()
        && !is_version(q)
        && q.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Lambda's `LastModified` format: `2024-01-01T00:00:00.000+0000`.
pub fn lambda_date(ms: Millis) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}+0000",
        ms % 1000
    )
}

/// Epoch ms → (year, month, day, hour, minute, second), UTC.
pub fn civil(ms: Millis) -> (i64, i64, i64, i64, i64, i64) {
    let c = ponte_types::time::civil(ms);
    (
        c.year,
        i64::from(c.month),
        i64::from(c.day),
        i64::from(c.hour),
        i64::from(c.minute),
        i64::from(c.second),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::internal("http://localhost:4566")
    }

    #[test]
    fn identifiers_in_every_form() {
        let c = ctx();
        let r = resolve(&c, "f", None, 140).unwrap();
        assert_eq!(
            (r.name.as_str(), r.qualifier, r.bare_name),
            ("f", None, true)
        );
        let r = resolve(&c, "f:prod", None, 140).unwrap();
        assert_eq!(r.qualifier.as_deref(), Some("prod"));
        assert!(!r.bare_name);
        let r = resolve(&c, "111122223333:function:f:3", None, 140).unwrap();
        assert_eq!(
            (r.account.as_str(), r.qualifier.as_deref()),
            ("111122223333", Some("3"))
        );
        let r = resolve(
            &c,
            "arn:aws:lambda:us-east-1:000000000000:function:my.fn:$LATEST",
            Some("$LATEST"),
            140,
        )
        .unwrap();
        assert_eq!(r.name, "my.fn");
        assert_eq!(
            r.arn_with_qualifier(),
            "arn:aws:lambda:us-east-1:000000000000:function:my.fn:$LATEST"
        );
    }

    #[test]
    fn identifier_errors_are_awss() {
        let c = ctx();
        let e = resolve(
            &c,
            "arn:aws:lambda:eu-west-1:000000000000:function:f",
            None,
            140,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
        );
        let e = resolve(&c, "f:1", Some("2"), 140).unwrap_err();
        assert!(matches!(e, Error::InvalidParameterValue(_)));
        assert!(matches!(
            resolve(&c, "bad name", None, 140),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            resolve(&c, "a:b:c:d:e", None, 140),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            resolve(&c, &"x".repeat(141), None, 140),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            resolve(&c, "f", Some("a b"), 140),
            Err(Error::Validation(_))
        ));
    }

    #[test]
    fn qualifiers_and_dates() {
        assert!(is_version("12") && !is_version("v1") && !is_version(""));
        assert!(is_alias_name("prod") && !is_alias_name("1") && !is_alias_name("$LATEST"));
        assert_eq!(
            lambda_date(1_704_067_200_123),
            "2024-01-01T00:00:00.123+0000"
        );
        assert_eq!(lambda_date(951_782_400_000), "2000-02-29T00:00:00.000+0000");
    }
}
