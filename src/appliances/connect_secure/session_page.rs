//! The reader of an active-users page, the only one: one pass over the
//! bytes that checks the JSON, reads the listing fields and the ten fields
//! of each session record that are counted, and skips the others without
//! building anything. A page of 200 sessions is some 200 KiB, a gateway of
//! 100,000 sessions 500 pages, so this is where a scrape spends its CPU.
//!
//! Why it is written by hand rather than read with a JSON crate: the
//! benchmark of the reading alone (`cargo bench --bench session_page`: the
//! 50 pages of 10,000 sessions of `cargo bench --bench scrape`, read,
//! counted and encoded) measured, in the same minute on the same machine,
//! 448 ns per session for the earlier form of this reader, 954 ns for
//! serde_json driving serde visitors of the same fields, 1,085 ns for
//! sonic-rs driving those visitors and 1,965 ns for sonic-rs's lazy object
//! and array iterators (simd-json, which parses a mutable copy of the page
//! into a tape of every value, was not tried). Skipping a field costs only
//! a scan for the string's closing quote, sixteen bytes at a time; a
//! crate's deserializer hands every skipped value to a visitor or builds a
//! lazy value for it. The pieces that make it cheaper still, each measured
//! with the same benchmark under `valgrind --tool=cachegrind` (instructions
//! of the whole run, which do not move with the machine's load): a
//! record's keys known from the previous record's (`Scanner::record`,
//! 10.0 to 8.5 billion); those bytes compared in words rather than by a
//! call (`same`, 8.5 to 8.2); sign-in times read by `plain_decimal`,
//! and read strings checked as ASCII in line (`utf8`, 8.2 to 7.9); the
//! plain strings and `null`s of the text fields read in the record loop
//! (7.75 to 7.50 billion, and 308 to 260 ns per session, the reader
//! before all of them taking 463 ns in the same minute); an
//! `endpoint-security-status` that repeats the previous record's, byte
//! for byte, taken from it (`Scanner::last_status`, 261 to 241 ns per
//! session). Tests hold each to its expected values.
//!
//! What it accepts is what the lenient types of [`crate::json`] accept:
//! a number or a boolean where a text field is read is taken as its text
//! (as [`crate::json::Text`] spells it), the records may be one object
//! instead of a list, `null` stands for an absent field, keys and strings
//! may hold escapes, and a read string must be valid UTF-8 (skipped ones
//! are only scanned). A key sent twice is an error in the page and the
//! listing (`duplicate field`), while in a session record the last value
//! wins. Where the page and the listing are objects a list is an error
//! (serde would also have taken a list of their fields in order; no
//! gateway sends that). A bad page fails with the JSON path of the
//! problem (as `active-users.active-user-records.active-user-record[3]`),
//! the reason, and its line and column.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

use crate::json::{self, DecodeError, Flag, Num};

/// Containers nested deeper than this are an error (serde_json's limit).
const MAX_DEPTH: usize = 128;

/// The fields of one session record that the listing counts; `None` when
/// absent, `null`, or a list or object. Text is given as the bytes of
/// valid UTF-8, escapes decoded, borrowed from the body when it has none.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    /// `session-id`.
    pub session_id: Option<Cow<'a, [u8]>>,
    /// `active-user-name`.
    pub user: Option<Cow<'a, [u8]>>,
    /// `authentication-realm`.
    pub realm: Option<Cow<'a, [u8]>>,
    /// `login-node`.
    pub node: Option<Cow<'a, [u8]>>,
    /// `network-connect-transport-mode`, as sent.
    pub transport: Option<Cow<'a, [u8]>>,
    /// `pulse-client-version`.
    pub client_version: Option<Cow<'a, [u8]>>,
    /// `primary-auth-server-name`.
    pub auth_server: Option<Cow<'a, [u8]>>,
    /// `hc-failed-reasons` holds something (not `null`, `false`, `""`,
    /// `[]` or `{}`).
    pub hc_failed: bool,
    /// `endpoint-security-status` lists failed policies.
    pub policies_failed: bool,
    /// `sign-in-time-micro` (seconds, as a number or numeric string).
    pub sign_in: Option<f64>,
}

impl<'a> Fields<'a> {
    /// Where the text field `field` goes; `None` for the others.
    #[inline(always)]
    fn text_slot(&mut self, field: RecordKey) -> Option<&mut Option<Cow<'a, [u8]>>> {
        match field {
            RecordKey::SessionId => Some(&mut self.session_id),
            RecordKey::User => Some(&mut self.user),
            RecordKey::Realm => Some(&mut self.realm),
            RecordKey::Node => Some(&mut self.node),
            RecordKey::Transport => Some(&mut self.transport),
            RecordKey::ClientVersion => Some(&mut self.client_version),
            RecordKey::AuthServer => Some(&mut self.auth_server),
            _ => None,
        }
    }
}

/// The label in `endpoint-security-status` after which the failed host
/// check policies are listed, up to the end of the line.
pub const FAILED_POLICIES: &str = "Failed Policies:";

/// Whether an `endpoint-security-status` lists failed policies: text other
/// than spaces and tabs after [`FAILED_POLICIES`] on its line.
pub fn lists_failed_policies(status: &str) -> bool {
    status.find(FAILED_POLICIES).is_some_and(|at| {
        status[at + FAILED_POLICIES.len()..]
            .split(['\n', '\r'])
            .next()
            .is_some_and(|line| !line.trim_matches([' ', '\t']).is_empty())
    })
}

/// Seconds from a number's or a numeric string's text (`sign-in-time-micro`
/// is sent as "1699317427.743783").
pub fn seconds(text: &str) -> Option<f64> {
    plain_decimal(text.as_bytes())
        .or_else(|| text.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite())
}

/// Powers of ten that are exact in an `f64`.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `digits[.digits]` whose digits, the point left out, make an integer
/// exact in an `f64` (below 2^53): that integer divided by an exact power
/// of ten, one correctly rounded division, is the value `str::parse`
/// gives (Clinger's fast path), at a fraction of its cost. `None` for any
/// other text, left to `str::parse`.
fn plain_decimal(text: &[u8]) -> Option<f64> {
    // Nineteen digits cannot overflow the `u64`.
    if text.len() > 20 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut point = None;
    for (i, &b) in text.iter().enumerate() {
        let digit = b.wrapping_sub(b'0');
        if digit < 10 {
            mantissa = mantissa * 10 + u64::from(digit);
        } else if b == b'.' && point.is_none() && i > 0 && i + 1 < text.len() {
            point = Some(i);
        } else {
            return None;
        }
    }
    let fraction_digits = point.map_or(0, |p| text.len() - p - 1);
    let digits = text.len() - usize::from(point.is_some());
    if digits == 0 || digits > 19 || mantissa >= 1 << 53 {
        return None;
    }
    Some(mantissa as f64 / EXACT_POWERS_OF_TEN.get(fraction_digits)?)
}

