//! The simulated gateway's active sessions: a table defined by a formula
//! (session `i` has user `i % users`, realm `i % realms`, node
//! `(i / realms) % nodes`, transport mode, client version and
//! authentication server `i % ` their counts, a failed host check every
//! `host_check_failures`-th session), rendered page by page on request in
//! the document's record shape, so tens of thousands cost no memory; or,
//! for benchmarks, rendered once at one page size and served from memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bytes::Bytes;

/// Which session `start` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartBase {
    /// `start=0` is the first session.
    Zero,
    /// `start=1` is the first session (`start=0` too, as the document's
    /// first request shows).
    One,
    /// A broken gateway: every page is the first.
    Ignored,
}

/// The sessions and how their listing is paged.
#[derive(Debug, Clone)]
pub struct Sessions {
    /// Number of sessions.
    pub count: usize,
    /// Distinct user names the sessions cycle through.
    pub users: usize,
    /// Authentication realms the sessions cycle through.
    pub realms: Vec<String>,
    /// Login nodes the sessions cycle through.
    pub nodes: Vec<String>,
    /// How `start` counts.
    pub start: StartBase,
    /// Whether pages carry `is-last-record` (the document's sample has none).
    pub is_last_record: bool,
    /// `user-login-permission`.
    pub login_permitted: bool,
    /// `total-matched-record-number` when it differs from `count`, as when
    /// sessions end while the listing is read.
    pub reported_total: Option<usize>,
    /// How sessions connect: `network-connect-transport-mode`,
    /// `pulse-client-version` and `primary-auth-server-name` cycled through
    /// (`None` sends `null`), and every how many sessions one failed its
    /// host check (0: none; odd ones say so in `hc-failed-reasons`, even
    /// ones in `endpoint-security-status`).
    pub connections: Connections,
}

/// How the simulated sessions connect.
#[derive(Debug, Clone)]
pub struct Connections {
    /// `network-connect-transport-mode` values, cycled through.
    pub transports: Vec<Option<String>>,
    /// `pulse-client-version` values, cycled through.
    pub client_versions: Vec<Option<String>>,
    /// `primary-auth-server-name` values, cycled through.
    pub auth_servers: Vec<Option<String>>,
    /// Every how many sessions one failed its host check (0: none).
    pub host_check_failures: usize,
}

impl Default for Connections {
    /// As in the document's sample: browser sessions without a tunnel or
    /// client, signed in against the local server.
    fn default() -> Self {
        Self {
            transports: vec![None],
            client_versions: vec![None],
            auth_servers: vec![Some("System Local".into())],
            host_check_failures: 0,
        }
    }
}

/// What a complete listing should count of how sessions connect.
#[derive(Debug, Default, PartialEq)]
pub struct ConnectionCounts {
    /// Sessions by transport mode as sent (`None` for `null`).
    pub by_transport: BTreeMap<Option<String>, u64>,
    /// Sessions by client version as sent.
    pub by_client_version: BTreeMap<Option<String>, u64>,
    /// Sessions by authentication server as sent.
    pub by_auth_server: BTreeMap<Option<String>, u64>,
    /// Sessions whose host check failed.
    pub host_check_failed: u64,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            count: 2,
            users: 2,
            realms: vec!["Users".into(), "Admin Users".into()],
            nodes: vec!["localhost2".into()],
            start: StartBase::Zero,
            is_last_record: true,
            login_permitted: true,
            reported_total: None,
            connections: Connections::default(),
        }
    }
}

/// The most sessions on one page, as on the gateway.
pub const PAGE_CAP: usize = 200;

