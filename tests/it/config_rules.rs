//! One test per configuration rule, each on its own file under
//! `tests/testdata/config/`, checking the exact message (file, line,
//! column, field, reason); and `--config.check` on the real binary.

use appliance_exporter::config::{Config, FamilyOptions};

use crate::common::Workdir;

fn error_of(name: &str) -> String {
    let path = format!("tests/testdata/config/{name}.yml");
    match Config::load(std::path::Path::new(&path)) {
        Ok(_) => panic!("{path} was accepted"),
        Err(e) => e.to_string(),
    }
}

macro_rules! rule {
    ($($name:ident => $message:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let file = stringify!($name);
                assert_eq!(error_of(file), format!("tests/testdata/config/{file}.yml{}", $message));
            }
        )*
    };
}

rule! {
    unknown_top_level_key => ":1:1: modles: unknown field `modles`, expected one of auths, modules, targets, limits";
    unknown_module_key => ":7:5: modules.er2.timout: unknown field `timout`, expected one of kind, auth, timeout, min_interval, max_response_size, tls, collectors, licenses, active_users, leases, instance, entitlements, probe";
    unknown_kind => ":5:11: modules.er2.kind: unknown variant `enterprise_recorn`, expected one of enterprise_recon, connect_secure, sectona";
    missing_kind => ":5:5: modules.er2.kind: missing field `kind`";
    missing_module_auth => ":3:5: modules.er2.auth: missing field `auth`";
    unknown_auth_reference => ":6:11: modules.er2.auth: unknown auth \"er2-api\" (defined: er2_api)";
    auth_kind_mismatch => ":6:11: modules.er2.auth: auth \"ics_key\" does not fit: kind enterprise_recon needs an auth with username and password (and no realm or api_key)";
    ics_needs_key_or_realm => ":6:11: modules.ics.auth: auth \"admin\" does not fit: kind connect_secure needs an api_key, or username, password and realm (realm_auth)";
    two_password_sources => ":5:19: auths.a.password: set only one of password, password_file, password_env";
    username_without_password => ":3:15: auths.a.password: username needs one of password, password_file, password_env";
    password_without_username => ":3:20: auths.a.username: a password needs a username";
    empty_auth => ":2:6: auths.a: set username with password_file (or password_env, password), or api_key_file (or api_key_env, api_key)";
    password_and_api_key => ":5:19: auths.a: an auth has either username and password or an api_key, not both";
    realm_with_api_key => ":4:12: auths.a.realm: realm goes with username and password (realm_auth), not with an api_key";
    unreadable_secret_file => ":4:20: auths.a.password_file: cannot read secret file tests/testdata/config/does-not-exist.txt: entity not found";
    empty_secret_file => ":4:20: auths.a.password_file: the secret from tests/testdata/config/empty_secret.txt is empty";
    missing_secret_env => ":4:19: auths.a.password_env: environment variable APPLIANCE_EXPORTER_TEST_UNSET_VARIABLE is not set";
    credentials_directory_unset => ":4:20: auths.a.password_file: $CREDENTIALS_DIRECTORY/er2 refers to $CREDENTIALS_DIRECTORY, which is not set (it is set by systemd for units with LoadCredential=)";
    bad_timeout => ":7:14: modules.er2.timeout: invalid duration \"10 parsecs\": unknown time unit \"parsecs\", supported units: ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few variations) (use e.g. 10s, 1m30s)";
    zero_timeout => ":7:14: modules.er2.timeout: must be greater than 0";
    bad_max_response_size => ":7:24: modules.er2.max_response_size: invalid size \"lots\" (use e.g. 64MiB, 10MB, 1048576)";
    unknown_collector => ":7:28: modules.er2.collectors[1]: unknown collector \"healthcheck\" for kind enterprise_recon (known: licenses, risk, server)";
    duplicate_collector => ":7:28: modules.er2.collectors[1]: collector \"licenses\" is listed twice";
    option_for_other_kind => ":7:19: modules.er2.active_users: only valid for kind connect_secure (this module is enterprise_recon)";
    page_size_over_gateway_cap => ":7:19: modules.ics.active_users.page_size: 500 is out of range: must be between 1 and 200 (the gateway caps a page at 200)";
    zero_concurrency => ":7:19: modules.ics.active_users.concurrency: 0 is out of range: must be between 1 and 64";
    top_values_out_of_range => ":7:19: modules.ics.active_users.top_values: 500 is out of range: must be between 1 and 100";
    bad_ca_file => ":7:20: modules.er2.tls.ca_file: tests/testdata/config/secret.txt holds no PEM certificate";
    sectona_without_instance => ":5:5: modules.pam.instance: kind sectona needs instance (the Sectona instance name)";
    sectona_without_queries => ":5:5: modules.pam.entitlements: the entitlements collector needs at least one query";
    entitlement_missing_required_field => ":9:9: modules.pam.entitlements[0].authentication_type: entitlement_type User requires authentication_type";
    entitlement_field_not_used_by_type => ":9:9: modules.pam.entitlements[0].username: username is not used by entitlement_type Asset";
    entitlement_unknown_type => ":9:41: modules.pam.entitlements[0].entitlement_type: unknown variant `Person`, expected one of User, Account, Asset";
    duplicate_query_name => ":10:9: modules.pam.entitlements[1].name: duplicate query name \"alice\"";
    target_missing_url => ":6:22: targets[0].url: missing field `url`";
    target_bad_url => ":6:27: targets[0].url: URL scheme must be http or https, not er-master";
    target_url_with_credentials => ":6:27: targets[0].url: credentials in the URL are not allowed; put them under auths";
    target_unknown_module => ":6:61: targets[0].module: unknown module \"er3\" (defined: er2)";
    target_auth_mismatch => ":7:72: targets[0].auth: auth \"key\" does not fit: kind enterprise_recon needs an auth with username and password (and no realm or api_key)";
    duplicate_target_name => ":7:12: targets[1].name: duplicate target name \"er2-prod\" (first at line 6)";
    empty_target_name => ":6:12: targets[0].name: must not be empty";
    duplicate_key => ":3:3: auths.a: duplicate key \"a\"";
    not_yaml => ":1:10: targets: unclosed bracket '['";
    wrong_type => ":1:10: targets: expected sequence start";
    empty => ": the configuration is empty";
}

