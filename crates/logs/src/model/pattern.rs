//! CloudWatch Logs filter patterns (`FilterLogEvents.filterPattern`), parsed once and matched
//! against many messages.
//!
//! Three dialects, chosen by the first character, as in
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>:
//! - **Unstructured terms**: `ERROR`, `"exact phrase"`, `?ERROR ?WARN` (any of), `ERROR -Exiting`
//!   (exclusion), `%regex%`. Plain terms must all appear; at least one `?` term must appear when
//!   there are any; no `-` term may appear. Matching is case-sensitive and by substring.
//! - **JSON** (`{ ... }`): `$.a.b[0] = "x*"`, `!=`, `<`, `<=`, `>`, `>=` against numbers, `IS NULL`,
//!   `IS TRUE`, `IS FALSE`, `NOT EXISTS`, `EXISTS`, combined with `&&`, `||` and parentheses. A
//!   message that is not a JSON object matches no JSON pattern; a comparison on a missing field is
//!   false.
//! - **Space-delimited** (`[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`): the message
//!   splits on spaces, with `"..."` and `[...]` kept as one field; `...` stands for any number of
//!   fields; without it the field count must be equal. A condition names its own field.
//!
//! `*` is a wildcard in string values. `%...%` is a regular expression in the restricted syntax
//! AWS allows (no groups): see [`Regex`].

use serde_json::Value;

/// Why a pattern does not parse; the text is AWS's `InvalidParameterException` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The generic message AWS gives for a pattern it cannot parse.
pub const INVALID: &str = "Invalid filter pattern";

fn invalid() -> PatternError {
    PatternError(INVALID.to_owned())
}

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterPattern {
    /// The empty pattern: every event matches.
    All,
    /// Unstructured terms.
    Terms(Terms),
    /// `{ ... }`.
    Json(JsonExpr),
    /// `[ ... ]`.
    Delimited(Vec<FieldSpec>),
}

/// Unstructured terms, grouped by how they combine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Terms {
    /// Every one must appear.
    pub required: Vec<Term>,
    /// At least one must appear (when non-empty).
    pub any: Vec<Term>,
    /// None may appear.
    pub excluded: Vec<Term>,
}

/// One unstructured term.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A word or quoted phrase, matched as a substring.
    Text(String),
    /// `%regex%`.
    Regex(Regex),
}

impl Term {
    fn found_in(&self, message: &str) -> bool {
        match self {
            Term::Text(t) => message.contains(t.as_str()),
            Term::Regex(r) => r.is_match(message),
        }
    }
}

/// A JSON pattern expression.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    /// `a && b`.
    And(Box<JsonExpr>, Box<JsonExpr>),
    /// `a || b`.
    Or(Box<JsonExpr>, Box<JsonExpr>),
    /// `$.path <op> value`.
    Compare(Vec<PathStep>, Op, Literal),
    /// `$.path IS NULL|TRUE|FALSE`, `$.path NOT EXISTS`, `$.path EXISTS`.
    Test(Vec<PathStep>, Test),
}

/// One step of a JSON selector.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// `.name`.
    Key(String),
    /// `[n]`.
    Index(usize),
    /// `[*]`: any element.
    AnyIndex,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// `IS ...` / `EXISTS` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// `IS NULL`.
    Null,
    /// `IS TRUE`.
    True,
    /// `IS FALSE`.
    False,
    /// `NOT EXISTS`.
    NotExists,
    /// `EXISTS`.
    Exists,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number (`100`, `-1.5`); compares numerically.
    Number(f64),
    /// A string, quoted or bare; `*` is a wildcard.
    Text(String),
    /// `%regex%`.
    Regex(Regex),
}

/// One field of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSpec {
    /// `...`: any number of fields.
    Ellipsis,
    /// A named field with optional conditions, an OR of ANDs.
    Field {
        /// The field's name.
        name: String,
        /// Disjunction of conjunctions of `(op, literal)`; empty = always true.
        conditions: Vec<Vec<(Op, Literal)>>,
    },
}

