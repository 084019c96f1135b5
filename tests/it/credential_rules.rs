//! The rules of a module's `probe` block and `tls.pinned_sha256`, one file under
//! `tests/testdata/config/` each, with the exact message (file, line,
//! column, field, reason); and `--config.check` printing every module's
//! ad-hoc policy.

use appliance_exporter::config::Config;

use crate::common::Workdir;

fn assert_rule(name: &str, message: &str) {
    let path = format!("tests/testdata/config/{name}.yml");
    match Config::load(std::path::Path::new(&path)) {
        Ok(_) => panic!("{path} was accepted"),
        Err(e) => assert_eq!(e.to_string(), format!("{path}{message}")),
    }
}

#[test]
fn probe_missing_allowed_hosts() {
    assert_rule(
        "probe_missing_allowed_hosts",
        ":8:7: modules.er2.probe.allowed_hosts: missing field `allowed_hosts`",
    );
}

#[test]
fn probe_no_allowed_host() {
    assert_rule(
        "probe_no_allowed_host",
        ":8:22: modules.er2.probe.allowed_hosts: lists no host (remove the probe block to refuse ad-hoc targets)",
    );
}

#[test]
fn probe_wildcard_not_leftmost() {
    assert_rule(
        "probe_wildcard_not_leftmost",
        ":8:42: modules.er2.probe.allowed_hosts[1]: \"er2.*.example.com\": a * is allowed only in the leftmost label",
    );
}

#[test]
fn probe_range_with_host_bits() {
    assert_rule(
        "probe_range_with_host_bits",
        ":9:11: modules.er2.probe.allowed_hosts[0]: \"10.20.1.0/16\": host bits are set (the range starts at 10.20.0.0/16)",
    );
}

#[test]
fn probe_url_as_host() {
    assert_rule(
        "probe_url_as_host",
        ":8:23: modules.er2.probe.allowed_hosts[0]: \"https://er2.example.com\" is a URL; write only its host (er2.example.com)",
    );
}

#[test]
fn probe_unknown_allowed_auth() {
    assert_rule(
        "probe_unknown_allowed_auth",
        ":9:23: modules.er2.probe.allowed_auths[0]: unknown auth \"er2_admin\" (defined: er2_api)",
    );
}

#[test]
fn probe_allowed_auth_mismatch() {
    assert_rule(
        "probe_allowed_auth_mismatch",
        ":10:23: modules.er2.probe.allowed_auths[0]: auth \"ics_key\" does not fit: kind enterprise_recon needs an auth with username and password (and no realm or api_key)",
    );
}

#[test]
fn probe_unknown_key() {
    assert_rule(
        "probe_unknown_key",
        ":8:7: modules.er2.probe.allowed_host: unknown field `allowed_host`, expected one of allowed_hosts, allowed_auths",
    );
}

#[test]
fn tls_bad_pin() {
    assert_rule(
        "tls_bad_pin",
        ":8:23: modules.er2.tls.pinned_sha256[0]: \"AB:CD:EF\" is not a SHA-256 fingerprint (64 hex digits, colons allowed)",
    );
}

#[test]
fn tls_pin_with_insecure_skip_verify() {
    assert_rule(
        "tls_pin_with_insecure_skip_verify",
        ":10:11: modules.er2.tls.pinned_sha256: has no effect with insecure_skip_verify: remove insecure_skip_verify to verify against the pins",
    );
}

#[test]
fn config_check_prints_each_modules_ad_hoc_policy() {
    let work = Workdir::new();
    let secret = work.write("secret", "s3cret\n");
    let config = work.write(
        "config.yml",
        &format!(
            "auths:\n  a: {{username: u, password_file: {0}}}\n  b: {{username: v, password_file: {0}}}\n\
             modules:\n  open:\n    kind: enterprise_recon\n    auth: a\n    probe:\n      \
             allowed_hosts: [\"vpn-*.example.com\", vpn.example.org, 10.20.0.0/16, \"fd00::/8\"]\n      allowed_auths: [b]\n  \
             closed: {{kind: enterprise_recon, auth: b}}\n",
            secret.display()
        ),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_appliance_exporter"))
        .args([
            "--config.check",
            &format!("--config.file={}", config.display()),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "  open: kind enterprise_recon, auth a, timeout 10s, collectors [licenses, risk, server]\n    \
             ad-hoc probes: hosts [vpn-*.example.com, vpn.example.org, 10.20.0.0/16, fd00::/8], auths [a (module's), b]\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("    ad-hoc probes: refused (no probe.allowed_hosts)\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret"), "{stdout}");
}
