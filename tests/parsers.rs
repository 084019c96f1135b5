//! Property tests on every response parser: arbitrary bytes, arbitrary
//! JSON, and the vendors' document samples mutated (bytes deleted,
//! replaced, duplicated; values swapped for another JSON type). Whatever
//! arrives, decoding and encoding never panic, the exposition still
//! renders, and memory used stays linear in the size of the body.
//!
//! A counting allocator measures the peak of live bytes on the test's
//! thread while one body is parsed. A new family's parser joins by adding
//! a row to `PARSERS`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use appliance_exporter::appliances::connect_secure::options::LeasesOptions;
use appliance_exporter::appliances::connect_secure::{
    active_users, cluster, esap, healthcheck, leases, named_users, system,
};
use appliance_exporter::appliances::enterprise_recon::options::LicensesOptions;
use appliance_exporter::appliances::enterprise_recon::{licenses, risk};
use appliance_exporter::appliances::sectona::entitlements;
use appliance_exporter::appliances::sectona::options::{EntitlementQuery, EntitlementType};
use appliance_exporter::exposition::{Format, Samples, render_samples};
use appliance_exporter::json;
use appliance_exporter::simulator::{connect_secure as ics, enterprise_recon as er2, sectona};
use appliance_exporter::upstream::Reply;
use proptest::prelude::*;
use serde_json::Value;

/// Live bytes and their peak, per thread.
struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    // `try_with`: the thread may be shutting down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn note_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: same layout, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        // SAFETY: allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_free(layout.size());
        note_alloc(new_size);
        // SAFETY: as for `alloc` / `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The peak of live bytes above the level at the start, while `f` runs.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    f();
    PEAK.with(Cell::get).saturating_sub(base)
}

/// Bytes of memory a body of `len` bytes may take to parse and encode: a
/// fixed allowance plus a constant factor. The densest body, a list of
/// empty objects (three bytes each), becomes a list of structs plus a
/// warning per row: about 92 times its size when measured.
fn allowance(len: usize) -> usize {
    1024 * 1024 + 256 * len
}

/// A response parser: decode (lenient types, serde path in errors), encode
/// the snapshot, render it. It must never panic; it says whether the body
/// decoded, and renders what it could either way.
type Parser = fn(&[u8]) -> Decoded;

/// When the body decoded and encoded without a warning, how many sample
/// lines it gave; else why not.
type Decoded = Result<usize, String>;

/// Renders the samples; `Err` with their warnings when there are any.
fn render(samples: Samples) -> Decoded {
    let warnings: Vec<String> = samples.warnings.iter().map(ToString::to_string).collect();
    let text = render_samples(Some("t"), samples, Format::Text004).expect("the exposition renders");
    match warnings.is_empty() {
        true => Ok(text.lines().filter(|l| !l.starts_with('#')).count()),
        false => Err(warnings.join("; ")),
    }
}

fn decoded<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, String> {
    result.map_err(|e| e.to_string())
}

/// Decodes `body` as `T` and renders what `encode` makes of it.
fn decode_and_render<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    body: &[u8],
    encode: impl FnOnce(T) -> Samples,
) -> Decoded {
    render(encode(decoded(json::decode::<T>(endpoint, body))?))
}

fn er2_licenses(body: &[u8]) -> Decoded {
    decode_and_render(licenses::ENDPOINT, body, |l: licenses::Licenses| {
        if let json::Text::Value(w) = &l.warning {
            let _ = licenses::parse_pending(w);
        }
        licenses::encode(&l, &LicensesOptions { per_location: true })
    })
}

/// One of the three risk lists, alone.
fn risk(
    levels: risk::Part<risk::Level>,
    profiles: risk::Part<risk::Profile>,
    rules: risk::Part<risk::Rule>,
) -> Samples {
    risk::encode(&risk::Risk::Available {
        levels,
        profiles,
        rules,
    })
}

/// An empty risk list.
fn none<T>() -> risk::Part<T> {
    risk::Part::Read(Vec::new())
}