/// The fields of the listing itself.
#[derive(Debug, Default, PartialEq)]
pub struct Head {
    /// `total-matched-record-number`.
    pub total: Num,
    /// `user-login-permission`.
    pub login_permitted: Flag,
    /// `is-last-record`.
    pub is_last: Flag,
    /// Session records on the page.
    pub records: usize,
}

/// Why a page cannot be read, and where.
#[derive(Debug)]
pub struct PageError {
    /// The JSON path, innermost segment first (it is built while the
    /// reader unwinds).
    path: Vec<Segment>,
    /// What is wrong.
    reason: String,
    /// Whether the bytes are not JSON at all (rather than JSON of another
    /// shape).
    syntax: bool,
    /// The byte offset of the problem.
    at: usize,
}

/// One step of a JSON path.
#[derive(Debug)]
enum Segment {
    /// A member of an object.
    Key(String),
    /// An element of a list.
    Index(usize),
}

/// Results of the reader; the error is boxed to keep them small.
type Read<T> = Result<T, Box<PageError>>;

impl PageError {
    /// The error as the endpoint's other answers give it: the path (`.`
    /// for the whole body) and the reason with its line and column.
    pub fn into_decode_error(self, endpoint: &'static str, body: &[u8]) -> DecodeError {
        let mut path = String::new();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Segment::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        if path.is_empty() {
            path.push('.');
        }
        let reason = json::body_reason(body, || {
            let before = &body[..self.at.min(body.len())];
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            let column = 1 + before.len()
                - before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |n| n + 1);
            let prefix = if self.syntax { json::SYNTAX_PREFIX } else { "" };
            format!("{prefix}{} at line {line} column {column}", self.reason)
        });
        DecodeError {
            endpoint,
            path,
            reason,
        }
    }
}

/// Adds `segment` to the path of an error coming out of it.
fn within<T>(read: Read<T>, segment: impl FnOnce() -> Segment) -> Read<T> {
    read.map_err(|mut e| {
        e.path.push(segment());
        e
    })
}

/// The key in the bytes before a record's value, for a path.
fn key_in(prefix: &[u8]) -> String {
    let mut parts = prefix.split(|&b| b == b'"');
    key_text(parts.nth(1).unwrap_or_default())
}

/// The text of a key, for a path or a message.
fn key_text(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// Reads `body`, showing each session record to `record` in page order.
/// On an error the records handed over so far are to be discarded.
pub fn read<'a>(body: &'a [u8], mut record: impl FnMut(&Fields<'a>)) -> Result<Head, PageError> {
    let mut s = Scanner {
        b: body,
        i: 0,
        layout: Vec::new(),
        last_status: None,
    };
    let mut head = None;
    let read = s
        .object(true, |s, key| {
            if key != b"active-users" {
                return s.skip_value(0);
            }
            if head.is_some() {
                return s.invalid("duplicate field `active-users`");
            }
            head = Some(s.listing(&mut record)?);
            Ok(())
        })
        .and_then(|()| {
            s.peek();
            if s.i == body.len() {
                Ok(())
            } else {
                s.syntax("trailing characters after the page")
            }
        })
        .and_then(|()| match head.take() {
            Some(head) => Ok(head),
            None => s.invalid("missing field `active-users`"),
        });
    read.map_err(|e| *e)
}

/// A position in the body.
struct Scanner<'a> {
    /// The body.
    b: &'a [u8],
    /// The next byte to read.
    i: usize,
    /// The previous record's members, in order: where the bytes from the
    /// `{` or `,` to the value begin, how many they are, and the field.
    layout: Vec<Member>,
    /// The last `endpoint-security-status` string read, quotes included,
    /// and whether it lists failed policies: the records of a page mostly
    /// repeat it, and then one compare stands for reading it.
    last_status: Option<(&'a [u8], bool)>,
}

/// The bytes before one member's value in a record, and its field.
#[derive(Debug, Clone, Copy)]
struct Member {
    /// Where the bytes start in the body.
    start: usize,
    /// How many they are (0: the key has escapes, and is read again).
    len: usize,
    /// The field the key names.
    field: RecordKey,
}

/// A string's content as it stands in the body.
struct Raw<'a> {
    /// The bytes between the quotes.
    content: &'a [u8],
    /// The string from its opening to its closing quote.
    quoted: &'a [u8],
    /// Whether it contains escapes.
    escaped: bool,
}

impl Raw<'_> {
    /// The string's text with its escapes decoded, or why it cannot be.
    #[cold]
    fn decode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::from_slice::<String>(self.quoted).map(String::into_bytes)
    }
}

/// Whether a value holds something: true for a non-empty container.
fn non_empty_container(value: &[u8]) -> bool {
    value[1..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b != b']' && b != b'}')
}

impl<'a> Scanner<'a> {
    /// An error at the current byte: the bytes are not JSON.
    #[cold]
    fn syntax<T>(&self, reason: &str) -> Read<T> {
        let reason = if self.i >= self.b.len() {
            "the body ends early".to_owned()
        } else {
            reason.to_owned()
        };
        Err(Box::new(PageError {
            path: Vec::new(),
            reason,
            syntax: true,
            at: self.i,
        }))
    }

    /// An error at the current byte: JSON, but not of the page's shape.
    #[cold]
    fn invalid<T>(&self, reason: impl Into<String>) -> Read<T> {
        Err(Box::new(PageError {
            path: Vec::new(),
            reason: reason.into(),
            syntax: false,
            at: self.i,
        }))
    }

    /// An error for a value of the wrong type, naming what was found.
    #[cold]
    fn wrong_type<T>(&self, expected: &str) -> Read<T> {
        let found = match self.b.get(self.i) {
            Some(b'{') => "an object",
            Some(b'[') => "a list",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        };
        self.invalid(format!("expected {expected}, got {found}"))
    }