impl FilterPattern {
    /// Parses `pattern`; an error carries AWS's message.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let s = pattern.trim();
        if s.is_empty() {
            return Ok(FilterPattern::All);
        }
        if s.starts_with('{') {
            if !s.ends_with('}') {
                return Err(PatternError(
                    "If a filter pattern starts with '{' it must end with '}'".into(),
                ));
            }
            let tokens = lex(&s[1..s.len() - 1])?;
            let mut p = Parser { tokens, pos: 0 };
            let expr = p.json_or()?;
            if p.pos != p.tokens.len() {
                return Err(invalid());
            }
            return Ok(FilterPattern::Json(expr));
        }
        if s.starts_with('[') {
            if !s.ends_with(']') {
                return Err(PatternError(
                    "If a filter pattern starts with '[' it must end with ']'".into(),
                ));
            }
            let tokens = lex(&s[1..s.len() - 1])?;
            let mut p = Parser { tokens, pos: 0 };
            let fields = p.delimited()?;
            return Ok(FilterPattern::Delimited(fields));
        }
        parse_terms(s).map(FilterPattern::Terms)
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            FilterPattern::All => true,
            FilterPattern::Terms(t) => {
                t.required.iter().all(|x| x.found_in(message))
                    && (t.any.is_empty() || t.any.iter().any(|x| x.found_in(message)))
                    && !t.excluded.iter().any(|x| x.found_in(message))
            }
            FilterPattern::Json(expr) => match serde_json::from_str::<Value>(message.trim()) {
                Ok(v @ Value::Object(_)) => eval_json(expr, &v),
                _ => false,
            },
            FilterPattern::Delimited(fields) => match_delimited(fields, &split_fields(message)),
        }
    }
}

// ----- unstructured terms ---------------------------------------------------------------------

fn parse_terms(s: &str) -> Result<Terms, PatternError> {
    let mut terms = Terms::default();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut kind = 0u8; // 0 required, 1 any, 2 excluded
        if chars[i] == '?' {
            kind = 1;
            i += 1;
        } else if chars[i] == '-' {
            kind = 2;
            i += 1;
        }
        let term = if i < chars.len() && chars[i] == '"' {
            let (text, next) = quoted(&chars, i)?;
            i = next;
            if i < chars.len() && !chars[i].is_whitespace() {
                return Err(bad_term(&chars[start..]));
            }
            if text.is_empty() {
                return Err(bad_term(&chars[start..i]));
            }
            Term::Text(text)
        } else if i < chars.len() && chars[i] == '%' {
            let end = chars[i + 1..]
                .iter()
                .position(|&c| c == '%')
                .map(|p| i + 1 + p)
                .ok_or_else(invalid)?;
            let body: String = chars[i + 1..end].iter().collect();
            i = end + 1;
            Term::Regex(Regex::parse(&body)?)
        } else {
            let word_start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            let word: String = chars[word_start..i].iter().collect();
            if word.is_empty()
                || word
                    .chars()
                    .any(|c| matches!(c, '"' | '{' | '}' | '[' | ']' | '(' | ')' | '%' | '?'))
            {
                return Err(bad_term(&chars[start..i]));
            }
            Term::Text(word)
        };
        match kind {
            0 => terms.required.push(term),
            1 => terms.any.push(term),
            _ => terms.excluded.push(term),
        }
    }
    Ok(terms)
}

fn bad_term(chars: &[char]) -> PatternError {
    let t: String = chars.iter().collect();
    PatternError(format!(
        "{INVALID}: Invalid character(s) in term '{}'",
        t.trim()
    ))
}