fn er2_risk_levels(body: &[u8]) -> Decoded {
    // The PRO-edition check reads the same answers.
    let reply = Reply {
        endpoint: risk::LEVELS,
        status: reqwest::StatusCode::FORBIDDEN,
        body: bytes::Bytes::copy_from_slice(body),
    };
    let _ = risk::is_pro_required(&reply);
    decode_and_render(risk::LEVELS, body, |l: json::OneOrMany<risk::Level>| {
        risk(risk::Part::Read(l.0), none(), none())
    })
}

fn er2_risk_profiles(body: &[u8]) -> Decoded {
    decode_and_render(risk::PROFILES, body, |p: json::OneOrMany<risk::Profile>| {
        risk(none(), risk::Part::Read(p.0), none())
    })
}

fn er2_risk_rules(body: &[u8]) -> Decoded {
    // A body that is no list stands in for the 403 message.
    let denied = String::from_utf8_lossy(body).into_owned();
    let _ = render(risk(none(), none(), risk::Part::Denied(denied)));
    decode_and_render(risk::RULES, body, |r: json::OneOrMany<risk::Rule>| {
        risk(none(), none(), risk::Part::Read(r.0))
    })
}

fn ics_healthcheck(body: &[u8]) -> Decoded {
    decode_and_render(healthcheck::ENDPOINT, body, |h| healthcheck::encode(&h))
}

fn ics_cluster(body: &[u8]) -> Decoded {
    decode_and_render(cluster::ENDPOINT, body, |c| {
        cluster::encode(&cluster::Cluster::Clustered(c))
    })
}

fn ics_active_users(body: &[u8]) -> Decoded {
    // Two pages of the same body: the second deduplicates against the first.
    let mut a = active_users::ActiveUsers::default();
    let first = decoded(a.absorb(body));
    let second = decoded(a.absorb(body));
    let rendered = render(active_users::encode(&a, 3));
    first.and(second).and(rendered)
}

fn ics_leases(body: &[u8]) -> Decoded {
    let options = LeasesOptions {
        capacity: [("Concurrent Users".to_owned(), 100)].into(),
    };
    decode_and_render(leases::ENDPOINT, body, |l| leases::encode(&l, &options))
}

fn ics_system(body: &[u8]) -> Decoded {
    decode_and_render(system::ENDPOINT, body, |i| system::encode(&i))
}

fn ics_named_users(body: &[u8]) -> Decoded {
    decode_and_render(named_users::ENDPOINT, body, |n| named_users::encode(&n))
}

fn ics_esap(body: &[u8]) -> Decoded {
    decode_and_render(esap::ENDPOINT, body, |e| esap::encode(&e))
}

fn sectona_entitlements(body: &[u8]) -> Decoded {
    let query = EntitlementQuery {
        name: "q".into(),
        entitlement_type: EntitlementType::User,
        asset_type: None,
        asset_host: None,
        db_instance: None,
        account_name: None,
        account_type: None,
        username: Some("alice".into()),
        authentication_type: Some("AD".into()),
        directory_store: Some("corp".into()),
    };
    let mut results = Vec::new();
    for status in [reqwest::StatusCode::OK, reqwest::StatusCode::BAD_REQUEST] {
        let (version, outcome) = entitlements::interpret(Reply {
            endpoint: entitlements::ENDPOINT,
            status,
            body: bytes::Bytes::copy_from_slice(body),
        });
        results.push(entitlements::QueryResult {
            query: &query,
            version,
            outcome,
        });
    }
    for r in &results {
        let _ = entitlements::failure(r);
    }
    // The answer with status 200 is the one that must decode.
    let ok = match &results[0].outcome {
        entitlements::Outcome::Entitlements(_) => Ok(()),
        entitlements::Outcome::ApiError { code, .. } => Err(format!("API error {code}")),
        entitlements::Outcome::Failed(e) => Err(e.to_string()),
    };
    ok.and(render(entitlements::encode(&entitlements::Snapshot {
        results,
    })))
}

