//! Defensive reading of appliance JSON: numbers that arrive as strings,
//! lists that arrive as a single object, fields of the wrong shape (kept as
//! `Invalid` so only their series is dropped), trailing commas, and the
//! messages of error bodies.
//!
//! A leaf: it knows serde and the exposition's warnings, nothing of the
//! upstream client or the collectors, so both can use it.
//!
//! The lenient types are hand-written rather than `serde_with`'s, which do
//! not serve as well here (each point is a test below):
//! - `serde_with::OneOrMany` is an untagged enum: it buffers the whole
//!   value, then tries one shape and the other, so a bad row of a long list
//!   fails as "a list or single element" instead of naming `rows[1]` and
//!   its cause, borrowed text inside is copied, and `null` is an error
//!   rather than an empty list (`one_or_many*` tests);
//! - `PickFirst<(_, DisplayFromStr)>` fails the whole body on a value that
//!   is neither a number nor a numeric string, and `DefaultOnError` drops
//!   the reason; [`Num`], [`Text`] and [`Flag`] keep the value as `Invalid`
//!   with the reason, so only its series goes, with a warning that says
//!   why (`a_bad_value_keeps_its_reason_and_the_rest_of_the_row`).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, Deserialize, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::exposition::Samples;

/// Why a body is not the JSON the document describes.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{endpoint}: unexpected response at {path}: {reason}")]
pub struct DecodeError {
    /// The endpoint asked.
    pub endpoint: &'static str,
    /// The serde path of the problem (`.` for the whole body).
    pub path: String,
    /// What serde reported.
    pub reason: String,
}

/// A field that should hold a number, sent as a JSON number or a numeric
/// string. It never fails to deserialize: a bad value becomes `Invalid`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Num {
    /// Absent or `null`.
    #[default]
    Missing,
    /// A number.
    Value(f64),
    /// Present but not a number; the reason is for the warning.
    Invalid(String),
}

/// A field that should hold text; numbers and booleans are taken as their
/// text. It never fails to deserialize.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Text {
    /// Absent or `null`.
    #[default]
    Missing,
    /// The text.
    Value(String),
    /// Present but a list or object.
    Invalid(String),
}

/// A field that should be a boolean, also accepted as "true"/"false",
/// "yes"/"no" or 1/0.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Flag {
    /// Absent or `null`.
    #[default]
    Missing,
    /// The value.
    Value(bool),
    /// Present but not a boolean.
    Invalid(String),
}

impl Num {
    /// The value; an invalid one is dropped with a warning naming the
    /// endpoint and field, so only its series goes missing.
    pub fn read(&self, s: &mut Samples, endpoint: &'static str, field: &str) -> Option<f64> {
        match self {
            Num::Value(v) => Some(*v),
            Num::Missing => None,
            Num::Invalid(why) => {
                s.warn(endpoint, field, why.clone());
                None
            }
        }
    }
}

impl Text {
    /// The text, if present and valid.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Value(s) => Some(s),
            _ => None,
        }
    }
}

fn describe_unexpected(what: &str) -> String {
    format!("expected a number, got {what}")
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a numeric string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num::Value(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Value(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Value(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                match v.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Num::Value(n)),
                    _ => Ok(Num::Invalid(describe_unexpected(&format!(
                        "\"{}\"",
                        clip(v, 40)
                    )))),
                }
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Num, E> {
                Ok(Num::Invalid(describe_unexpected(&v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num::Missing)
            }
            fn visit_none<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num::Missing)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Num, D2::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Num, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Num::Invalid(describe_unexpected("a list")))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Num, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Num::Invalid(describe_unexpected("an object")))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match TextRef::deserialize(d)? {
            TextRef::Missing => Text::Missing,
            TextRef::Value(v) => Text::Value(v.into_owned()),
            TextRef::Invalid(why) => Text::Invalid(why.to_owned()),
        })
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Text::deserialize(d)? {
            Text::Missing => Flag::Missing,
            Text::Invalid(why) => Flag::Invalid(why),
            Text::Value(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Flag::Value(true),
                "false" | "no" | "0" => Flag::Value(false),
                _ => Flag::Invalid(format!("expected a boolean, got \"{}\"", clip(&s, 40))),
            },
        })
    }
}