/// Reads a `"..."` string starting at `chars[i] == '"'`; `\"` and `\\` escape. Returns the text
/// and the index after the closing quote.
fn quoted(chars: &[char], mut i: usize) -> Result<(String, usize), PatternError> {
    i += 1;
    let mut out = String::new();
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() && matches!(chars[i + 1], '"' | '\\') => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '"' => return Ok((out, i + 1)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(invalid())
}

// ----- lexer for JSON and space-delimited patterns --------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Op(Op),
    /// A quoted string.
    Str(String),
    /// A bare word (selectors, numbers, wildcards, keywords, `...`).
    Word(String),
    /// `%regex%`.
    Regex(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, PatternError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                out.push(Tok::And);
                i += 2;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                out.push(Tok::Or);
                i += 2;
            }
            '=' => {
                out.push(Tok::Op(Op::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2;
            }
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                out.push(Tok::Op(match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                }));
                i += if eq { 2 } else { 1 };
            }
            '"' => {
                let (text, next) = quoted(&chars, i)?;
                out.push(Tok::Str(text));
                i = next;
            }
            '%' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '%')
                    .map(|p| i + 1 + p)
                    .ok_or_else(invalid)?;
                out.push(Tok::Regex(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            _ => {
                // A selector may hold brackets (`$.a[0]`); other words stop at any syntax char.
                let selector = c == '$';
                let start = i;
                while i < chars.len() {
                    let d = chars[i];
                    let stop = d.is_whitespace()
                        || matches!(d, '(' | ')' | ',' | '=' | '<' | '>' | '"' | '%')
                        || (d == '!' && chars.get(i + 1) == Some(&'='))
                        || (d == '&' && chars.get(i + 1) == Some(&'&'))
                        || (d == '|' && chars.get(i + 1) == Some(&'|'))
                        || (!selector && matches!(d, '[' | ']' | '{' | '}'));
                    if stop {
                        break;
                    }
                    i += 1;
                }
                if i == start {
                    return Err(invalid());
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn json_or(&mut self) -> Result<JsonExpr, PatternError> {
        let mut left = self.json_and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let right = self.json_and()?;
            left = JsonExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn json_and(&mut self) -> Result<JsonExpr, PatternError> {
        let mut left = self.json_unary()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let right = self.json_unary()?;
            left = JsonExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn json_unary(&mut self) -> Result<JsonExpr, PatternError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.json_or()?;
            if self.next() != Some(Tok::RParen) {
                return Err(invalid());
            }
            return Ok(e);
        }
        let path = match self.next() {
            Some(Tok::Word(w)) => parse_selector(&w)?,
            _ => return Err(invalid()),
        };
        match self.next() {
            Some(Tok::Op(op)) => {
                let lit = self.literal()?;
                check_literal(op, &lit)?;
                Ok(JsonExpr::Compare(path, op, lit))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("NULL") => {
                    Ok(JsonExpr::Test(path, Test::Null))
                }
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("TRUE") => {
                    Ok(JsonExpr::Test(path, Test::True))
                }
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("FALSE") => {
                    Ok(JsonExpr::Test(path, Test::False))
                }
                _ => Err(invalid()),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("EXISTS") => {
                    Ok(JsonExpr::Test(path, Test::NotExists))
                }
                _ => Err(invalid()),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => {
                Ok(JsonExpr::Test(path, Test::Exists))
            }
            _ => Err(invalid()),
        }
    }

    fn literal(&mut self) -> Result<Literal, PatternError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Literal::Text(s)),
            Some(Tok::Regex(r)) => Ok(Literal::Regex(Regex::parse(&r)?)),
            Some(Tok::Word(w)) => Ok(match w.parse::<f64>() {
                Ok(n) if n.is_finite() && !w.contains(['i', 'I', 'n', 'N']) => Literal::Number(n),
                _ => Literal::Text(w),
            }),
            _ => Err(invalid()),
        }
    }

    fn delimited(&mut self) -> Result<Vec<FieldSpec>, PatternError> {
        let mut fields = Vec::new();
        loop {
            let name = match self.next() {
                Some(Tok::Word(w)) => w,
                _ => return Err(invalid()),
            };
            if name == "..." {
                fields.push(FieldSpec::Ellipsis);
            } else {
                if !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '$'))
                {
                    return Err(invalid());
                }
                let mut conditions: Vec<Vec<(Op, Literal)>> = Vec::new();
                if let Some(Tok::Op(_)) = self.peek() {
                    let mut conj = vec![self.condition()?];
                    while let Some(Tok::And | Tok::Or) = self.peek() {
                        let or = self.next() == Some(Tok::Or);
                        match self.next() {
                            Some(Tok::Word(w)) if w == name => {}
                            _ => return Err(invalid()),
                        }
                        let c = self.condition()?;
                        if or {
                            conditions.push(std::mem::take(&mut conj));
                        }
                        conj.push(c);
                    }
                    conditions.push(conj);
                }
                fields.push(FieldSpec::Field { name, conditions });
            }
            match self.next() {
                None => break,
                Some(Tok::Comma) => continue,
                _ => return Err(invalid()),
            }
        }
        Ok(fields)
    }

    fn condition(&mut self) -> Result<(Op, Literal), PatternError> {
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            _ => return Err(invalid()),
        };
        let lit = self.literal()?;
        check_literal(op, &lit)?;
        Ok((op, lit))
    }
}

