//! Checks that need more than one field, turning the raw file into the
//! validated [`Config`]: references between sections, durations and sizes,
//! and the loading of secrets. A module's family options are checked by the
//! family's own rules (its `options.rs`, reached through [`Kind`]); this
//! module adds the file, line and field to their refusals.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::Location;

use super::Kind;
use super::probe::{HostPattern, ProbePolicy, RawProbe};
use super::raw::{At, RawAuth, RawConfig, RawModule, RawTarget};
use super::secret::SecretSource;
use super::{
    Auth, Config, ConfigError, Credentials, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Module,
    Target, Tls,
};

/// Context shared by the checks: the file, for error messages and for
/// resolving relative paths.
struct Checker<'a> {
    file: &'a Path,
    base_dir: &'a Path,
    warnings: Vec<String>,
}

impl Checker<'_> {
    fn err(
        &self,
        at: &Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::at(self.file, at, field, message)
    }
}

pub(super) fn validate(file: &Path, raw: RawConfig) -> Result<Config, ConfigError> {
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let mut ck = Checker {
        file,
        base_dir,
        warnings: Vec::new(),
    };
    let limits = Arc::new(super::limits::check(file, raw.limits.as_ref())?);
    let mut auths = BTreeMap::new();
    for (name, raw_auth) in &raw.auths {
        let auth = check_auth(&mut ck, name, raw_auth)?;
        auths.insert(name.clone(), Arc::new(auth));
    }
    let mut modules = BTreeMap::new();
    for (name, raw_module) in &raw.modules {
        let module = check_module(&ck, name, raw_module, &auths)?;
        modules.insert(name.clone(), Arc::new(module));
    }
    let mut targets: Vec<Arc<Target>> = Vec::new();
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, raw_target) in raw.targets.iter().enumerate() {
        let field = format!("targets[{i}]");
        let name = &raw_target.value.name;
        if let Some(first) = seen.get(name.value.as_str()) {
            return Err(ck.err(
                &name.referenced,
                format!("{field}.name"),
                format!(
                    "duplicate target name \"{}\" (first at line {first})",
                    name.value
                ),
            ));
        }
        seen.insert(&name.value, name.referenced.line());
        targets.push(Arc::new(check_target(
            &ck,
            &field,
            &raw_target.value,
            &modules,
            &auths,
        )?));
    }
    Ok(Config {
        source: file.to_path_buf(),
        auths,
        modules,
        targets,
        limits,
        warnings: ck.warnings,
    })
}

/// Picks the one configured source of a secret among inline / file / env.
fn secret_source(
    ck: &Checker<'_>,
    field: &str,
    stem: &str,
    inline: &Option<At<String>>,
    file: &Option<At<String>>,
    env: &Option<At<String>>,
) -> Result<Option<(SecretSource, Location, String)>, ConfigError> {
    let given: Vec<(&str, &At<String>)> = [("", inline), ("_file", file), ("_env", env)]
        .into_iter()
        .filter_map(|(suffix, v)| v.as_ref().map(|v| (suffix, v)))
        .collect();
    match given.as_slice() {
        [] => Ok(None),
        [(suffix, value)] => {
            let key = format!("{field}.{stem}{suffix}");
            let source = match *suffix {
                "" => SecretSource::Inline(super::Secret::new(value.value.as_str())),
                "_file" => SecretSource::File(value.value.clone()),
                _ => SecretSource::Env(value.value.clone()),
            };
            Ok(Some((source, value.referenced, key)))
        }
        [_, (_, second), ..] => Err(ck.err(
            &second.referenced,
            format!("{field}.{stem}"),
            format!("set only one of {stem}, {stem}_file, {stem}_env"),
        )),
    }
}

fn load_secret(
    ck: &mut Checker<'_>,
    source: &(SecretSource, Location, String),
) -> Result<super::Secret, ConfigError> {
    let (src, at, key) = source;
    if matches!(src, SecretSource::Inline(_)) {
        ck.warnings.push(format!(
            "{key} is written inline in {}; prefer {key}_file or {key}_env",
            ck.file.display()
        ));
    }
    src.load(ck.base_dir)
        .map_err(|e| ck.err(at, key.clone(), e.to_string()))
}

