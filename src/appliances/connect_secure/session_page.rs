//! The fast reader of an active-users page: one pass over the bytes that
//! validates the JSON, reads only the listing fields and the ten fields of
//! each session record that are counted, and skips the others without
//! building anything. A page of 200 sessions is some 200 KiB, a gateway of
//! 100,000 sessions 500 pages, so this is where a scrape spends its CPU.
//!
//! It declines (returns `None`) anything but a well-formed page of the
//! usual shape: the caller then reads the page with serde, whose lenient
//! types give the same answer on every page this reader accepts, and whose
//! errors say where a bad page goes wrong.

use std::borrow::Cow;

use crate::json::{Flag, Num};

/// Containers nested deeper than this are left to serde (which limits
/// recursion itself).
const MAX_DEPTH: usize = 100;

/// The fields of one session record that the listing counts; `None` when
/// absent, `null`, or a list or object. The two that are only told apart
/// are the bytes of their text (checked as UTF-8 only when not ASCII).
#[derive(Debug, Default)]
pub struct Fields<'a> {
    /// `session-id`.
    pub session_id: Option<Cow<'a, [u8]>>,
    /// `active-user-name`.
    pub user: Option<Cow<'a, [u8]>>,
    /// `authentication-realm`.
    pub realm: Option<Cow<'a, str>>,
    /// `login-node`.
    pub node: Option<Cow<'a, str>>,
    /// `network-connect-transport-mode`, as sent.
    pub transport: Option<Cow<'a, [u8]>>,
    /// `pulse-client-version`.
    pub client_version: Option<Cow<'a, str>>,
    /// `primary-auth-server-name`.
    pub auth_server: Option<Cow<'a, str>>,
    /// `hc-failed-reasons` holds something (not `null`, `false`, `""`,
    /// `[]` or `{}`).
    pub hc_failed: bool,
    /// `endpoint-security-status` lists failed policies.
    pub policies_failed: bool,
    /// `sign-in-time-micro` (seconds, as a number or numeric string).
    pub sign_in: Option<f64>,
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
    text.trim().parse::<f64>().ok().filter(|s| s.is_finite())
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

/// The fields of the listing itself.
#[derive(Debug, Default)]
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

/// Reads `body`, handing each session record to `record` in page order.
/// `None` when the body is not a well-formed page of the usual shape (the
/// records handed over so far are then to be discarded).
pub fn read<'a>(body: &'a [u8], mut record: impl FnMut(Fields<'a>)) -> Option<Head> {
    let mut s = Scanner { b: body, i: 0 };
    let mut head = None;
    s.checked_object(|s, key| {
        if key == b"active-users" {
            if head.is_some() {
                return None; // a duplicate: serde's to report
            }
            head = Some(s.listing(&mut record)?);
            Some(())
        } else {
            s.skip_value(0)
        }
    })?;
    s.ws();
    if s.i != body.len() {
        return None;
    }
    head
}

/// A position in the body.
struct Scanner<'a> {
    /// The body.
    b: &'a [u8],
    /// The next byte to read.
    i: usize,
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