/// Pre-escaped labels and the page renderer.
#[derive(Debug)]
pub struct SessionTable {
    /// The table's definition.
    sessions: Sessions,
    /// The realms as JSON strings, escaped once.
    realms: Vec<String>,
    /// The nodes as JSON strings, escaped once.
    nodes: Vec<String>,
    /// The transport modes as JSON values, escaped once.
    transports: Vec<String>,
    /// The client versions as JSON values, escaped once.
    client_versions: Vec<String>,
    /// The authentication servers as JSON values, escaped once.
    auth_servers: Vec<String>,
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Each value as JSON (`null` for `None`); `[null]` for none at all.
fn json_values(values: &[Option<String>]) -> Vec<String> {
    let out: Vec<String> = values
        .iter()
        .map(|v| v.as_deref().map_or_else(|| "null".to_owned(), json_string))
        .collect();
    if out.is_empty() {
        vec!["null".to_owned()]
    } else {
        out
    }
}

/// The value of session `i` among `values`, cycled through.
fn cycled<T>(values: &[T], i: usize) -> Option<&T> {
    values.get(i % values.len().max(1))
}

impl SessionTable {
    /// The table of `sessions`.
    pub fn new(mut sessions: Sessions) -> Self {
        if sessions.realms.is_empty() {
            sessions.realms.push("Users".into());
        }
        if sessions.nodes.is_empty() {
            sessions.nodes.push("localhost2".into());
        }
        sessions.users = sessions.users.max(1);
        let c = &sessions.connections;
        Self {
            realms: sessions.realms.iter().map(|r| json_string(r)).collect(),
            nodes: sessions.nodes.iter().map(|n| json_string(n)).collect(),
            transports: json_values(&c.transports),
            client_versions: json_values(&c.client_versions),
            auth_servers: json_values(&c.auth_servers),
            sessions,
        }
    }

    /// Whether session `i` failed its host check.
    fn host_check_failed(&self, i: usize) -> bool {
        let every = self.sessions.connections.host_check_failures;
        every > 0 && i % every == every - 1
    }

    /// How the sessions connect, as a complete listing should count it.
    pub fn connection_counts(&self) -> ConnectionCounts {
        let c = &self.sessions.connections;
        let mut out = ConnectionCounts::default();
        for i in 0..self.sessions.count {
            for (values, counts) in [
                (&c.transports, &mut out.by_transport),
                (&c.client_versions, &mut out.by_client_version),
                (&c.auth_servers, &mut out.by_auth_server),
            ] {
                *counts
                    .entry(cycled(values, i).cloned().flatten())
                    .or_default() += 1;
            }
            out.host_check_failed += u64::from(self.host_check_failed(i));
        }
        out
    }

    fn realm_of(&self, i: usize) -> usize {
        i % self.realms.len()
    }

    fn node_of(&self, i: usize) -> usize {
        (i / self.realms.len()) % self.nodes.len()
    }

    /// The sessions per (realm, node), as a complete listing should count them.
    pub fn by_realm_and_node(&self) -> BTreeMap<(String, String), u64> {
        let mut out = BTreeMap::new();
        for i in 0..self.sessions.count {
            let key = (
                self.sessions.realms[self.realm_of(i)].clone(),
                self.sessions.nodes[self.node_of(i)].clone(),
            );
            *out.entry(key).or_default() += 1;
        }
        out
    }

    /// Distinct user names among the sessions.
    pub fn distinct_users(&self) -> usize {
        self.sessions.users.min(self.sessions.count)
    }

    /// The body answering `number` and `start`. With `single_object`, a
    /// page of one record sends it as an object, not a list; with
    /// `string_numbers`, the counts are strings.
    pub fn page(
        &self,
        number: Option<usize>,
        start: Option<usize>,
        single_object: bool,
        string_numbers: bool,
    ) -> String {
        let number = number.unwrap_or(PAGE_CAP).min(PAGE_CAP);
        let start = start.unwrap_or(0);
        let first = match self.sessions.start {
            StartBase::Zero => start,
            StartBase::One => start.saturating_sub(1),
            StartBase::Ignored => 0,
        }
        .min(self.sessions.count);
        let end = first.saturating_add(number).min(self.sessions.count);
        let returned = end - first;
        let mut out = String::with_capacity(256 + returned * 1100);
        out.push_str(
            "{\n\"active-users\": {\n\"active-user-records\": {\n\"active-user-record\": ",
        );
        let as_object = single_object && returned == 1;
        if !as_object {
            out.push('[');
        }
        for i in first..end {
            if i > first {
                out.push(',');
            }
            self.record(&mut out, i);
        }
        if !as_object {
            out.push(']');
        }
        let quote = if string_numbers { "\"" } else { "" };
        let _ = write!(
            out,
            "\n}},\n\"total-matched-record-number\": {quote}{}{quote},\n\"total-returned-record-number\": {quote}{returned}{quote},\n\"user-login-permission\": {}",
            self.sessions.reported_total.unwrap_or(self.sessions.count),
            self.sessions.login_permitted
        );
        if self.sessions.is_last_record {
            let _ = write!(out, ",\n\"is-last-record\": {}", end == self.sessions.count);
        }
        out.push_str("\n}\n}\n");
        out
    }