fn check_auth(ck: &mut Checker<'_>, name: &str, raw: &At<RawAuth>) -> Result<Auth, ConfigError> {
    let field = format!("auths.{name}");
    let a = &raw.value;
    let password = secret_source(
        ck,
        &field,
        "password",
        &a.password,
        &a.password_file,
        &a.password_env,
    )?;
    let api_key = secret_source(
        ck,
        &field,
        "api_key",
        &a.api_key,
        &a.api_key_file,
        &a.api_key_env,
    )?;
    let credentials = match (&a.username, password, api_key) {
        (_, Some(_), Some((_, at, _))) | (Some(_), None, Some((_, at, _))) => {
            return Err(ck.err(
                &at,
                field,
                "an auth has either username and password or an api_key, not both",
            ));
        }
        (None, None, Some(key)) => {
            if let Some(realm) = &a.realm {
                return Err(ck.err(
                    &realm.referenced,
                    format!("{field}.realm"),
                    "realm goes with username and password (realm_auth), not with an api_key",
                ));
            }
            Credentials::ApiKey(load_secret(ck, &key)?)
        }
        (Some(username), Some(pw), None) => {
            if username.value.is_empty() {
                return Err(ck.err(
                    &username.referenced,
                    format!("{field}.username"),
                    "must not be empty",
                ));
            }
            let password = load_secret(ck, &pw)?;
            match &a.realm {
                Some(realm) => Credentials::RealmAuth {
                    username: username.value.clone(),
                    password,
                    realm: realm.value.clone(),
                },
                None => Credentials::Basic {
                    username: username.value.clone(),
                    password,
                },
            }
        }
        (Some(username), None, None) => {
            return Err(ck.err(
                &username.referenced,
                format!("{field}.password"),
                "username needs one of password, password_file, password_env",
            ));
        }
        (None, Some((_, at, _)), None) => {
            return Err(ck.err(
                &at,
                format!("{field}.username"),
                "a password needs a username",
            ));
        }
        (None, None, None) => {
            return Err(ck.err(
                &raw.referenced,
                field,
                "set username with password_file (or password_env, password), or api_key_file (or api_key_env, api_key)",
            ));
        }
    };
    Ok(Auth {
        name: name.to_owned(),
        credentials,
    })
}

/// Whether credentials of this shape can be used with an appliance family.
pub fn auth_fits(kind: Kind, credentials: &Credentials) -> Result<(), String> {
    let (shapes, needs) = kind.credentials();
    if shapes.contains(&credentials.shape()) {
        Ok(())
    } else {
        Err(format!("kind {} needs {needs}", kind.as_str()))
    }
}

fn check_auth_ref(
    ck: &Checker<'_>,
    field: &str,
    kind: Kind,
    name: &At<String>,
    auths: &BTreeMap<String, Arc<Auth>>,
) -> Result<String, ConfigError> {
    let Some(auth) = auths.get(&name.value) else {
        let known: Vec<&str> = auths.keys().map(String::as_str).collect();
        return Err(ck.err(
            &name.referenced,
            field,
            format!(
                "unknown auth \"{}\" (defined: {})",
                name.value,
                list_or_none(&known)
            ),
        ));
    };
    auth_fits(kind, &auth.credentials).map_err(|why| {
        ck.err(
            &name.referenced,
            field,
            format!("auth \"{}\" does not fit: {why}", name.value),
        )
    })?;
    Ok(name.value.clone())
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// A positive duration of at most `max`.
fn parse_duration(
    ck: &Checker<'_>,
    field: &str,
    value: &At<String>,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let d = humantime::parse_duration(value.value.trim()).map_err(|e| {
        ck.err(
            &value.referenced,
            field,
            format!(
                "invalid duration \"{}\": {e} (use e.g. 10s, 1m30s)",
                value.value
            ),
        )
    })?;
    if d.is_zero() {
        return Err(ck.err(&value.referenced, field, "must be greater than 0"));
    }
    super::limits::at_most(d, max).map_err(|why| ck.err(&value.referenced, field, why))
}

/// Parses a SHA-256 fingerprint as admin pages and `openssl x509
/// -fingerprint -sha256` show it (`AB:CD:…`), or as plain hex.
pub fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    let hex: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b':' && !b.is_ascii_whitespace())
        .collect();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// Parses `1048576`, `64MiB`, `10MB`, `512KiB`, `1GiB` into bytes.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&b| b > 0)
}

/// Rejects a section of another family than the module's.
fn only_own_sections(
    ck: &Checker<'_>,
    field: &str,
    module: &RawModule,
    kind: Kind,
) -> Result<(), ConfigError> {
    for other in Kind::ALL.iter().filter(|k| **k != kind) {
        if let Some((section, at)) = other.written(module).first() {
            return Err(ck.err(
                at,
                format!("{field}.{section}"),
                format!(
                    "only valid for kind {} (this module is {})",
                    other.as_str(),
                    kind.as_str()
                ),
            ));
        }
    }
    Ok(())
}