    /// The next byte after whitespace, not consumed. It is asked for before
    /// every token, and mostly there is no whitespace to skip: a byte above
    /// the space is answered at once.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        loop {
            let b = *self.b.get(self.i)?;
            if b > b' ' || !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.i += 1;
        }
    }

    /// The next byte after whitespace; the end of the body is an error.
    #[inline(always)]
    fn next(&mut self) -> Read<u8> {
        match self.peek() {
            Some(b) => Ok(b),
            None => self.syntax(""),
        }
    }

    /// Consumes `c` after whitespace.
    #[inline(always)]
    fn eat(&mut self, c: u8, what: &str) -> Read<()> {
        if self.next()? == c {
            self.i += 1;
            Ok(())
        } else {
            self.syntax(what)
        }
    }

    /// Reads the members of an object, calling `member` with each key
    /// (escapes decoded; checked as UTF-8 when `checked`, as serde checks
    /// the keys of a struct); it must consume the value.
    #[inline(always)]
    fn object(
        &mut self,
        checked: bool,
        mut member: impl FnMut(&mut Self, &[u8]) -> Read<()>,
    ) -> Read<()> {
        if self.next()? != b'{' {
            return self.wrong_type("an object");
        }
        self.i += 1;
        if self.next()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.next()? != b'"' {
                return self.syntax("expected a key string");
            }
            let raw = self.string()?;
            let key = if raw.escaped {
                match raw.decode() {
                    Ok(k) => Cow::Owned(k),
                    Err(_) if !checked => Cow::Borrowed(raw.content),
                    Err(e) => return self.syntax(&e.to_string()),
                }
            } else {
                if checked && !utf8(raw.content) {
                    return self.syntax("invalid UTF-8 in a key");
                }
                Cow::Borrowed(raw.content)
            };
            self.eat(b':', "expected `:`")?;
            if checked {
                within(member(self, &key), || Segment::Key(key_text(&key)))?;
            } else {
                member(self, &key)?;
            }
            match self.next()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.syntax("expected `,` or `}`"),
            }
        }
    }

    /// Reads the string at the opening quote.
    #[inline(always)]
    fn string(&mut self) -> Read<Raw<'a>> {
        let open = self.i;
        self.i += 1;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match self.b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Raw {
                        content: &self.b[open + 1..self.i - 1],
                        quoted: &self.b[open..self.i],
                        escaped,
                    });
                }
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                Some(_) => return self.syntax("control character in a string"),
                None => return self.syntax(""),
            }
        }
    }

    /// Moves past bytes that neither end a string nor start an escape.
    #[inline(always)]
    fn skip_plain(&mut self) {
        self.i = plain_end(self.b, self.i);
    }

    /// Checks the escape at the backslash and moves past it.
    fn escape(&mut self) -> Read<()> {
        match self.b.get(self.i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
            Some(b'u') => {
                let hex = self.b.get(self.i + 2..self.i + 6);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    self.i += 2;
                    return self.syntax("invalid \\u escape");
                }
                self.i += 6;
            }
            _ => {
                self.i += 1;
                return self.syntax("invalid escape");
            }
        }
        Ok(())
    }

    /// Skips any value, checking that it is well-formed.
    fn skip_value(&mut self, depth: usize) -> Read<()> {
        if depth > MAX_DEPTH {
            return self.invalid(format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        match self.next()? {
            b'{' => self.object(false, |s, _| s.skip_value(depth + 1)),
            b'[' => self.array(|s, _| s.skip_value(depth + 1)),
            _ => self.scalar().map(drop),
        }
    }

    /// Skips the value of a field of a session record: most are strings or
    /// `null`, which are skipped here without a call.
    #[inline(always)]
    fn skip_field(&mut self) -> Read<()> {
        match self.next()? {
            b'"' => self.string().map(drop),
            b'n' => self.literal(b"null").map(drop),
            _ => self.skip_value(0),
        }
    }

    /// Reads the elements of a list, calling `element` with each index; it
    /// must consume the element.
    fn array(&mut self, mut element: impl FnMut(&mut Self, usize) -> Read<()>) -> Read<()> {
        self.eat(b'[', "expected `[`")?;
        if self.next()? == b']' {
            self.i += 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            element(self, index)?;
            index += 1;
            match self.next()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.syntax("expected `,` or `]`"),
            }
        }
    }

    /// Reads a string, number, `true`, `false` or `null`; returns its bytes
    /// as they stand.
    fn scalar(&mut self) -> Read<&'a [u8]> {
        let start = self.i;
        match self.next()? {
            b'"' => self.string().map(|raw| raw.quoted),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Ok(&self.b[start..self.i])
            }
            _ => self.syntax("expected a value"),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Read<&'a [u8]> {
        let start = self.i;
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(&self.b[start..self.i])
        } else {
            self.syntax("expected a value")
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Read<()> {
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.b.get(s.i).is_some_and(u8::is_ascii_digit) {
                s.i += 1;
            }
            if s.i > from {
                Ok(())
            } else {
                s.syntax("invalid number")
            }
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => digits(self)?,
            _ => return self.syntax("invalid number"),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            digits(self)?;
        }
        Ok(())
    }

    /// A value read with the lenient type `T` of [`crate::json`], which
    /// takes any JSON (a field of the wrong shape becomes its `Invalid`).
    fn lenient<T: DeserializeOwned>(&mut self) -> Read<T> {
        let start = self.i;
        self.skip_value(0)?;
        match serde_json::from_slice(&self.b[start..self.i]) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.i = start;
                self.invalid(e.to_string().split(" at line ").next().unwrap_or_default())
            }
        }
    }

    /// `active-users`.
    fn listing(&mut self, record: &mut impl FnMut(&Fields<'a>)) -> Read<Head> {
        let mut head = Head::default();
        let mut seen = [false; 4];
        self.object(true, |s, key| {
            let (at, name) = match key {
                b"active-user-records" => (0, "active-user-records"),
                b"total-matched-record-number" => (1, "total-matched-record-number"),
                b"user-login-permission" => (2, "user-login-permission"),
                b"is-last-record" => (3, "is-last-record"),
                _ => return s.skip_value(0),
            };
            if std::mem::replace(&mut seen[at], true) {
                return s.invalid(format!("duplicate field `{name}`"));
            }
            match at {
                0 if s.next()? == b'n' => s.literal(b"null").map(drop)?,
                0 => s.records(&mut head.records, record)?,
                1 => head.total = s.lenient()?,
                2 => head.login_permitted = s.lenient()?,
                _ => head.is_last = s.lenient()?,
            }
            Ok(())
        })?;
        Ok(head)
    }

    /// `active-user-records`: its `active-user-record` list (or single
    /// object, or `null`).
    fn records(&mut self, count: &mut usize, record: &mut impl FnMut(&Fields<'a>)) -> Read<()> {
        let mut seen = false;
        self.object(true, |s, key| {
            if key != b"active-user-record" {
                return s.skip_value(0);
            }
            if std::mem::replace(&mut seen, true) {
                return s.invalid("duplicate field `active-user-record`");
            }
            let mut one = |s: &mut Self| {
                let mut fields = Fields::default();
                s.record(&mut fields)?;
                record(&fields);
                *count += 1;
                Ok(())
            };
            match s.next()? {
                b'[' => s.array(|s, i| {
                    within(
                        if s.next()? == b'{' {
                            one(s)
                        } else {
                            s.wrong_type("an active-user-record object")
                        },
                        || Segment::Index(i),
                    )
                }),
                b'{' => one(s),
                b'n' => s.literal(b"null").map(drop),
                _ => s.wrong_type("a list or a single object"),
            }
        })
    }

    /// One session record, at its `{`. This loop runs two dozen times
    /// per record and two hundred records per page, so it keeps its place
    /// in a local and takes the common case in line: the records of a page
    /// have their keys in the same order, so the bytes from a record's `,`
    /// to a value (white space, the key, the colon) are most often those
    /// of the member at the same place in the previous record, and then one
    /// compare stands for reading them. The plain string, `null` or number
    /// of a field not read is skipped in line, and the plain string or
    /// `null` of a text field read in line; the rest goes to the general
    /// methods.
    fn record(&mut self, fields: &mut Fields<'a>) -> Read<()> {
        let b = self.b;
        let mut i = self.i + 1;
        if b.get(skip_white(b, i)) == Some(&b'}') {
            self.i = skip_white(b, i) + 1;
            return Ok(());
        }
        let mut place = 0;
        loop {
            let known = self.layout.get(place).copied().filter(|m| {
                m.len > 0
                    && b.get(i..i + m.len)
                        .is_some_and(|now| same(now, &b[m.start..m.start + m.len]))
            });
            let (field, key) = match known {
                Some(m) => {
                    i += m.len;
                    (m.field, None)
                }
                None => {
                    let start = i;
                    i = skip_white(b, i);
                    if b.get(i) != Some(&b'"') {
                        self.i = i;
                        return self.syntax("expected a key string");
                    }
                    let end = plain_end(b, i + 1);
                    let (key, plain): (Cow<'a, [u8]>, bool) = if b.get(end) == Some(&b'"') {
                        let key = &b[i + 1..end];
                        i = end + 1;
                        (Cow::Borrowed(key), true)
                    } else {
                        self.i = i;
                        let raw = self.string()?;
                        i = self.i;
                        match raw.decode() {
                            Ok(k) => (Cow::Owned(k), false),
                            // It matches no field of a record.
                            Err(_) => (Cow::Borrowed(raw.content), false),
                        }
                    };
                    i = skip_white(b, i);
                    if b.get(i) != Some(&b':') {
                        self.i = i;
                        return self.syntax("expected `:`");
                    }
                    i = skip_white(b, i + 1);
                    let field = RecordKey::of(&key);
                    // Only a key without escapes is known by its bytes.
                    let member = Member {
                        start,
                        len: if plain { i - start } else { 0 },
                        field,
                    };
                    match self.layout.get_mut(place) {
                        Some(m) => *m = member,
                        None => self.layout.push(member),
                    }
                    (field, Some(key))
                }
            };
            place += 1;
            let plain = match (field, b.get(i)) {
                (RecordKey::Other, Some(b'"')) => {
                    let end = plain_end(b, i + 1);
                    (b.get(end) == Some(&b'"')).then_some(end + 1)
                }
                (RecordKey::Other, Some(b'n')) if b.get(i..i + 4) == Some(b"null") => Some(i + 4),
                (RecordKey::Other, Some(b'-' | b'0'..=b'9')) => {
                    // A bad number is read again below, to say where.
                    self.i = i;
                    self.number().ok().map(|()| self.i)
                }
                // A text field's plain string or `null`, and a sign-in
                // time of plain digits, read in line too; anything else
                // (escapes, bad UTF-8 to report) below.
                (_, Some(b'"')) => {
                    let end = plain_end(b, i + 1);
                    let content = &b[i + 1..end];
                    if b.get(end) != Some(&b'"') {
                        None
                    } else if let Some(slot) = fields.text_slot(field) {
                        utf8(content).then(|| {
                            *slot = Some(Cow::Borrowed(content));
                            end + 1
                        })
                    } else if let (RecordKey::SignIn, Some(seconds)) =
                        (field, plain_decimal(content))
                    {
                        fields.sign_in = Some(seconds);
                        Some(end + 1)
                    } else {
                        None
                    }
                }
                (_, Some(b'n')) if b.get(i..i + 4) == Some(b"null") => {
                    fields.text_slot(field).map(|slot| {
                        *slot = None;
                        i + 4
                    })
                }
                _ => None,
            };
            i = match plain {
                Some(after) => after,
                None => {
                    self.i = i;
                    let read = self.record_field(field, fields);
                    within(read, || {
                        Segment::Key(match (&key, known) {
                            (Some(key), _) => key_text(key),
                            (None, Some(m)) => key_in(&b[m.start..m.start + m.len]),
                            (None, None) => String::new(),
                        })
                    })?;
                    self.i
                }
            };
            i = skip_white(b, i);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    self.i = i + 1;
                    return Ok(());
                }
                _ => {
                    self.i = i;
                    return self.syntax("expected `,` or `}`");
                }
            }
        }
    }

    /// The value of the record's field `field`, into `fields`.
    #[inline(always)]
    fn record_field(&mut self, field: RecordKey, fields: &mut Fields<'a>) -> Read<()> {
        match field {
            RecordKey::Other => self.skip_field()?,
            RecordKey::SessionId => fields.session_id = self.text()?,
            RecordKey::User => fields.user = self.text()?,
            RecordKey::Realm => fields.realm = self.text()?,
            RecordKey::Node => fields.node = self.text()?,
            RecordKey::Transport => fields.transport = self.text()?,
            RecordKey::ClientVersion => fields.client_version = self.text()?,
            RecordKey::AuthServer => fields.auth_server = self.text()?,
            RecordKey::HcFailed => fields.hc_failed = self.holds_something()?,
            RecordKey::SecurityStatus => fields.policies_failed = self.lists_failed_policies()?,
            RecordKey::SignIn => fields.sign_in = self.seconds()?,
        }
        Ok(())
    }

    /// The text of a field as [`crate::json::Text`] reads it: a string, or
    /// a number or boolean as its text; `None` for `null`, a list or an
    /// object.
    #[inline(always)]
    fn text(&mut self) -> Read<Option<Cow<'a, [u8]>>> {
        match self.next()? {
            b'"' => {
                let raw = self.string()?;
                if !raw.escaped {
                    if !utf8(raw.content) {
                        self.i -= raw.quoted.len();
                        return self.invalid("invalid UTF-8 in a string");
                    }
                    return Ok(Some(Cow::Borrowed(raw.content)));
                }
                match raw.decode() {
                    Ok(text) => Ok(Some(Cow::Owned(text))),
                    Err(e) => {
                        self.i -= raw.quoted.len();
                        self.invalid(e.to_string().split(" at line ").next().unwrap_or_default())
                    }
                }
            }
            b'n' => self.literal(b"null").map(|_| None),
            b'{' | b'[' => self.skip_value(0).map(|()| None),
            _ => {
                let value = self.scalar()?;
                Ok(match serde_json::from_slice::<json::Text>(value) {
                    Ok(json::Text::Value(text)) => Some(Cow::Owned(text.into_bytes())),
                    _ => None,
                })
            }
        }
    }

    /// Whether a value holds something: not `null`, `false`, `""`, `[]`
    /// or `{}`.
    fn holds_something(&mut self) -> Read<bool> {
        match self.next()? {
            b'"' => Ok(!self.string()?.content.is_empty()),
            b'n' => self.literal(b"null").map(|_| false),
            b'f' => self.literal(b"false").map(|_| false),
            b't' => self.literal(b"true").map(|_| true),
            b'[' | b'{' => {
                let start = self.i;
                self.skip_value(0)?;
                Ok(non_empty_container(&self.b[start..self.i]))
            }
            _ => self.number().map(|()| true),
        }
    }

    /// Whether an `endpoint-security-status` lists failed policies, as
    /// [`lists_failed_policies`] tells it of the decoded text; decoded only
    /// when the raw bytes cannot say. A number or boolean lists none.
    fn lists_failed_policies(&mut self) -> Read<bool> {
        if self.next()? != b'"' {
            return self.text().map(|_| false);
        }
        let start = self.i;
        // The same bytes from an opening quote are the same string: a
        // string ends at its first quote not escaped.
        if let Some((quoted, listed)) = self.last_status
            && self.b[start..].starts_with(quoted)
        {
            self.i = start + quoted.len();
            return Ok(listed);
        }
        let raw = self.string()?;
        let quoted = raw.quoted;
        let listed = match raw_lists_failed_policies(&raw) {
            Some(listed) => listed,
            None => {
                self.i = start;
                let text = self.text()?.unwrap_or_default();
                std::str::from_utf8(&text).is_ok_and(lists_failed_policies)
            }
        };
        self.last_status = Some((quoted, listed));
        Ok(listed)
    }

    /// A time in seconds sent as a number or a numeric string; `None` for
    /// `null`, a list, an object or text that is no number.
    fn seconds(&mut self) -> Read<Option<f64>> {
        match self.next()? {
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.number()?;
                let text = &self.b[start..self.i];
                Ok(std::str::from_utf8(text).ok().and_then(seconds))
            }
            b'"' => {
                let text = self.text()?.unwrap_or_default();
                Ok(std::str::from_utf8(&text).ok().and_then(seconds))
            }
            _ => self.text().map(|_| None),
        }
    }
}