/// Ordering operators need a number.
fn check_literal(op: Op, lit: &Literal) -> Result<(), PatternError> {
    match (op, lit) {
        (Op::Eq | Op::Ne, _) | (_, Literal::Number(_)) => Ok(()),
        _ => Err(invalid()),
    }
}

fn parse_selector(w: &str) -> Result<Vec<PathStep>, PatternError> {
    let rest = w.strip_prefix('$').ok_or_else(invalid)?;
    let chars: Vec<char> = rest.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && !matches!(chars[i], '.' | '[') {
                    i += 1;
                }
                if i == start {
                    return Err(invalid());
                }
                steps.push(PathStep::Key(chars[start..i].iter().collect()));
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| i + p)
                    .ok_or_else(invalid)?;
                let inner: String = chars[i + 1..end].iter().collect();
                if inner == "*" {
                    steps.push(PathStep::AnyIndex);
                } else {
                    steps.push(PathStep::Index(inner.parse().map_err(|_| invalid())?));
                }
                i = end + 1;
            }
            _ => return Err(invalid()),
        }
    }
    if steps.is_empty() {
        return Err(invalid());
    }
    Ok(steps)
}

// ----- evaluation -----------------------------------------------------------------------------

fn select<'a>(v: &'a Value, path: &[PathStep], out: &mut Vec<&'a Value>) {
    let Some((step, rest)) = path.split_first() else {
        out.push(v);
        return;
    };
    match (step, v) {
        (PathStep::Key(k), Value::Object(m)) => {
            if let Some(x) = m.get(k) {
                select(x, rest, out);
            }
        }
        (PathStep::Index(n), Value::Array(a)) => {
            if let Some(x) = a.get(*n) {
                select(x, rest, out);
            }
        }
        (PathStep::AnyIndex, Value::Array(a)) => {
            for x in a {
                select(x, rest, out);
            }
        }
        _ => {}
    }
}

fn eval_json(e: &JsonExpr, doc: &Value) -> bool {
    match e {
        JsonExpr::And(a, b) => eval_json(a, doc) && eval_json(b, doc),
        JsonExpr::Or(a, b) => eval_json(a, doc) || eval_json(b, doc),
        JsonExpr::Compare(path, op, lit) => {
            let mut found = Vec::new();
            select(doc, path, &mut found);
            found.iter().any(|v| compare_json(v, *op, lit))
        }
        JsonExpr::Test(path, test) => {
            let mut found = Vec::new();
            select(doc, path, &mut found);
            match test {
                Test::NotExists => found.is_empty(),
                Test::Exists => !found.is_empty(),
                Test::Null => found.iter().any(|v| v.is_null()),
                Test::True => found.iter().any(|v| *v == &Value::Bool(true)),
                Test::False => found.iter().any(|v| *v == &Value::Bool(false)),
            }
        }
    }
}

fn compare_json(v: &Value, op: Op, lit: &Literal) -> bool {
    match (v, lit) {
        (Value::Number(n), Literal::Number(want)) => n.as_f64().is_some_and(|x| cmp(x, op, *want)),
        (Value::String(s), Literal::Text(_) | Literal::Regex(_)) => text_eq(s, op, lit),
        (Value::Number(n), Literal::Text(_)) => text_eq(&n.to_string(), op, lit),
        (Value::Bool(b), Literal::Text(t)) if t == "true" || t == "false" => {
            let eq = b.to_string() == *t;
            match op {
                Op::Eq => eq,
                Op::Ne => !eq,
                _ => false,
            }
        }
        // A present field of another type is "not equal" to anything.
        (_, _) => op == Op::Ne,
    }
}

fn cmp(x: f64, op: Op, want: f64) -> bool {
    match op {
        Op::Eq => x == want,
        Op::Ne => x != want,
        Op::Lt => x < want,
        Op::Le => x <= want,
        Op::Gt => x > want,
        Op::Ge => x >= want,
    }
}

fn text_eq(s: &str, op: Op, lit: &Literal) -> bool {
    let eq = match lit {
        Literal::Text(t) => glob(t, s),
        Literal::Regex(r) => r.is_match(s),
        Literal::Number(n) => s.parse::<f64>().is_ok_and(|x| x == *n),
    };
    match op {
        Op::Eq => eq,
        Op::Ne => !eq,
        _ => false,
    }
}