fn check_module(
    ck: &Checker<'_>,
    name: &str,
    raw: &At<RawModule>,
    auths: &BTreeMap<String, Arc<Auth>>,
) -> Result<Module, ConfigError> {
    let field = format!("modules.{name}");
    let m = &raw.value;
    let kind = m.kind.value;
    let auth = match &m.auth {
        Some(a) => check_auth_ref(ck, &format!("{field}.auth"), kind, a, auths)?,
        None => {
            return Err(ck.err(
                &raw.referenced,
                format!("{field}.auth"),
                "missing field `auth`",
            ));
        }
    };
    let timeout = match &m.timeout {
        Some(t) => parse_duration(ck, &format!("{field}.timeout"), t, super::MAX_TIMEOUT)?,
        None => DEFAULT_TIMEOUT,
    };
    let min_interval = m
        .min_interval
        .as_ref()
        .map(|t| {
            parse_duration(
                ck,
                &format!("{field}.min_interval"),
                t,
                super::MAX_MIN_INTERVAL,
            )
        })
        .transpose()?;
    let max_response_bytes = match &m.max_response_size {
        Some(s) => parse_size(&s.value).ok_or_else(|| {
            ck.err(
                &s.referenced,
                format!("{field}.max_response_size"),
                format!(
                    "invalid size \"{}\" (use e.g. 64MiB, 10MB, 1048576)",
                    s.value
                ),
            )
        })?,
        None => DEFAULT_MAX_RESPONSE_BYTES,
    };
    let tls = match &m.tls {
        Some(t) => {
            let ca_file = match &t.ca_file {
                Some(ca) => Some(check_ca_file(ck, &format!("{field}.tls.ca_file"), ca)?),
                None => None,
            };
            let pinned_sha256 = t
                .pinned_sha256
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    parse_fingerprint(&p.value).ok_or_else(|| {
                        ck.err(
                            &p.referenced,
                            format!("{field}.tls.pinned_sha256[{i}]"),
                            format!("\"{}\" is not a SHA-256 fingerprint (64 hex digits, colons allowed)", p.value),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if let (true, Some(first)) = (t.insecure_skip_verify, t.pinned_sha256.first()) {
                return Err(ck.err(
                    &first.referenced,
                    format!("{field}.tls.pinned_sha256"),
                    "has no effect with insecure_skip_verify: remove insecure_skip_verify to verify against the pins",
                ));
            }
            Tls {
                ca_file,
                insecure_skip_verify: t.insecure_skip_verify,
                pinned_sha256,
            }
        }
        None => Tls::default(),
    };
    let collectors = check_collectors(ck, &field, kind, &m.collectors)?;

    only_own_sections(ck, &field, m, kind)?;
    let options = kind
        .options(m, &collectors, &raw.referenced)
        .map_err(|(at, key, why)| ck.err(&at, format!("{field}.{key}"), why))?;
    let probe = m
        .probe
        .as_ref()
        .map(|p| check_probe(ck, &format!("{field}.probe"), kind, p, auths))
        .transpose()?;
    Ok(Module {
        name: name.to_owned(),
        kind,
        auth,
        timeout,
        min_interval,
        max_response_bytes,
        tls,
        collectors,
        options,
        probe,
    })
}

fn check_probe(
    ck: &Checker<'_>,
    field: &str,
    kind: Kind,
    raw: &At<RawProbe>,
    auths: &BTreeMap<String, Arc<Auth>>,
) -> Result<ProbePolicy, ConfigError> {
    let hosts = &raw.value.allowed_hosts;
    if hosts.value.is_empty() {
        return Err(ck.err(
            &hosts.referenced,
            format!("{field}.allowed_hosts"),
            "lists no host (remove the probe block to refuse ad-hoc targets)",
        ));
    }
    let allowed_hosts = hosts
        .value
        .iter()
        .enumerate()
        .map(|(i, h)| {
            HostPattern::parse(&h.value)
                .map_err(|why| ck.err(&h.referenced, format!("{field}.allowed_hosts[{i}]"), why))
        })
        .collect::<Result<_, _>>()?;
    let allowed_auths = raw
        .value
        .allowed_auths
        .iter()
        .enumerate()
        .map(|(i, a)| check_auth_ref(ck, &format!("{field}.allowed_auths[{i}]"), kind, a, auths))
        .collect::<Result<_, _>>()?;
    Ok(ProbePolicy {
        allowed_hosts,
        allowed_auths,
    })
}

fn check_ca_file(
    ck: &Checker<'_>,
    field: &str,
    ca: &At<String>,
) -> Result<std::path::PathBuf, ConfigError> {
    use rustls_pki_types::pem::PemObject as _;
    let path = super::secret::resolve_path(&ca.value, ck.base_dir)
        .map_err(|e| ck.err(&ca.referenced, field, e.to_string()))?;
    let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(&path)
        .map_err(|e| {
            ck.err(
                &ca.referenced,
                field,
                format!("cannot read {}: {e}", path.display()),
            )
        })?
        .collect::<Result<_, _>>()
        .map_err(|e| {
            ck.err(
                &ca.referenced,
                field,
                format!("{}: invalid PEM: {e}", path.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(ck.err(
            &ca.referenced,
            field,
            format!("{} holds no PEM certificate", path.display()),
        ));
    }
    Ok(path)
}

fn check_collectors(
    ck: &Checker<'_>,
    field: &str,
    kind: Kind,
    listed: &Option<Vec<At<String>>>,
) -> Result<Vec<&'static str>, ConfigError> {
    let known = kind.collectors();
    let Some(listed) = listed else {
        return Ok(known.to_vec());
    };
    let mut out: Vec<&'static str> = Vec::new();
    for (i, c) in listed.iter().enumerate() {
        let f = format!("{field}.collectors[{i}]");
        let Some(&name) = known.iter().find(|k| **k == c.value) else {
            return Err(ck.err(
                &c.referenced,
                f,
                format!(
                    "unknown collector \"{}\" for kind {} (known: {})",
                    c.value,
                    kind.as_str(),
                    known.join(", ")
                ),
            ));
        };
        if out.contains(&name) {
            return Err(ck.err(
                &c.referenced,
                f,
                format!("collector \"{name}\" is listed twice"),
            ));
        }
        out.push(name);
    }
    if out.is_empty() {
        return Err(ConfigError::file(
            ck.file,
            format!("{field}.collectors lists no collector"),
        ));
    }
    Ok(out)
}

/// Checks a target URL: http(s), no credentials, no query or fragment.
pub fn check_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("invalid URL \"{text}\": {e}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "URL scheme must be http or https, not {}",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL are not allowed; put them under auths".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not have a query or fragment".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("invalid URL \"{text}\": no host"));
    }
    Ok(url)
}

fn check_target(
    ck: &Checker<'_>,
    field: &str,
    t: &RawTarget,
    modules: &BTreeMap<String, Arc<Module>>,
    auths: &BTreeMap<String, Arc<Auth>>,
) -> Result<Target, ConfigError> {
    if t.name.value.trim().is_empty() {
        return Err(ck.err(
            &t.name.referenced,
            format!("{field}.name"),
            "must not be empty",
        ));
    }
    let url = check_url(&t.url.value)
        .map_err(|why| ck.err(&t.url.referenced, format!("{field}.url"), why))?;
    let Some(module) = modules.get(&t.module.value) else {
        let known: Vec<&str> = modules.keys().map(String::as_str).collect();
        return Err(ck.err(
            &t.module.referenced,
            format!("{field}.module"),
            format!(
                "unknown module \"{}\" (defined: {})",
                t.module.value,
                list_or_none(&known)
            ),
        ));
    };
    let auth = t
        .auth
        .as_ref()
        .map(|a| check_auth_ref(ck, &format!("{field}.auth"), module.kind, a, auths))
        .transpose()?;
    Ok(Target {
        name: t.name.value.clone(),
        url,
        module: t.module.value.clone(),
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("10MB"), Some(10_000_000));
        assert_eq!(parse_size("1048576"), Some(1_048_576));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn fingerprints() {
        let colons = "AB:".repeat(31) + "CD";
        let mut expected = [0xAB; 32];
        expected[31] = 0xCD;
        assert_eq!(parse_fingerprint(&colons), Some(expected));
        assert_eq!(
            parse_fingerprint(&colons.replace(':', "").to_lowercase()),
            Some(expected)
        );
        assert_eq!(parse_fingerprint("AB:CD"), None);
        assert_eq!(parse_fingerprint(&"ZZ".repeat(32)), None);
    }

    #[test]
    fn urls() {
        assert!(check_url("https://er-master:8339").is_ok());
        assert!(check_url("ftp://x").unwrap_err().contains("scheme"));
        assert!(
            check_url("https://u:p@x")
                .unwrap_err()
                .contains("credentials")
        );
        assert!(check_url("https://x/?a=1").unwrap_err().contains("query"));
        assert!(check_url("not a url").unwrap_err().contains("invalid URL"));
    }

    /// Unicode host names are mapped to their ASCII form (UTS 46), and
    /// ones UTS 46 forbids are refused, whichever IDNA back end is built in.
    #[test]
    fn unicode_host_names() {
        let url = check_url("https://Bücher.example:8339").unwrap();
        assert_eq!(url.host_str(), Some("xn--bcher-kva.example"));
        assert!(
            check_url("https://xn--a.example")
                .unwrap_err()
                .contains("invalid URL")
        );
    }
}