/// Where the plain run of a string's bytes that starts at `i` ends: the
/// first quote, backslash or control character, or the end of `b`.
/// Sixteen bytes are looked at in one vector compare (SSE2 on x86-64,
/// NEON on ARM), then eight at a time in a word (the test branch-free).
#[inline(always)]
fn plain_end(b: &[u8], mut i: usize) -> usize {
    use wide::u8x16;
    let (quote, backslash, below_space) =
        (u8x16::splat(b'"'), u8x16::splat(b'\\'), u8x16::splat(0x1f));
    while let Some(block) = b.get(i..i + 16) {
        let mut bytes = [0; 16];
        bytes.copy_from_slice(block);
        let v = u8x16::new(bytes);
        // A byte is a control character when the larger of it and 0x1f is
        // 0x1f.
        let special =
            v.simd_eq(quote) | v.simd_eq(backslash) | v.max(below_space).simd_eq(below_space);
        let found = special.to_bitmask();
        if found != 0 {
            return i + found.trailing_zeros() as usize;
        }
        i += 16;
    }
    const ONES: u64 = u64::MAX / 255;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let q = w ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let bs = w ^ (ONES * u64::from(b'\\'));
        let backslash = bs.wrapping_sub(ONES) & !bs;
        let found = (control | quote | backslash) & (ONES << 7);
        if found != 0 {
            return i + found.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    while b
        .get(i)
        .is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20)
    {
        i += 1;
    }
    i
}