/// A field value of a space-delimited message against one condition.
fn field_matches(field: &str, op: Op, lit: &Literal) -> bool {
    match lit {
        Literal::Number(want) => match field.parse::<f64>() {
            Ok(x) => cmp(x, op, *want),
            Err(_) => op == Op::Ne,
        },
        _ => text_eq(field, op, lit),
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == text;
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Splits a message into space-delimited fields: `"..."` and `[...]` are one field each
/// (without their delimiters).
pub fn split_fields(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = message.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close
            && let Some(end) = b[i + 1..].iter().position(|&c| c == close)
        {
            out.push(&message[i + 1..i + 1 + end]);
            i = i + 2 + end;
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push(&message[start..i]);
    }
    out
}

fn spec_matches(spec: &FieldSpec, field: &str) -> bool {
    match spec {
        FieldSpec::Ellipsis => true,
        FieldSpec::Field { conditions, .. } => {
            conditions.is_empty()
                || conditions
                    .iter()
                    .any(|conj| conj.iter().all(|(op, lit)| field_matches(field, *op, lit)))
        }
    }
}

/// Sequence match with `...` as "any number of fields", by dynamic programming over
/// (spec index, field index) so several ellipses stay linear in the field count.
/// `ok[i * (m + 1) + j]`: `specs[i..]` match `fields[j..]`.
fn delimited_table(specs: &[FieldSpec], fields: &[&str]) -> Vec<bool> {
    let (n, m) = (specs.len(), fields.len());
    let w = m + 1;
    let mut ok = vec![false; (n + 1) * w];
    ok[n * w + m] = true;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            ok[i * w + j] = match &specs[i] {
                FieldSpec::Ellipsis => ok[(i + 1) * w + j] || (j < m && ok[i * w + j + 1]),
                spec => j < m && spec_matches(spec, fields[j]) && ok[(i + 1) * w + j + 1],
            };
        }
    }
    ok
}

fn match_delimited(specs: &[FieldSpec], fields: &[&str]) -> bool {
    delimited_table(specs, fields)[0]
}