fn error_bodies(body: &[u8]) -> Decoded {
    // The message goes into a log line: it is clipped to 300 characters.
    let m = json::error_message(body).ok_or("no error message")?;
    assert!(m.chars().count() <= 301, "an unclipped error message: {m}");
    // One message, as one line.
    Ok(1)
}

/// Every parser with the document samples it is fed mutated.
const PARSERS: &[(&str, Parser, &[&str])] = &[
    (
        "er2 licenses",
        er2_licenses,
        &[
            er2::LICENSES_LEGACY,
            er2::LICENSES_SITEWIDE,
            er2::LICENSES_NON_SITEWIDE,
        ],
    ),
    ("er2 risk levels", er2_risk_levels, &[er2::RISK_LEVELS]),
    (
        "er2 risk profiles",
        er2_risk_profiles,
        &[er2::RISK_PROFILES],
    ),
    ("er2 risk rules", er2_risk_rules, &[er2::DATATYPE_RULES]),
    (
        "ics healthcheck",
        ics_healthcheck,
        &[
            ics::HEALTHCHECK,
            ics::HEALTHCHECK_STATUS_ALL,
            ics::HEALTHCHECK_SBR,
        ],
    ),
    (
        "ics cluster",
        ics_cluster,
        &[ics::CLUSTER_ACTIVE_ACTIVE, ics::CLUSTER_ACTIVE_PASSIVE],
    ),
    (
        "ics active users",
        ics_active_users,
        &[ics::ACTIVE_USERS, ics::ACTIVE_USERS_BY_NAME],
    ),
    ("ics leases", ics_leases, &[ics::LEASES]),
    (
        "ics system",
        ics_system,
        &[ics::SYSTEM_INFORMATION, ics::SYSTEM_INFORMATION_MACHINE_ID],
    ),
    (
        "ics named users",
        ics_named_users,
        &[
            ics::NAMED_USERS_INDEPENDENT,
            ics::NAMED_USERS_LICENSE_SERVER,
        ],
    ),
    ("ics esap", ics_esap, &[ics::ESAPS]),
    (
        "sectona entitlements",
        sectona_entitlements,
        &[sectona::GET_ENTITLEMENT_SAMPLE],
    ),
    (
        "error bodies",
        error_bodies,
        &[er2::PRO_EDITION_REQUIRED, er2::ACCESS_DENIED],
    ),
];

fn check_all(body: &[u8]) {
    for (name, parse, _) in PARSERS {
        let peak = peak_during(|| {
            let _ = parse(body);
        });
        assert!(
            peak <= allowance(body.len()),
            "{name}: {peak} bytes to parse a body of {}",
            body.len()
        );
    }
}