/// Whether two slices of the same length hold the same bytes: those of
/// 8 to 32 bytes (the bytes before a record's value) in two overlapping
/// word compares rather than a call.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(s: &[u8], at: usize) -> [u8; N] {
        let mut w = [0; N];
        w.copy_from_slice(&s[at..at + N]);
        w
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        16..=32 => {
            word::<16>(a, 0) == word::<16>(b, 0) && word::<16>(a, n - 16) == word::<16>(b, n - 16)
        }
        8..=15 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        _ => a == b,
    }
}

/// Whether `s` is valid UTF-8: at once, eight bytes to a step, when it
/// is ASCII (the read fields mostly are), which short strings otherwise
/// pay a call for.
#[inline(always)]
fn utf8(s: &[u8]) -> bool {
    let mut high = 0;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut word = [0; 8];
        word.copy_from_slice(w);
        high |= u64::from_le_bytes(word);
    }
    for &b in words.remainder() {
        high |= u64::from(b);
    }
    high & 0x8080_8080_8080_8080 == 0 || std::str::from_utf8(s).is_ok()
}

/// The first byte at or after `i` that is not JSON white space.
#[inline(always)]
fn skip_white(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// Whether the string lists failed policies, read from its raw bytes;
/// `None` when only the decoded text can say (an escape other than `\n`,
/// `\r`, `\t` after the label, or the label not found in an escaped
/// string), or when it is not valid UTF-8.
fn raw_lists_failed_policies(raw: &Raw<'_>) -> Option<bool> {
    if !utf8(raw.content) {
        return None;
    }
    let label = FAILED_POLICIES.as_bytes();
    let Some(at) = find(raw.content, label) else {
        return if raw.escaped { None } else { Some(false) };
    };
    let rest = &raw.content[at + label.len()..];
    let mut i = 0;
    while let Some(&b) = rest.get(i) {
        match (b, rest.get(i + 1)) {
            (b' ', _) => i += 1,
            (b'\\', Some(b'n' | b'r')) => return Some(false),
            (b'\\', Some(b't')) => i += 2,
            (b'\\', _) => return None,
            _ => return Some(true),
        }
    }
    Some(false)
}

/// Where `needle` first stands in `hay`: each place of its first byte is
/// checked, so a status line of some 70 bytes costs about 70 compares.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The fields of a session record that are read. A record has two dozen
/// keys and a page two hundred records: a key is told by its length
/// first, then compared whole.
#[derive(Debug, Clone, Copy)]
enum RecordKey {
    SessionId,
    User,
    Realm,
    Node,
    Transport,
    ClientVersion,
    AuthServer,
    HcFailed,
    SecurityStatus,
    SignIn,
    Other,
}

impl RecordKey {
    #[inline(always)]
    fn of(key: &[u8]) -> Self {
        let is = |name: &[u8]| key == name;
        match key.len() {
            10 if is(b"session-id") => RecordKey::SessionId,
            10 if is(b"login-node") => RecordKey::Node,
            16 if is(b"active-user-name") => RecordKey::User,
            17 if is(b"hc-failed-reasons") => RecordKey::HcFailed,
            18 if is(b"sign-in-time-micro") => RecordKey::SignIn,
            20 if is(b"authentication-realm") => RecordKey::Realm,
            20 if is(b"pulse-client-version") => RecordKey::ClientVersion,
            24 if is(b"primary-auth-server-name") => RecordKey::AuthServer,
            24 if is(b"endpoint-security-status") => RecordKey::SecurityStatus,
            30 if is(b"network-connect-transport-mode") => RecordKey::Transport,
            _ => RecordKey::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record's fields as text, to compare.
    #[derive(Debug, Default, PartialEq)]
    struct Record {
        id: Option<String>,
        user: Option<String>,
        realm: Option<String>,
        node: Option<String>,
        transport: Option<String>,
        version: Option<String>,
        server: Option<String>,
        hc_failed: bool,
        policies_failed: bool,
        sign_in: Option<f64>,
    }

    fn text(field: &Option<Cow<'_, [u8]>>) -> Option<String> {
        field
            .as_deref()
            .map(|b| std::str::from_utf8(b).unwrap().to_owned())
    }

    fn read_all(body: &[u8]) -> Result<(Head, Vec<Record>), DecodeError> {
        let mut records = Vec::new();
        let head = read(body, |f| {
            records.push(Record {
                id: text(&f.session_id),
                user: text(&f.user),
                realm: text(&f.realm),
                node: text(&f.node),
                transport: text(&f.transport),
                version: text(&f.client_version),
                server: text(&f.auth_server),
                hc_failed: f.hc_failed,
                policies_failed: f.policies_failed,
                sign_in: f.sign_in,
            });
        })
        .map_err(|e| e.into_decode_error("/x", body))?;
        assert_eq!(head.records, records.len());
        Ok((head, records))
    }

    fn page(records: &str) -> String {
        format!(
            r#"{{"active-users": {{"active-user-records": {{"active-user-record": [{records}]}}, "total-matched-record-number": 1}}}}"#
        )
    }

    fn one(fields: &str) -> Record {
        let (_, mut records) = read_all(page(&format!("{{{fields}}}")).as_bytes()).unwrap();
        assert_eq!(records.len(), 1);
        records.remove(0)
    }

    fn id(id: &str) -> Record {
        Record {
            id: Some(id.to_owned()),
            ..Record::default()
        }
    }

    #[test]
    fn each_shape_of_a_record_reads_as_the_lenient_types_read_it() {
        let cases: [(&str, Record); 12] = [
            (
                r#""session-id": "a\u00e9\n\"b", "login-node": "n\/1", "x": {"y": [1, -2.5e+3, true, null, "\u12ab"]}"#,
                Record {
                    node: Some("n/1".into()),
                    ..id("aé\n\"b")
                },
            ),
            (
                r#""session-id": "s", "authentication-realm": null, "login-node": ["n"], "active-user-name": {"a": 1}"#,
                id("s"),
            ),
            // A key sent twice: the last value wins.
            (r#""session-id": "s", "session-id": "t""#, id("t")),
            ("", Record::default()),
            // Numbers and booleans as their text.
            (
                r#""session-id": 17, "active-user-name": -2.5, "login-node": true, "pulse-client-version": 1.0"#,
                Record {
                    user: Some("-2.5".into()),
                    node: Some("true".into()),
                    version: Some("1".into()),
                    ..id("17")
                },
            ),
            // An escaped key is the key it spells.
            (r#""session\u002did": "s""#, id("s")),
            (
                r#""session-id": "s", "sign-in-time-micro": "1699317427.743783""#,
                Record {
                    sign_in: Some(1_699_317_427.743_783),
                    ..id("s")
                },
            ),
            (
                r#""session-id": "s", "sign-in-time-micro": 1.5e3, "hc-failed-reasons": 0"#,
                Record {
                    sign_in: Some(1500.0),
                    hc_failed: true,
                    ..id("s")
                },
            ),
            (
                r#""session-id": "s", "sign-in-time-micro": " 12 ", "hc-failed-reasons": []"#,
                Record {
                    sign_in: Some(12.0),
                    ..id("s")
                },
            ),
            (
                r#""session-id": "s", "sign-in-time-micro": "soon", "hc-failed-reasons": [0]"#,
                Record {
                    hc_failed: true,
                    ..id("s")
                },
            ),
            (
                r#""session-id": "s", "hc-failed-reasons": "", "endpoint-security-status": 7"#,
                id("s"),
            ),
            (
                r#""session-id": "s", "hc-failed-reasons": {"a": null}, "endpoint-security-status": "Failed Policies: AV""#,
                Record {
                    hc_failed: true,
                    policies_failed: true,
                    ..id("s")
                },
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(one(fields), expected, "{fields}");
        }
    }

    #[test]
    fn records_read_alike_whatever_the_layout_of_the_one_before() {
        // The same keys, then more white space, another order, an escaped
        // key, a field more and a field less.
        let body = page(
            r#"{"session-id": "a", "login-node": "n1", "x": null},
               {"session-id": "b",  "login-node": "n2", "x": null},
               {"login-node": "n3", "session-id": "c", "x": "s"},
               {"login-node": "n4", "session\u002did": "d", "x": "s"},
               {"login-node": "n5", "session-id": "e", "x": "s", "active-user-name": "u"},
               {"login-node": "n6"}"#,
        );
        let (_, records) = read_all(body.as_bytes()).unwrap();
        let read: Vec<(Option<&str>, Option<&str>, Option<&str>)> = records
            .iter()
            .map(|r| (r.id.as_deref(), r.node.as_deref(), r.user.as_deref()))
            .collect();
        assert_eq!(
            read,
            [
                (Some("a"), Some("n1"), None),
                (Some("b"), Some("n2"), None),
                (Some("c"), Some("n3"), None),
                (Some("d"), Some("n4"), None),
                (Some("e"), Some("n5"), Some("u")),
                (None, Some("n6"), None),
            ]
        );
    }

    #[test]
    fn each_shape_of_a_listing_reads_as_the_lenient_types_read_it() {
        let head = |total, login_permitted, is_last, records| Head {
            total,
            login_permitted,
            is_last,
            records,
        };
        let cases = [
            (
                r#" {"x": [], "active-users": {"total-matched-record-number": "12", "user-login-permission": "yes", "is-last-record": 1, "active-user-records": {"active-user-record": null}}} "#,
                head(Num::Value(12.0), Flag::Value(true), Flag::Value(true), 0),
            ),
            (
                r#"{"active-users": {"active-user-records": null, "user-login-permission": null}}"#,
                head(Num::Missing, Flag::Missing, Flag::Missing, 0),
            ),
            (
                r#"{"active-users": {"active-user-records": {"other": 1, "active-user-record": {"session-id": "one"}}}}"#,
                head(Num::Missing, Flag::Missing, Flag::Missing, 1),
            ),
            (
                r#"{"active-users": {"active-user-records": {"active-user-record": []}, "total-matched-record-number": 0, "is-last-record": "no"}}"#,
                head(Num::Value(0.0), Flag::Missing, Flag::Value(false), 0),
            ),
            (
                r#"{"active-users": {"total-matched-record-number": {"n": 1}, "user-login-permission": "maybe"}}"#,
                head(
                    Num::Invalid("expected a number, got an object".into()),
                    Flag::Invalid("expected a boolean, got \"maybe\"".into()),
                    Flag::Missing,
                    0,
                ),
            ),
            (
                &format!(
                    r#"{{"active-users": {{"x": {}{}}}}}"#,
                    "[".repeat(120),
                    "]".repeat(120)
                ),
                Head::default(),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(read_all(body.as_bytes()).unwrap().0, expected, "{body}");
        }
    }

    #[test]
    fn a_bad_page_fails_with_the_path_and_place_of_the_problem() {
        let cases: [(&[u8], &str, &str); 19] = [
            // The second record's key is known from the first's.
            (
                br#"{"active-users": {"active-user-records": {"active-user-record": [{"session-id": "a"}, {"session-id": "\q"}]}}}"#,
                "active-users.active-user-records.active-user-record[1].session-id",
                "invalid JSON: invalid escape at line 1 column 104",
            ),
            (
                br#"{"active-users": {"active-user-records": {"active-user-record": [{"session-id": "a"}, {"session-id": "b" "x": 1}]}}}"#,
                "active-users.active-user-records.active-user-record[1]",
                "invalid JSON: expected `,` or `}` at line 1 column 106",
            ),
            (
                br#"{"active-users": {"active-user-records": {"active-user-record": [{}, 7]}}}"#,
                "active-users.active-user-records.active-user-record[1]",
                "expected an active-user-record object, got a number at line 1 column 70",
            ),
            (
                br#"{"active-users": {"active-user-records": {"active-user-record": "s"}}}"#,
                "active-users.active-user-records.active-user-record",
                "expected a list or a single object, got a string",
            ),
            (
                b"{\"active-users\": {\"active-user-records\": {\"active-user-record\": [{\n\"session-id\": \"\xff\"}]}}}",
                "active-users.active-user-records.active-user-record[0].session-id",
                "invalid UTF-8 in a string at line 2 column 15",
            ),
            (
                br#"{"active-users": {"active-user-records": {"active-user-record": [{"login-node": "\ud800"}]}}}"#,
                "active-users.active-user-records.active-user-record[0].login-node",
                "hex escape",
            ),
            (
                br#"{"active-users": {}, "active-users": {}}"#,
                "active-users",
                "duplicate field `active-users`",
            ),
            (
                br#"{"active-users": {"is-last-record": true, "is-last-record": false}}"#,
                "active-users.is-last-record",
                "duplicate field `is-last-record`",
            ),
            (br#"{"other": 1}"#, ".", "missing field `active-users`"),
            (
                br#"{"active-users": {}} x"#,
                ".",
                "invalid JSON: trailing characters after the page at line 1 column 22",
            ),
            (
                b"{\"active-users\": {\"x\": \"a\x01b\"}}",
                "active-users.x",
                "invalid JSON: control character in a string",
            ),
            (
                br#"{"active-users": {"active-user-records": {"active-user-record": [{"events": 1.}]}}}"#,
                "active-users.active-user-records.active-user-record[0].events",
                "invalid JSON: invalid number",
            ),
            (
                br#"{"active-users": {"x": 01}}"#,
                "active-users",
                "invalid JSON: expected `,` or `}`",
            ),
            (
                br#"{"active-users": {"x": "\q"}}"#,
                "active-users.x",
                "invalid JSON: invalid escape",
            ),
            (
                br#"[{"active-users": {}}]"#,
                ".",
                "expected an object, got a list at line 1 column 1",
            ),
            (br#"{"active-users": null}"#, "active-users", "expected an object, got null"),
            (b"", ".", "the body is empty"),
            (b"<html>", ".", "expected JSON, the body starts with \"<html>\""),
            (
                br#"{"active-users": {"active-user-records""#,
                "active-users",
                "invalid JSON: the body ends early at line 1 column 40",
            ),
        ];
        for (body, path, reason) in cases {
            let err = read_all(body).unwrap_err();
            assert_eq!(err.path, path, "{}", String::from_utf8_lossy(body));
            assert!(
                err.reason.contains(reason),
                "{}: {}",
                String::from_utf8_lossy(body),
                err.reason
            );
        }
        let deep = format!(
            r#"{{"active-users": {{"x": {}{}}}}}"#,
            "[".repeat(130),
            "]".repeat(130)
        );
        let err = read_all(deep.as_bytes()).unwrap_err();
        assert!(err.reason.contains("nesting deeper than 128"), "{err}");
    }

    /// Whether `body` is JSON, as serde_json reads any JSON.
    fn is_json(body: &[u8]) -> bool {
        serde_json::from_slice::<serde_json::Value>(body).is_ok()
    }

    #[test]
    fn cut_or_damaged_pages_are_read_only_when_they_are_json() {
        let page = crate::simulator::connect_secure::ACTIVE_USERS.as_bytes();
        let whole = read_all(page).unwrap();
        for end in 0..page.len() {
            match read_all(&page[..end]) {
                Ok(read) => {
                    // Only the trailing white space may go.
                    assert!(page[end..].iter().all(u8::is_ascii_whitespace));
                    assert_eq!(read.0, whole.0);
                }
                Err(e) => assert!(end == 0 || e.reason.contains("at line "), "{e}"),
            }
        }
        let small = crate::simulator::connect_secure::ACTIVE_USERS_BY_NAME.as_bytes();
        let mut damaged = small.to_vec();
        for at in 0..small.len() {
            for b in [
                b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'0', b'-', b'e', b' ', b'n',
                b'\t', b'\n', 0x01, 0x1f,
            ] {
                damaged[at] = b;
                let read = read_all(&damaged);
                // Never a body that is not JSON.
                if !is_json(&damaged) {
                    assert!(read.is_err(), "{}", String::from_utf8_lossy(&damaged));
                }
            }
            damaged[at] = small[at];
        }
    }

    #[test]
    fn strings_of_every_length_are_read_or_refused_by_their_bytes() {
        // The reader looks at sixteen bytes of a string at once, then
        // eight, then one: every length and every place of the byte that
        // ends the plain run, in a field read and in a field skipped.
        let specials: [(&[u8], &[u8]); 7] = [
            (b"", b""),
            (b"\\n", b"\n"),
            (b"\\\"", b"\""),
            (b"\xc3\xa9", "é".as_bytes()),
            (b"\x01", b""),
            (b"\t", b""),
            (b"\xff", b""),
        ];
        for len in 0..40 {
            for at in 0..=len {
                for (special, decoded) in specials {
                    let mut text = vec![b'x'; len];
                    text.splice(at..at, special.iter().copied());
                    for field in ["session-id", "agent-type"] {
                        let body = [
                            &br#"{"active-users": {"active-user-records": {"active-user-record": [{""#[..],
                            field.as_bytes(),
                            br#"": ""#,
                            &text,
                            br#"", "login-node": "n"}]}}}"#,
                        ]
                        .concat();
                        let control = special.first().is_some_and(|&b| b < 0x20);
                        // Read strings must be UTF-8; skipped ones are
                        // only scanned.
                        let bad_utf8 = special == b"\xff" && field == "session-id";
                        let read = read_all(&body);
                        assert_eq!(
                            read.is_ok(),
                            !control && !bad_utf8,
                            "{}",
                            String::from_utf8_lossy(&body)
                        );
                        if let Ok((_, records)) = read
                            && field == "session-id"
                        {
                            let mut expected = vec![b'x'; len];
                            expected.splice(at..at, decoded.iter().copied());
                            assert_eq!(
                                records[0].id.as_deref().map(str::as_bytes),
                                Some(&expected[..])
                            );
                            assert_eq!(records[0].node.as_deref(), Some("n"));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn failed_policies_are_read_alike_from_raw_and_decoded_text() {
        // JSON string contents, escapes as sent.
        for (status, failed) in [
            (
                r"Not Applicable\nPassed Policies: \nFailed Policies: \nEliminated Roles: ",
                false,
            ),
            (r"Failed Policies: AV\nEliminated Roles: ", true),
            (r"Failed Policies:\t \r\n", false),
            (r"Failed Policies: \u00e9", true),
            (r"Failed Policies: \\", true),
            (r"\u0046ailed Policies: x", true),
            (r"Passed Policies: AV", false),
            ("", false),
        ] {
            let record = one(&format!(
                r#""session-id": "s", "endpoint-security-status": "{status}""#
            ));
            assert_eq!(record.policies_failed, failed, "{status}");
        }
    }

    #[test]
    fn a_status_repeated_from_the_record_before_is_read_alike() {
        // Records in a row on one page, some repeating the status before
        // theirs, some differing from it only past its end or by an escape.
        let statuses = [
            (r"Failed Policies: AV\nEliminated Roles: ", true),
            (r"Failed Policies: AV\nEliminated Roles: ", true),
            (r"Failed Policies: \nEliminated Roles: ", false),
            (r"Failed Policies: \nEliminated Roles: ", false),
            (r"Failed Policies: \nEliminated Roles: \u0041", false),
            (r"Failed Policies: \nEliminated Roles: ", false),
            (r"Failed Policies: AV\nEliminated Roles: ", true),
            (r"Failed Policies: AV\\", true),
            (r#"Failed Policies: AV\\\""#, true),
            (r"Passed Policies: AV", false),
            (r"Failed Policies: ", false),
            (r"Failed Policies: X", true),
        ];
        let records: Vec<String> = statuses
            .iter()
            .enumerate()
            .map(|(i, (status, _))| {
                format!(r#"{{"session-id": "s{i}", "endpoint-security-status": "{status}"}}"#)
            })
            .collect();
        let (_, read) = read_all(page(&records.join(",")).as_bytes()).unwrap();
        let got: Vec<bool> = read.iter().map(|r| r.policies_failed).collect();
        let want: Vec<bool> = statuses.iter().map(|(_, failed)| *failed).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn seconds_are_read_exactly_as_str_parse_reads_them() {
        for text in [
            "1699317427.743783",
            "1699317427",
            "0.1",
            "9007199254740993",
            "123456789012345678901234",
            "1.00000000000000000000001",
            "0001.5",
            "1.",
            ".5",
            "-3",
            "1e3",
            " 7 ",
        ] {
            let parsed = text.trim().parse::<f64>().ok();
            assert_eq!(seconds(text), parsed, "{text}");
        }
        assert_eq!(seconds("1e400"), None);
        assert_eq!(seconds("x"), None);
    }
}