/// The field each named spec is bound to in a successful match (ellipses take as few fields
/// as they can).
fn bind_delimited<'a>(specs: &'a [FieldSpec], fields: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let ok = delimited_table(specs, fields);
    let w = fields.len() + 1;
    let mut out = Vec::new();
    if !ok[0] {
        return out;
    }
    let (mut i, mut j) = (0, 0);
    while i < specs.len() {
        match &specs[i] {
            FieldSpec::Ellipsis => {
                if ok[(i + 1) * w + j] {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            FieldSpec::Field { name, .. } => {
                out.push((name.as_str(), fields[j]));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

impl FilterPattern {
    /// TestMetricFilter's `extractedValues`: `$name` → field for space-delimited patterns
    /// that match, empty otherwise.
    pub fn extract(&self, message: &str) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        if let FilterPattern::Delimited(specs) = self {
            let fields = split_fields(message);
            for (name, value) in bind_delimited(specs, &fields) {
                out.insert(format!("${name}"), Value::String(value.to_owned()));
            }
        }
        out
    }
}

// ----- regular expressions --------------------------------------------------------------------

/// The restricted regular expressions filter patterns allow between `%` signs: literals, `.`,
/// classes `[a-z]` / `[^...]`, `\d \w \s \D \W \S` and escaped characters, quantifiers `* + ?
/// {m} {m,} {m,n}`, anchors `^ $` and top-level `|`. No groups: AWS rejects `(` and `)`. Matching
/// is by backtracking over the (short) pattern and searches anywhere in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Regex {
    alternatives: Vec<Vec<Piece>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Char(char),
    Any,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

#[derive(Debug, Clone, PartialEq)]
struct Piece {
    atom: Atom,
    min: usize,
    max: usize,
}

impl Regex {
    /// Parses the text between the `%` signs.
    pub fn parse(src: &str) -> Result<Self, PatternError> {
        if src.is_empty() || src.contains(['(', ')']) {
            return Err(invalid());
        }
        let chars: Vec<char> = src.chars().collect();
        let mut alternatives = vec![Vec::new()];
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            let atom = match c {
                '|' => {
                    alternatives.push(Vec::new());
                    continue;
                }
                '^' => Atom::Start,
                '$' => Atom::End,
                '.' => Atom::Any,
                '\\' => {
                    let e = *chars.get(i).ok_or_else(invalid)?;
                    i += 1;
                    escape_atom(e)
                }
                '[' => {
                    let mut negated = false;
                    if chars.get(i) == Some(&'^') {
                        negated = true;
                        i += 1;
                    }
                    let mut items = Vec::new();
                    let mut first = true;
                    loop {
                        let c = *chars.get(i).ok_or_else(invalid)?;
                        i += 1;
                        if c == ']' && !first {
                            break;
                        }
                        first = false;
                        let lo = if c == '\\' {
                            let e = *chars.get(i).ok_or_else(invalid)?;
                            i += 1;
                            match escape_atom(e) {
                                Atom::Class { items: sub, .. } => {
                                    items.extend(sub);
                                    continue;
                                }
                                Atom::Char(ch) => ch,
                                _ => return Err(invalid()),
                            }
                        } else {
                            c
                        };
                        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&d| d != ']')
                        {
                            let hi = chars[i + 1];
                            i += 2;
                            if hi < lo {
                                return Err(invalid());
                            }
                            items.push(ClassItem::Range(lo, hi));
                        } else {
                            items.push(ClassItem::Range(lo, lo));
                        }
                    }
                    Atom::Class { negated, items }
                }
                '*' | '+' | '?' | '{' => return Err(invalid()),
                c => Atom::Char(c),
            };
            let (mut min, mut max) = (1, 1);
            match chars.get(i) {
                Some('*') => {
                    (min, max) = (0, usize::MAX);
                    i += 1;
                }
                Some('+') => {
                    (min, max) = (1, usize::MAX);
                    i += 1;
                }
                Some('?') => {
                    (min, max) = (0, 1);
                    i += 1;
                }
                Some('{') => {
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == '}')
                        .map(|p| i + p)
                        .ok_or_else(invalid)?;
                    let inner: String = chars[i + 1..end].iter().collect();
                    let (a, b) = match inner.split_once(',') {
                        None => {
                            let n = inner.trim().parse().map_err(|_| invalid())?;
                            (n, n)
                        }
                        Some((a, b)) => {
                            let a = a.trim().parse().map_err(|_| invalid())?;
                            let b = if b.trim().is_empty() {
                                usize::MAX
                            } else {
                                b.trim().parse().map_err(|_| invalid())?
                            };
                            (a, b)
                        }
                    };
                    if a > b {
                        return Err(invalid());
                    }
                    (min, max) = (a, b);
                    i = end + 1;
                }
                _ => {}
            }
            if matches!(atom, Atom::Start | Atom::End) && (min, max) != (1, 1) {
                return Err(invalid());
            }
            alternatives
                .last_mut()
                .expect("always one alternative")
                .push(Piece { atom, min, max });
        }
        Ok(Regex { alternatives })
    }

    /// Whether the expression matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        self.alternatives
            .iter()
            .any(|alt| (0..=t.len()).any(|start| match_here(alt, &t, start)))
    }
}

fn escape_atom(e: char) -> Atom {
    let class = |item| Atom::Class {
        negated: false,
        items: vec![item],
    };
    match e {
        'd' => class(ClassItem::Digit(true)),
        'D' => class(ClassItem::Digit(false)),
        'w' => class(ClassItem::Word(true)),
        'W' => class(ClassItem::Word(false)),
        's' => class(ClassItem::Space(true)),
        'S' => class(ClassItem::Space(false)),
        't' => Atom::Char('\t'),
        'n' => Atom::Char('\n'),
        c => Atom::Char(c),
    }
}

fn atom_matches(atom: &Atom, c: char) -> bool {
    match atom {
        Atom::Char(x) => *x == c,
        Atom::Any => c != '\n',
        Atom::Class { negated, items } => {
            let hit = items.iter().any(|it| match it {
                ClassItem::Range(lo, hi) => (*lo..=*hi).contains(&c),
                ClassItem::Digit(yes) => c.is_ascii_digit() == *yes,
                ClassItem::Word(yes) => (c.is_alphanumeric() || c == '_') == *yes,
                ClassItem::Space(yes) => c.is_whitespace() == *yes,
            });
            hit != *negated
        }
        Atom::Start | Atom::End => false,
    }
}