    /// One record in the document's shape.
    fn record(&self, out: &mut String, i: usize) {
        let user = i % self.sessions.users;
        let realm = &self.realms[self.realm_of(i)];
        let node = &self.nodes[self.node_of(i)];
        let seconds = 1_699_317_427 + i;
        let null = "null".to_owned();
        let transport = cycled(&self.transports, i).unwrap_or(&null);
        let version = cycled(&self.client_versions, i).unwrap_or(&null);
        let server = cycled(&self.auth_servers, i).unwrap_or(&null);
        let failed = self.host_check_failed(i);
        let (hc_failed, failed_policies) = match (failed, i % 2 == 1) {
            (true, true) => ("\"Host Checker policy 'Antivirus' failed\"", ""),
            (true, false) => ("null", "Require-Antivirus"),
            (false, _) => ("null", ""),
        };
        let _ = write!(
            out,
            "\n{{\n\"active-secondary-user-name\": null,\n\"active-user-name\": \"user{user:05}\",\n\
             \"agent-type\": \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36\",\n\
             \"authentication-realm\": {realm},\n\"browser-id\": \"{i:032x}\",\n\"device-id\": null,\n\
             \"endpoint-security-status\": \"Not Applicable\\nPassed Policies: \\nFailed Policies: {failed_policies}\\nEliminated Roles: \",\n\
             \"events\": 0,\n\"hc-failed-reasons\": {hc_failed},\n\"login-node\": {node},\n\"mac-address\": null,\n\
             \"network-connect-ip\": null,\n\"network-connect-ipv6\": null,\n\"network-connect-transport-mode\": {transport},\n\
             \"ngp-session-id\": \"{i:010x}\",\n\"primary-auth-server-name\": {server},\n\
             \"primary-auth-server-type\": \"Local Authentication\",\n\"pulse-client-version\": {version},\n\
             \"secondary-auth-server-name\": null,\n\"secondary-auth-server-type\": null,\n\
             \"session-id\": \"sid{i:040x}00000000\",\n\"sign-in-time-micro\": \"{seconds}.743783\",\n\
             \"source-ip\": \"10.{}.{}.{}\",\n\"user-roles\": \"Users\",\n\"user-sign-in-time\": \"2023/11/07 06:07:09\"\n}}",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        );
    }
}

/// The pages of one page size, rendered once.
#[derive(Debug, Default)]
pub struct Prerendered {
    /// The `number` they answer (0: none rendered).
    page_size: usize,
    /// Page `k` answers `start = k * page_size`, for every `start` up to
    /// the number of sessions.
    pages: Vec<Bytes>,
}

impl Prerendered {
    /// Renders every page of `table` that a listing at `page_size` asks for,
    /// with the quirks of [`SessionTable::page`].
    pub fn new(
        table: &SessionTable,
        page_size: usize,
        single_object: bool,
        string_numbers: bool,
    ) -> Self {
        let page_size = page_size.max(1);
        let pages = (0..=table.sessions.count / page_size)
            .map(|k| {
                let body = table.page(
                    Some(page_size),
                    Some(k * page_size),
                    single_object,
                    string_numbers,
                );
                Bytes::from(body)
            })
            .collect();
        Self { page_size, pages }
    }