/// Like [`Text`], but borrowed from the body when the JSON string has no
/// escapes, so reading many records does not allocate per field.
#[derive(Debug, Clone, PartialEq, Default)]
enum TextRef<'a> {
    /// Absent or `null`.
    #[default]
    Missing,
    /// The text.
    Value(Cow<'a, str>),
    /// Present but a list or object; the reason is for the warning.
    Invalid(&'static str),
}

#[cfg(test)]
impl TextRef<'_> {
    /// The text, if present and valid.
    fn as_str(&self) -> Option<&str> {
        match self {
            TextRef::Value(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for TextRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(TextRef::Value(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextRef::Value(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(TextRef::Value(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(TextRef::Value(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(TextRef::Value(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(TextRef::Value(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(TextRef::Value(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(TextRef::Missing)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(TextRef::Missing)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TextRef::Invalid("expected text, got a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TextRef::Invalid("expected text, got an object"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list that XML-derived JSON may send as a single object (or `null`).
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list or a single object")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let one = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(OneOrMany(vec![one]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Decodes a body as `T`, reporting the serde path of a failure. A body
/// that only fails because of trailing commas (as in some samples of the
/// vendors' documents) is read with them removed.
pub fn decode<T: DeserializeOwned>(endpoint: &'static str, body: &[u8]) -> Result<T, DecodeError> {
    match decode_borrowed(endpoint, body) {
        Ok(v) => Ok(v),
        Err(err) => {
            if is_syntax_error(&err)
                && let Some(repaired) = without_trailing_commas(body)
                && let Ok(v) = decode_borrowed::<T>(endpoint, &repaired)
            {
                return Ok(v);
            }
            Err(err)
        }
    }
}

/// Decodes a body as `T`, which may borrow strings from it; no repair.
fn decode_borrowed<'a, T: Deserialize<'a>>(
    endpoint: &'static str,
    body: &'a [u8],
) -> Result<T, DecodeError> {
    // Tracking the serde path costs an allocation per key read, a third of
    // the time of a large page; only a failure needs it, to say where.
    serde_json::from_slice(body).map_err(|e| explain_failure::<T>(endpoint, body, &e))
}

/// Decodes `body` again, tracking the path, to report where it fails.
fn explain_failure<'a, T: Deserialize<'a>>(
    endpoint: &'static str,
    body: &'a [u8],
    first: &serde_json::Error,
) -> DecodeError {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => decode_error(endpoint, body, e.path().to_string(), e.inner()),
        Ok(_) => {
            let err = de.end().err();
            decode_error(
                endpoint,
                body,
                ".".to_owned(),
                err.as_ref().unwrap_or(first),
            )
        }
    }
}

fn is_syntax_error(err: &DecodeError) -> bool {
    err.reason.starts_with(SYNTAX_PREFIX)
}

/// How a decode error starts the reason of a JSON syntax error.
pub const SYNTAX_PREFIX: &str = "invalid JSON: ";

fn decode_error(
    endpoint: &'static str,
    body: &[u8],
    path: String,
    err: &serde_json::Error,
) -> DecodeError {
    let reason = body_reason(body, || {
        if err.is_syntax() || err.is_eof() {
            format!("{SYNTAX_PREFIX}{err}")
        } else {
            err.to_string()
        }
    });
    // serde_path_to_error says "?" when the failure is not inside a field.
    let path = if path.is_empty() || path == "?" {
        ".".to_owned()
    } else {
        path
    };
    DecodeError {
        endpoint,
        path,
        reason,
    }
}

/// Why `body` did not decode: what `json` says when the body starts as
/// JSON (`{` or `[`), else that it is empty or not JSON, said alike by
/// every reader of appliance bodies.
pub fn body_reason(body: &[u8], json: impl FnOnce() -> String) -> String {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => "the body is empty".to_owned(),
        Some(b'{' | b'[') => json(),
        Some(_) => format!(
            "expected JSON, the body starts with \"{}\"",
            clip(&String::from_utf8_lossy(&body[..body.len().min(80)]), 60)
        ),
    }
}

/// A copy of `body` without commas that directly precede `}` or `]`
/// (outside strings), or `None` when there are none.
pub fn without_trailing_commas(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut pending_comma: Option<usize> = None;
    let mut changed = false;
    for &b in body {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b',' => {
                pending_comma = Some(out.len());
                out.push(b);
                continue;
            }
            b'}' | b']' => {
                if let Some(at) = pending_comma.take() {
                    out.remove(at);
                    changed = true;
                }
            }
            b'"' => {
                in_string = true;
                pending_comma = None;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {
                out.push(b);
                continue;
            }
            _ => pending_comma = None,
        }
        out.push(b);
    }
    changed.then_some(out)
}

/// The message of an appliance error body: ER2's `{"message": ..}`, ICS's
/// `{"result":{"errors":[{"message": ..}]}}`, or Sectona's `ErrorMessage`.
pub fn error_message(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(default)]
        message: Text,
    }
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: OneOrMany<Message>,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        message: Text,
        #[serde(default)]
        result: Option<Errors>,
        #[serde(default, rename = "ErrorMessage")]
        error_message: Text,
    }
    let parsed: Body = serde_json::from_slice(body).ok()?;
    let text = parsed
        .message
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            let errs = parsed.result?.errors.0;
            let all: Vec<String> = errs
                .iter()
                .filter_map(|m| m.message.as_str())
                .map(str::to_owned)
                .collect();
            (!all.is_empty()).then(|| all.join("; "))
        })
        .or_else(|| parsed.error_message.as_str().map(str::to_owned))?;
    Some(clip(&text, 300))
}

/// At most `max` characters of `s`, control characters replaced, with an
/// ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Row {
        #[serde(default)]
        n: Num,
        #[serde(default)]
        t: Text,
        #[serde(default)]
        f: Flag,
    }

    fn row(json: &str) -> Row {
        decode("/t", json.as_bytes()).unwrap()
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        assert_eq!(row(r#"{"n": 20}"#).n, Num::Value(20.0));
        assert_eq!(row(r#"{"n": "20"}"#).n, Num::Value(20.0));
        assert_eq!(row(r#"{"n": " 1.5 "}"#).n, Num::Value(1.5));
        assert_eq!(row(r#"{"n": null}"#).n, Num::Missing);
        assert_eq!(row(r#"{}"#).n, Num::Missing);
        assert!(matches!(row(r#"{"n": "abc"}"#).n, Num::Invalid(_)));
        assert!(matches!(row(r#"{"n": {"a": [1]}}"#).n, Num::Invalid(_)));
        assert!(matches!(row(r#"{"n": "NaN"}"#).n, Num::Invalid(_)));
    }

    #[test]
    fn a_bad_value_keeps_its_reason_and_the_rest_of_the_row() {
        let r = row(r#"{"n": "abc", "t": "x", "f": "no"}"#);
        assert_eq!(r.n, Num::Invalid("expected a number, got \"abc\"".into()));
        assert_eq!((r.t, r.f), (Text::Value("x".into()), Flag::Value(false)));
    }

    #[test]
    fn text_and_flags() {
        assert_eq!(row(r#"{"t": 5}"#).t, Text::Value("5".into()));
        assert!(matches!(row(r#"{"t": [1]}"#).t, Text::Invalid(_)));
        assert_eq!(row(r#"{"f": "YES"}"#).f, Flag::Value(true));
        assert_eq!(row(r#"{"f": false}"#).f, Flag::Value(false));
        assert!(matches!(row(r#"{"f": "maybe"}"#).f, Flag::Invalid(_)));
    }

    #[test]
    fn borrowed_text_borrows_unless_escaped() {
        #[derive(serde::Deserialize)]
        struct R<'a> {
            #[serde(borrow)]
            a: TextRef<'a>,
            #[serde(borrow)]
            b: TextRef<'a>,
            #[serde(borrow, default)]
            c: TextRef<'a>,
            #[serde(borrow)]
            d: TextRef<'a>,
        }
        let body = br#"{"a": "plain", "b": "DOM\\user", "d": 7}"#;
        let r: R<'_> = decode_borrowed("/t", body).unwrap();
        assert!(matches!(r.a, TextRef::Value(Cow::Borrowed("plain"))));
        assert_eq!(r.b.as_str(), Some("DOM\\user"));
        assert!(matches!(r.b, TextRef::Value(Cow::Owned(_))));
        assert_eq!(r.c, TextRef::Missing);
        assert_eq!(r.d.as_str(), Some("7"));
    }

    #[test]
    fn one_or_many() {
        let many: OneOrMany<Row> = decode("/t", br#"[{"n":1},{"n":2}]"#).unwrap();
        assert_eq!(many.0.len(), 2);
        let one: OneOrMany<Row> = decode("/t", br#"{"n":1}"#).unwrap();
        assert_eq!(one.0.len(), 1);
        let none: OneOrMany<Row> = decode("/t", b"null").unwrap();
        assert!(none.0.is_empty());
    }

    #[test]
    fn one_or_many_names_the_bad_element_of_a_list_and_keeps_text_borrowed() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Top {
            rows: OneOrMany<Row>,
        }
        let err = decode::<Top>("/v1/x", br#"{"rows": [{"n": 1}, {"n": 2}, 7]}"#).unwrap_err();
        assert_eq!(err.path, "rows[2]");
        assert!(err.reason.contains("expected struct Row"), "{}", err.reason);
        #[derive(serde::Deserialize, Debug)]
        struct Named<'a> {
            #[serde(borrow)]
            name: TextRef<'a>,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Names<'a> {
            #[serde(borrow)]
            names: OneOrMany<Named<'a>>,
        }
        for body in [
            &br#"{"names": {"name": "one"}}"#[..],
            br#"{"names": [{"name": "one"}]}"#,
        ] {
            let names: Names<'_> = decode_borrowed("/v1/x", body).unwrap();
            assert!(
                matches!(
                    names.names.0[..],
                    [Named {
                        name: TextRef::Value(Cow::Borrowed("one"))
                    }]
                ),
                "{names:?}"
            );
        }
    }

    #[test]
    fn trailing_commas_are_tolerated() {
        let r: Vec<Row> = decode("/t", br#"[{"t": "a,}", "n": 1,}, ]"#).unwrap();
        assert_eq!(r[0].t, Text::Value("a,}".into()));
        assert_eq!(without_trailing_commas(br#"{"a": [1, 2]}"#), None);
    }

    #[test]
    fn decode_errors_name_path_and_cause() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Top {
            rows: Vec<Row>,
        }
        let err = decode::<Top>("/v1/x", br#"{"rows": [{"n": 1}, 7]}"#).unwrap_err();
        assert_eq!(err.path, "rows[1]");
        let html = decode::<Top>("/v1/x", b"<!DOCTYPE html><html>Maintenance</html>").unwrap_err();
        assert!(
            html.to_string()
                .contains("expected JSON, the body starts with \"<!DOCTYPE html>"),
            "{html}"
        );
        let empty = decode::<Top>("/v1/x", b"  ").unwrap_err();
        assert!(empty.to_string().contains("the body is empty"), "{empty}");
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(br#"{"message": "Access denied."}"#).as_deref(),
            Some("Access denied.")
        );
        assert_eq!(
            error_message(br#"{"result":{"errors":[{"message":"Invalid import mode"}]}}"#)
                .as_deref(),
            Some("Invalid import mode")
        );
        assert_eq!(error_message(b"<html>"), None);
    }
}