fn match_here(pieces: &[Piece], t: &[char], pos: usize) -> bool {
    let Some((p, rest)) = pieces.split_first() else {
        return true;
    };
    match p.atom {
        Atom::Start => return pos == 0 && match_here(rest, t, pos),
        Atom::End => return pos == t.len() && match_here(rest, t, pos),
        _ => {}
    }
    // Greedy: count how many we can take, then back off.
    let mut n = 0;
    while n < p.max && pos + n < t.len() && atom_matches(&p.atom, t[pos + n]) {
        n += 1;
    }
    if n < p.min {
        return false;
    }
    loop {
        if match_here(rest, t, pos + n) {
            return true;
        }
        if n == p.min {
            return false;
        }
        n -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .matches(message)
    }

    fn err(pattern: &str) -> String {
        FilterPattern::parse(pattern).unwrap_err().0
    }

    #[test]
    fn empty_matches_everything() {
        assert!(m("", "anything"));
        assert!(m("   ", ""));
    }

    #[test]
    fn terms_and_or_not() {
        assert!(m("ERROR", "[ERROR] disk full"));
        assert!(!m("ERROR", "error: lower case"));
        assert!(m("ERROR disk", "ERROR: the disk is full"));
        assert!(!m("ERROR disk", "ERROR: the cpu is hot"));
        assert!(m("?ERROR ?WARN", "WARN low memory"));
        assert!(m("?ERROR ?WARN", "ERROR low memory"));
        assert!(!m("?ERROR ?WARN", "INFO all good"));
        assert!(m("ERROR -Exiting", "ERROR retrying"));
        assert!(!m("ERROR -Exiting", "ERROR Exiting now"));
        assert!(m("-DEBUG", "INFO x"));
        assert!(!m("-DEBUG", "DEBUG x"));
        assert!(m("\"disk full\"", "ERROR disk full"));
        assert!(!m("\"disk full\"", "full disk"));
        assert!(m("\"a \\\"quoted\\\" word\"", "this is a \"quoted\" word"));
        assert!(m("?\"disk full\" ?\"out of memory\"", "x out of memory"));
    }

    #[test]
    fn term_errors() {
        assert_eq!(
            err("\"\""),
            "Invalid filter pattern: Invalid character(s) in term '\"\"'"
        );
        assert!(err("foo{bar").starts_with(INVALID));
        assert!(err("\"unterminated").starts_with(INVALID));
        assert_eq!(
            err("{ $.a = 1"),
            "If a filter pattern starts with '{' it must end with '}'"
        );
        assert_eq!(
            err("[a, b"),
            "If a filter pattern starts with '[' it must end with ']'"
        );
    }

    #[test]
    fn json_comparisons() {
        let msg = r#"{"level":"ERROR","latency":150,"user":{"id":7,"name":"Ann"},"tags":["a","b"],"ok":true,"gone":null}"#;
        assert!(m(r#"{ $.level = "ERROR" }"#, msg));
        assert!(m(r#"{$.level="ERROR"}"#, msg));
        assert!(!m(r#"{ $.level = "error" }"#, msg));
        assert!(m(r#"{ $.level = ERR* }"#, msg));
        assert!(m(r#"{ $.level != "INFO" }"#, msg));
        assert!(m("{ $.latency > 100 }", msg));
        assert!(!m("{ $.latency < 100 }", msg));
        assert!(m("{ $.latency >= 150 }", msg));
        assert!(m("{ $.latency <= 150 }", msg));
        assert!(m("{ $.latency = 150 }", msg));
        assert!(m("{ $.latency != 151 }", msg));
        assert!(m("{ $.user.id = 7 }", msg));
        assert!(m(r#"{ $.user.name = "Ann" }"#, msg));
        assert!(m(r#"{ $.tags[1] = "b" }"#, msg));
        assert!(m(r#"{ $.tags[*] = "a" }"#, msg));
        assert!(!m(r#"{ $.tags[5] = "a" }"#, msg));
        assert!(m(r#"{ $.level = "ERROR" && $.latency > 100 }"#, msg));
        assert!(!m(r#"{ $.level = "ERROR" && $.latency > 200 }"#, msg));
        assert!(m(r#"{ $.level = "INFO" || $.latency > 100 }"#, msg));
        assert!(m(
            r#"{ ($.level = "INFO" || $.level = "ERROR") && ($.user.id = 7) }"#,
            msg
        ));
        assert!(m("{ $.gone IS NULL }", msg));
        assert!(!m("{ $.level IS NULL }", msg));
        assert!(m("{ $.missing NOT EXISTS }", msg));
        assert!(!m("{ $.level NOT EXISTS }", msg));
        assert!(m("{ $.ok IS TRUE }", msg));
        assert!(!m("{ $.ok IS FALSE }", msg));
        assert!(m("{ $.level EXISTS }", msg));
        // Missing fields compare false, also with !=.
        assert!(!m(r#"{ $.missing != "x" }"#, msg));
        assert!(!m("{ $.missing > 1 }", msg));
        // A string is not a number.
        assert!(!m("{ $.level > 1 }", msg));
        // Not JSON: no match.
        assert!(!m(r#"{ $.level = "ERROR" }"#, "ERROR plain text"));
        assert!(!m(r#"{ $.level = "ERROR" }"#, "[1,2]"));
        // Regex values.
        assert!(m(r#"{ $.level = %ERR[A-Z]+% }"#, msg));
    }

    #[test]
    fn json_errors() {
        for p in [
            "{ }",
            "{ $.a }",
            "{ $.a = }",
            "{ level = 1 }",
            "{ $.a > \"x\" }",
            "{ $.a = 1 && }",
            "{ ($.a = 1 }",
            "{ $.a IS MAYBE }",
            "{ $. = 1 }",
            "{ $.a[x] = 1 }",
            "{ $.a = 1 $.b = 2 }",
        ] {
            assert_eq!(err(p), INVALID, "{p}");
        }
    }

    #[test]
    fn space_delimited() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#;
        assert_eq!(split_fields(line).len(), 7);
        assert_eq!(split_fields(line)[3], "10/Oct/2000:13:25:15 -0700");
        assert!(m(
            "[ip, user, username, timestamp, request, status_code, bytes]",
            line
        ));
        assert!(!m(
            "[ip, user, username, timestamp, request, status_code]",
            line
        ));
        assert!(m(
            "[ip, user, username, timestamp, request, status_code = 404, bytes]",
            line
        ));
        assert!(m(
            "[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]",
            line
        ));
        assert!(!m(
            "[ip, user, username, timestamp, request, status_code = 4*, bytes > 3000]",
            line
        ));
        assert!(m("[..., status_code = 404, bytes]", line));
        assert!(m("[ip = 127.*, ...]", line));
        assert!(m("[ip, ..., status = 404 || status = 410, bytes]", line));
        assert!(m("[ip, ..., status = 5* || status = 4*, ...]", line));
        assert!(!m("[ip, ..., status = 5* || status = 3*, bytes]", line));
        assert!(m("[ip, ..., status >= 400 && status < 500, bytes]", line));
        assert!(m(r#"[..., request = "GET *", status, bytes]"#, line));
        assert!(m("[...]", ""));
        assert!(!m("[a]", ""));
        assert_eq!(err("[a, , b]"), INVALID);
        assert_eq!(err("[a = 1 && b = 2]"), INVALID);
        assert_eq!(err("[]"), INVALID);
    }

    #[test]
    fn delimited_extraction_follows_the_match() {
        let p = FilterPattern::parse("[ip, ..., status = 404, bytes]").unwrap();
        let got = p.extract("1.2.3.4 - - x 404 99");
        assert_eq!(got["$ip"], "1.2.3.4");
        assert_eq!(got["$status"], "404");
        assert_eq!(got["$bytes"], "99");
        assert!(p.extract("no match").is_empty());
        assert!(
            FilterPattern::parse("ERROR")
                .unwrap()
                .extract("ERROR")
                .is_empty()
        );
    }

    #[test]
    fn glob_wildcards() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("*html*", "/index.html?x"));
        assert!(!glob("a*c", "abd"));
        assert!(glob("a**", "a"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn regexes() {
        assert!(m("%ERROR|WARN%", "a WARN here"));
        assert!(m("%^INFO%", "INFO start"));
        assert!(!m("%^INFO%", "x INFO"));
        assert!(m("%done$%", "all done"));
        assert!(m(r"%\d{3}-\d{4}%", "call 555-1234 now"));
        assert!(!m(r"%\d{3}-\d{4}%", "call 55-1234 now"));
        assert!(m("%[a-c]+x?z%", "bbaz"));
        assert!(m("%[^0-9]+%", "abc"));
        assert!(!m("%^[0-9]+$%", "12a"));
        assert!(m("%a.c%", "xabcx"));
        assert!(m("%colou?r%", "color"));
        assert_eq!(err("%(a)%"), INVALID);
        assert_eq!(err("%*a%"), INVALID);
        assert_eq!(err("%abc"), INVALID);
    }
}