    /// The page answering `number` and `start`, if it was rendered.
    pub fn get(&self, number: Option<usize>, start: Option<usize>) -> Option<Bytes> {
        let start = start.unwrap_or(0);
        if self.pages.is_empty()
            || number != Some(self.page_size)
            || !start.is_multiple_of(self.page_size)
        {
            return None;
        }
        self.pages.get(start / self.page_size).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(count: usize, start: StartBase) -> SessionTable {
        SessionTable::new(Sessions {
            count,
            users: 3,
            realms: vec!["R\"1".into(), "R2".into()],
            nodes: vec!["n1".into(), "n2".into(), "n3".into()],
            start,
            is_last_record: true,
            login_permitted: true,
            reported_total: None,
            connections: Connections {
                transports: vec![Some("ESP".into()), Some("SSL".into()), None],
                client_versions: vec![Some("22.7.1".into()), None],
                auth_servers: vec![Some("AD \"Corp\"".into()), Some("RADIUS".into())],
                host_check_failures: 5,
            },
        })
    }

    fn ids(body: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let records = &v["active-users"]["active-user-records"]["active-user-record"];
        match records {
            serde_json::Value::Array(list) => list
                .iter()
                .map(|r| r["session-id"].as_str().unwrap().to_owned())
                .collect(),
            one => vec![one["session-id"].as_str().unwrap().to_owned()],
        }
    }

    #[test]
    fn pages_follow_the_start_convention() {
        let zero = table(5, StartBase::Zero);
        let one = table(5, StartBase::One);
        assert_eq!(
            ids(&zero.page(Some(2), Some(0), false, false)),
            ids(&one.page(Some(2), Some(1), false, false))
        );
        assert_eq!(
            ids(&zero.page(Some(2), Some(0), false, false)),
            ids(&one.page(Some(2), Some(0), false, false))
        );
        let z2 = ids(&zero.page(Some(2), Some(2), false, false));
        let o2 = ids(&one.page(Some(2), Some(2), false, false));
        assert_eq!(z2[0], o2[1], "a 1-based page starts one session earlier");
        assert!(ids(&zero.page(Some(2), Some(9), false, false)).is_empty());
    }

    #[test]
    fn page_quirks_and_end_marker() {
        let t = table(3, StartBase::Zero);
        let last = t.page(Some(2), Some(2), true, true);
        let v: serde_json::Value = serde_json::from_str(&last).unwrap();
        assert!(
            v["active-users"]["active-user-records"]["active-user-record"].is_object(),
            "{last}"
        );
        assert_eq!(v["active-users"]["total-matched-record-number"], "3");
        assert_eq!(v["active-users"]["is-last-record"], true);
        let v: serde_json::Value =
            serde_json::from_str(&t.page(Some(2), Some(0), true, false)).unwrap();
        assert_eq!(v["active-users"]["is-last-record"], false);
        assert_eq!(v["active-users"]["total-returned-record-number"], 2);
        assert_eq!(
            v["active-users"]["active-user-records"]["active-user-record"][0]["authentication-realm"],
            "R\"1"
        );
    }

    #[test]
    fn the_gateway_caps_a_page_at_200() {
        let t = table(450, StartBase::Zero);
        assert_eq!(ids(&t.page(Some(1000), Some(0), false, false)).len(), 200);
        assert_eq!(ids(&t.page(None, Some(400), false, false)).len(), 50);
    }

    #[test]
    fn prerendered_pages_are_the_rendered_ones() {
        let t = table(450, StartBase::One);
        let p = Prerendered::new(&t, 200, true, true);
        for start in [0, 200, 400] {
            let cached = p.get(Some(200), Some(start)).unwrap();
            assert_eq!(
                cached,
                t.page(Some(200), Some(start), true, true).as_bytes()
            );
        }
        assert!(p.get(Some(200), Some(600)).is_none(), "past the end");
        assert!(p.get(Some(200), Some(201)).is_none(), "not a multiple");
        assert!(p.get(Some(100), Some(0)).is_none(), "another page size");
        assert!(p.get(None, Some(0)).is_none());
        assert!(Prerendered::default().get(Some(200), Some(0)).is_none());
    }

    #[test]
    fn connection_counts_are_what_the_pages_say() {
        let t = table(403, StartBase::Zero);
        let mut seen = ConnectionCounts::default();
        for start in [0, 200, 400] {
            let page: serde_json::Value =
                serde_json::from_str(&t.page(Some(200), Some(start), false, false)).unwrap();
            let records = page["active-users"]["active-user-records"]["active-user-record"]
                .as_array()
                .unwrap()
                .clone();
            for r in records {
                let text = |k: &str| r[k].as_str().map(str::to_owned);
                *seen
                    .by_transport
                    .entry(text("network-connect-transport-mode"))
                    .or_default() += 1;
                *seen
                    .by_client_version
                    .entry(text("pulse-client-version"))
                    .or_default() += 1;
                *seen
                    .by_auth_server
                    .entry(text("primary-auth-server-name"))
                    .or_default() += 1;
                let status = text("endpoint-security-status").unwrap();
                let failed = !r["hc-failed-reasons"].is_null()
                    || !status.contains("Failed Policies: \nEliminated");
                seen.host_check_failed += u64::from(failed);
            }
        }
        let expected = t.connection_counts();
        assert_eq!(seen, expected);
        assert_eq!(expected.host_check_failed, 80);
        assert_eq!(expected.by_transport[&Some("ESP".to_owned())], 135);
        assert_eq!(expected.by_client_version[&None], 201);
    }

    #[test]
    fn expected_counts_add_up() {
        let t = table(1234, StartBase::One);
        assert_eq!(t.by_realm_and_node().values().sum::<u64>(), 1234);
        assert_eq!(t.by_realm_and_node().len(), 6);
        assert_eq!(t.distinct_users(), 3);
    }
}