/// One edit of a document.
#[derive(Debug, Clone)]
enum Mutation {
    Delete {
        at: usize,
        len: usize,
    },
    Replace {
        at: usize,
        byte: u8,
    },
    Duplicate {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    /// Replaces the n-th JSON value of the document with another type.
    SwapType {
        node: usize,
        with: u8,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        (any::<usize>(), 1..256usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (
            any::<usize>(),
            prop::sample::select(vec![
                b"[".to_vec(),
                b"{".to_vec(),
                b"\"".to_vec(),
                b",".to_vec(),
                b"null".to_vec(),
                b"1e400".to_vec(),
                b"-0".to_vec(),
                b"\\u0000".to_vec(),
                b"\xff\xfe".to_vec(),
                b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".to_vec(),
            ])
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), any::<u8>()).prop_map(|(node, with)| Mutation::SwapType { node, with }),
    ]
}

fn apply(doc: &mut Vec<u8>, m: &Mutation) {
    let len = doc.len().max(1);
    match m {
        Mutation::Delete { at, len: n } => {
            let at = at % len;
            let end = (at + n).min(doc.len());
            doc.drain(at.min(doc.len())..end);
        }
        Mutation::Replace { at, byte } => {
            if !doc.is_empty() {
                let at = at % doc.len();
                doc[at] = *byte;
            }
        }
        Mutation::Duplicate { at, len: n } => {
            let at = at % len;
            let end = (at + n).min(doc.len());
            let copy: Vec<u8> = doc[at.min(doc.len())..end].to_vec();
            let at = at.min(doc.len());
            doc.splice(at..at, copy);
        }
        Mutation::Insert { at, bytes } => {
            let at = at % (doc.len() + 1);
            doc.splice(at..at, bytes.iter().copied());
        }
        Mutation::SwapType { node, with } => {
            if let Ok(mut value) = serde_json::from_slice::<Value>(doc) {
                let count = count_nodes(&value);
                swap_nth(&mut value, node % count.max(1), *with);
                *doc = serde_json::to_vec(&value).unwrap_or_default();
            }
        }
    }
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Replaces the n-th node (pre-order) with a value of another type.
fn swap_nth(v: &mut Value, mut n: usize, with: u8) -> usize {
    if n == 0 {
        let old = std::mem::take(v);
        *v = match with % 7 {
            0 => Value::Null,
            1 => Value::Bool(with.is_multiple_of(2)),
            2 => Value::from(-1.5e300),
            3 => Value::String(old.to_string()),
            4 => Value::Array(vec![old]),
            5 => serde_json::json!({ "value": old }),
            _ => Value::String(String::new()),
        };
        return usize::MAX;
    }
    n -= 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return n,
    };
    for child in children {
        n = swap_nth(child, n, with);
        if n == usize::MAX {
            return n;
        }
    }
    n
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9 ,.]{0,40}".prop_map(Value::String),
        Just(Value::String("12345".into())),
        Just(Value::String(
            "1 bytes of scanned data from 2 scans pending processing".into()
        )),
    ];
    leaf.prop_recursive(6, 256, 12, |inner| {
        let keys = prop::sample::select(vec![
            "state",
            "expires",
            "edition",
            "company",
            "targets",
            "summary",
            "datausage",
            "warning",
            "type",
            "comment",
            "total",
            "usage",
            "location",
            "bytes",
            "attribution",
            "level_id",
            "label",
            "sealed",
            "message",
            "result",
            "errors",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..12).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn sample_index() -> impl Strategy<Value = (usize, usize)> {
    (0..PARSERS.len(), any::<usize>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_all(&body);
    }

    #[test]
    fn arbitrary_json(value in json_value()) {
        check_all(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn mutated_document_samples(
        (parser, sample) in sample_index(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let samples = PARSERS[parser].2;
        let mut doc = samples[sample % samples.len()].as_bytes().to_vec();
        for m in &mutations {
            apply(&mut doc, m);
        }
        check_all(&doc);
    }
}

#[test]
fn the_unmutated_samples_parse() {
    for (name, parse, samples) in PARSERS {
        // Some answers carry no values (a plain health check), but every
        // parser gets values out of one of its samples at least.
        let mut lines = 0;
        for (i, s) in samples.iter().enumerate() {
            match parse(s.as_bytes()) {
                Ok(n) => lines += n,
                Err(e) => panic!("{name}, sample {i}: {e}"),
            }
            let peak = peak_during(|| {
                let _ = parse(s.as_bytes());
            });
            assert!(peak > 0, "{name}: the allocator counts");
        }
        assert!(lines > 0, "{name}: no sample of it gave a value");
    }
}

#[test]
fn a_long_list_of_empty_objects_stays_within_the_allowance() {
    // The densest body there is: three bytes per list element.
    let mut body = b"{\"summary\": [".to_vec();
    for _ in 0..100_000 {
        body.extend_from_slice(b"{},");
    }
    body.extend_from_slice(b"{}], \"datausage\": [], \"targets\": []}");
    check_all(&body);
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    check_all(body.as_bytes());
    let body = format!(
        "{{\"summary\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    check_all(body.as_bytes());
}