#[test]
fn the_spec_example_is_valid_once_its_secrets_exist() {
    let work = Workdir::new();
    for f in ["er2", "ics.key", "ics-admin.pass", "pam.pass"] {
        work.write(f, "hunter2-value\n");
    }
    let d = work.path().display();
    let yaml = format!(
        r#"auths:
  er2_api:
    username: apiuser
    password_file: {d}/er2
  ics_key:
    api_key_file: {d}/ics.key
  ics_admin:
    username: admin
    password_file: {d}/ics-admin.pass
    realm: Admin Users
  pam:
    username: pamapi
    password_file: {d}/pam.pass
modules:
  er2:
    kind: enterprise_recon
    auth: er2_api
    timeout: 10s
    tls: {{insecure_skip_verify: false}}
    collectors: [licenses, risk]
    licenses: {{per_location: false}}
  ics:
    kind: connect_secure
    auth: ics_key
    collectors: [healthcheck, cluster, active_users, leases, system, named_users]
    active_users: {{page_size: 200, concurrency: 8}}
    leases: {{capacity: {{"Concurrent Users": 12000}}}}
  pam:
    kind: sectona
    auth: pam
    instance: PROD
    entitlements:
      - {{name: alice, entitlement_type: User, username: alice, authentication_type: AD, directory_store: corp}}
      - {{name: db01-sa, entitlement_type: Account, asset_type: MSSQL, asset_host: db01, account_name: sa, account_type: Local}}
targets:
  - {{name: er2-prod, url: "https://er-master:8339", module: er2}}
  - {{name: vpn, url: "https://vpn.example.com", module: ics}}
  - {{name: pam, url: "https://pam.example.com", module: pam}}
"#
    );
    let path = work.write("config.yml", &yaml);
    let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.targets.len(), 3);
    let FamilyOptions::ConnectSecure(ics) = &config.modules["ics"].options else {
        panic!("{:?}", config.modules["ics"].options)
    };
    assert_eq!(ics.active_users.concurrency, 8);
    assert_eq!(ics.leases.capacity["Concurrent Users"], 12000);
    assert_eq!(config.modules["er2"].collectors, ["licenses", "risk"]);
    let FamilyOptions::Sectona(pam) = &config.modules["pam"].options else {
        panic!("{:?}", config.modules["pam"].options)
    };
    assert_eq!(pam.instance, "PROD");
    assert_eq!(pam.entitlements.len(), 2);
    assert!(config.warnings.is_empty());
    // Debug output of the whole configuration never shows a secret.
    assert!(!format!("{config:?}").contains("hunter2"), "{config:?}");
}

#[test]
fn an_inline_password_works_with_a_warning() {
    let work = Workdir::new();
    let path = work.write(
        "config.yml",
        "auths:\n  a: {username: u, password: inline-pw}\nmodules:\n  er2: {kind: enterprise_recon, auth: a}\n",
    );
    let config = Config::load(&path).unwrap();
    assert_eq!(
        config.warnings,
        [format!(
            "auths.a.password is written inline in {}; prefer auths.a.password_file or auths.a.password_env",
            path.display()
        )]
    );
    assert!(!config.warnings[0].contains("inline-pw"));
}

#[test]
fn config_check_prints_a_summary_and_reads_the_credentials_directory() {
    let work = Workdir::new();
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(creds.path().join("er2"), "s3cret-from-systemd\n").unwrap();
    let path = work.write(
        "config.yml",
        "auths:\n  a: {username: u, password_file: $CREDENTIALS_DIRECTORY/er2}\n\
         modules:\n  er2: {kind: enterprise_recon, auth: a}\n\
         targets:\n  - {name: er2-prod, url: \"https://er-master:8339\", module: er2}\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_appliance_exporter"))
        .args(["--config.check", "--config.file"])
        .arg(&path)
        .env("CREDENTIALS_DIRECTORY", creds.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("is valid"), "{stdout}");
    assert!(
        stdout.contains("er2-prod: https://er-master:8339/ (module er2)"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret"), "{stdout}");
}

#[test]
fn config_check_fails_with_file_line_and_field() {
    let path = "tests/testdata/config/unknown_auth_reference.yml";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_appliance_exporter"))
        .args(["--config.check", "--config.file", path])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{path}:6:11: modules.er2.auth: unknown auth \"er2-api\" (defined: er2_api)\n")
    );
}

#[test]
fn an_invalid_configuration_stops_the_daemon_with_the_reason() {
    let path = "tests/testdata/config/zero_timeout.yml";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_appliance_exporter"))
        .args(["--config.file", path, "--web.listen-address=127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{path}:7:14: modules.er2.timeout: must be greater than 0"
        )),
        "{stderr}"
    );
}