impl<'a> Raw<'a> {
    /// The string's text (checked UTF-8, escapes decoded).
    fn text(&self) -> Option<Cow<'a, str>> {
        if self.escaped {
            serde_json::from_slice::<String>(self.quoted)
                .ok()
                .map(Cow::Owned)
        } else {
            std::str::from_utf8(self.content).ok().map(Cow::Borrowed)
        }
    }

    /// Whether the string is an `endpoint-security-status` that lists failed
    /// policies, as [`lists_failed_policies`] tells
    /// it of the decoded text; decoded only when the raw bytes cannot say.
    fn lists_failed_policies(&self) -> Option<bool> {
        // Read fields are valid UTF-8, as serde requires of them.
        if !self.content.is_ascii() {
            std::str::from_utf8(self.content).ok()?;
        }
        let label = FAILED_POLICIES.as_bytes();
        let at = find(self.content, label);
        let Some(at) = at else {
            return if self.escaped {
                self.text().map(|t| lists_failed_policies(&t))
            } else {
                Some(false)
            };
        };
        let rest = &self.content[at + label.len()..];
        let mut i = 0;
        while let Some(&b) = rest.get(i) {
            match (b, rest.get(i + 1)) {
                (b' ', _) => i += 1,
                (b'\\', Some(b'n' | b'r')) => return Some(false),
                (b'\\', Some(b't')) => i += 2,
                (b'\\', _) => {
                    return self.text().map(|t| lists_failed_policies(&t));
                }
                _ => return Some(true),
            }
        }
        Some(false)
    }

    /// The bytes of the string's text, as [`Raw::text`] would give them.
    fn text_bytes(&self) -> Option<Cow<'a, [u8]>> {
        if !self.escaped && self.content.is_ascii() {
            return Some(Cow::Borrowed(self.content));
        }
        Some(match self.text()? {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        })
    }
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        self.peek();
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

    /// Consumes `c` after whitespace.
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Reads the members of an object, calling `member` with each key; it
    /// must consume the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            if key.escaped {
                return None; // a key is compared as it stands
            }
            self.eat(b':')?;
            member(self, key.content)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Reads an object whose keys serde checks as UTF-8.
    fn checked_object(
        &mut self,
        mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.object(|s, key| {
            std::str::from_utf8(key).ok()?;
            member(s, key)
        })
    }

    /// Reads the string at the opening quote.
    #[inline(always)]
    fn string(&mut self) -> Option<Raw<'a>> {
        let open = self.i;
        self.i += 1;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Raw {
                        content: &self.b[open + 1..self.i - 1],
                        quoted: &self.b[open..self.i],
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return None, // a control character
            }
        }
    }

    /// Moves past bytes that neither end a string nor start an escape:
    /// sixteen at a time in one vector compare (SSE2 on x86-64, NEON on
    /// ARM), then eight at a time in a word (the test branch-free).
    #[inline(always)]
    fn skip_plain(&mut self) {
        use wide::u8x16;
        let (quote, backslash, below_space) =
            (u8x16::splat(b'"'), u8x16::splat(b'\\'), u8x16::splat(0x1f));
        while let Some(block) = self.b.get(self.i..self.i + 16) {
            let mut bytes = [0; 16];
            bytes.copy_from_slice(block);
            let v = u8x16::new(bytes);
            // A byte is a control character when the larger of it and
            // 0x1f is 0x1f.
            let special =
                v.simd_eq(quote) | v.simd_eq(backslash) | v.max(below_space).simd_eq(below_space);
            let found = special.to_bitmask();
            if found != 0 {
                self.i += found.trailing_zeros() as usize;
                return;
            }
            self.i += 16;
        }
        const ONES: u64 = u64::MAX / 255;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
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
                self.i += found.trailing_zeros() as usize / 8;
                return;
            }
            self.i += 8;
        }
        while self
            .b
            .get(self.i)
            .is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20)
        {
            self.i += 1;
        }
    }

    /// Checks the escape at the backslash and moves past it.
    fn escape(&mut self) -> Option<()> {
        match *self.b.get(self.i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
            b'u' => {
                let hex = self.b.get(self.i + 2..self.i + 6)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                self.i += 6;
            }
            _ => return None,
        }
        Some(())
    }

    /// Skips any value, checking that it is well-formed.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(|s, _| s.skip_value(depth + 1)),
            b'[' => self.array(|s| s.skip_value(depth + 1)),
            _ => self.scalar().map(drop),
        }
    }

    /// Skips the value of a field of a session record: most are strings or
    /// `null`, which are skipped here without a call.
    #[inline(always)]
    fn skip_field(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'n' => self.literal(b"null").map(drop),
            _ => self.skip_value(0),
        }
    }

    /// Reads the elements of a list, calling `element` for each; it must
    /// consume the element.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Reads a string, number, `true`, `false` or `null`; returns its bytes
    /// as they stand. `None` for a list or object.
    fn scalar(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        match self.peek()? {
            b'"' => self.string().map(|raw| raw.quoted),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Some(&self.b[start..self.i])
            }
            _ => None,
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Option<&'a [u8]> {
        let start = self.i;
        (self.b.get(self.i..self.i + word.len())? == word).then(|| {
            self.i += word.len();
            &self.b[start..self.i]
        })
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.b.get(s.i).is_some_and(u8::is_ascii_digit) {
                s.i += 1;
            }
            (s.i > from).then_some(())
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => digits(self)?,
            _ => return None,
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
        Some(())
    }

    /// A scalar read with the lenient type `T`; `None` for a list or object.
    fn lenient<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        serde_json::from_slice(self.scalar()?).ok()
    }

    /// `active-users`.
    fn listing(&mut self, record: &mut impl FnMut(Fields<'a>)) -> Option<Head> {
        let mut head = Head::default();
        let mut seen = [false; 4];
        let mut first = |i: usize| !std::mem::replace(&mut seen[i], true);
        self.checked_object(|s, key| match key {
            b"active-user-records" if first(0) => {
                if s.peek()? == b'n' {
                    s.literal(b"null").map(drop)
                } else {
                    s.records(&mut head.records, record)
                }
            }
            b"total-matched-record-number" if first(1) => {
                head.total = s.lenient()?;
                Some(())
            }
            b"user-login-permission" if first(2) => {
                head.login_permitted = s.lenient()?;
                Some(())
            }
            b"is-last-record" if first(3) => {
                head.is_last = s.lenient()?;
                Some(())
            }
            b"active-user-records"
            | b"total-matched-record-number"
            | b"user-login-permission"
            | b"is-last-record" => None, // a duplicate
            _ => s.skip_value(0),
        })?;
        Some(head)
    }

    /// `active-user-records`: its `active-user-record` list (or single
    /// object, or `null`).
    fn records(&mut self, count: &mut usize, record: &mut impl FnMut(Fields<'a>)) -> Option<()> {
        let mut seen = false;
        self.checked_object(|s, key| {
            if key != b"active-user-record" {
                return s.skip_value(0);
            }
            if std::mem::replace(&mut seen, true) {
                return None;
            }
            let mut one = |s: &mut Self| {
                record(s.record()?);
                *count += 1;
                Some(())
            };
            match s.peek()? {
                b'[' => s.array(|s| if s.peek()? == b'{' { one(s) } else { None }),
                b'{' => one(s),
                b'n' => s.literal(b"null").map(drop),
                _ => None,
            }
        })
    }

    /// One session record.
    fn record(&mut self) -> Option<Fields<'a>> {
        let mut fields = Fields::default();
        self.object(|s, key| {
            match key {
                b"session-id" => fields.session_id = s.field(Raw::text_bytes)?,
                b"active-user-name" => fields.user = s.field(Raw::text_bytes)?,
                b"authentication-realm" => fields.realm = s.field(Raw::text)?,
                b"login-node" => fields.node = s.field(Raw::text)?,
                b"network-connect-transport-mode" => {
                    fields.transport = s.field(Raw::text_bytes)?;
                }
                b"pulse-client-version" => fields.client_version = s.field(Raw::text)?,
                b"primary-auth-server-name" => fields.auth_server = s.field(Raw::text)?,
                b"hc-failed-reasons" => fields.hc_failed = s.holds_something()?,
                b"endpoint-security-status" => {
                    fields.policies_failed = s.field(Raw::lists_failed_policies)?.unwrap_or(false);
                }
                b"sign-in-time-micro" => fields.sign_in = s.seconds()?,
                _ => s.skip_field()?,
            }
            Some(())
        })?;
        Some(fields)
    }

    /// Whether a value holds something, as [`crate::json::Presence`]
    /// tells it: not `null`, `false`, `""`, `[]` or `{}`.
    fn holds_something(&mut self) -> Option<bool> {
        match self.peek()? {
            b'"' => Some(!self.string()?.content.is_empty()),
            b'n' => self.literal(b"null").map(|_| false),
            b'f' => self.literal(b"false").map(|_| false),
            b't' => self.literal(b"true").map(|_| true),
            open @ (b'[' | b'{') => {
                let close = if open == b'[' { b']' } else { b'}' };
                let empty = {
                    let mut ahead = Scanner {
                        b: self.b,
                        i: self.i + 1,
                    };
                    ahead.peek() == Some(close)
                };
                self.skip_value(0)?;
                Some(!empty)
            }
            _ => self.number().map(|()| true),
        }
    }

    /// A time in seconds sent as a number or a numeric string; `Some(None)`
    /// for `null`, a list, an object or text that is no number.
    fn seconds(&mut self) -> Option<Option<f64>> {
        match self.peek()? {
            b'"' => {
                let raw = self.string()?;
                let text = if raw.escaped {
                    raw.text()?
                } else {
                    Cow::Borrowed(std::str::from_utf8(raw.content).ok()?)
                };
                Some(seconds(&text))
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.number()?;
                let text = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                Some(seconds(text))
            }
            b'n' => self.literal(b"null").map(|_| None),
            b'{' | b'[' => self.skip_value(0).map(|()| None),
            _ => self.skip_field().map(|()| None),
        }
    }

    /// The value of a field that is read: `Some(None)` for `null` or a
    /// list or object, `None` for what serde is to spell.
    fn field<T>(&mut self, read: impl FnOnce(&Raw<'a>) -> Option<T>) -> Option<Option<T>> {
        match self.peek()? {
            b'"' => Some(Some(read(&self.string()?)?)),
            b'n' => self.literal(b"null").map(|_| None),
            b'{' | b'[' => self.skip_value(0).map(|()| None),
            // A number or boolean as text: serde's to spell.
            _ => None,
        }
    }
}
