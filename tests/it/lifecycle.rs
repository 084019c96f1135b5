//! `POST /-/reload` works only with `--web.enable-lifecycle`, as in
//! Prometheus; without it the answer is 403 with the reason and the
//! configuration in force stays (SIGHUP reloads either way: see `reload`).

use appliance_exporter::simulator::enterprise_recon as er2;

use crate::common::{Binary, Workdir, er2_config, er2_simulator, get, value};

const USER: &str = "apiuser";
const PASSWORD: &str = "lifecycle-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_over_http_needs_the_lifecycle_flag() {
    let sim = er2_simulator(er2::LicenseModel::NonSitewide, USER, PASSWORD, None).await;
    for enabled in [false, true] {
        let work = Workdir::new();
        let secret = work.write("er2.pass", PASSWORD);
        let config = work.write(
            "config.yml",
            &er2_config(USER, &secret, "er2_api", "", &[("before", sim.url())]),
        );
        let flag = format!("--config.file={}", config.display());
        let mut args = vec![flag.as_str()];
        if enabled {
            args.push("--web.enable-lifecycle");
        }
        let bin = Binary::start(&args, &[]);
        work.write(
            "config.yml",
            &er2_config(USER, &secret, "er2_api", "", &[("after", sim.url())]),
        );
        let resp = crate::common::client()
            .post(format!("{}/-/reload", bin.url))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        let m = get(&format!("{}/metrics", bin.url), &[]).await.body;
        let (before, after) = (
            value(&m, "er2_up{target=\"before\"}"),
            value(&m, "er2_up{target=\"after\"}"),
        );
        if enabled {
            assert_eq!((status, body.as_str()), (200, "configuration reloaded\n"));
            assert_eq!((before, after), (None, Some(1.0)), "{m}");
        } else {
            assert_eq!(
                (status, body.as_str()),
                (
                    403,
                    "lifecycle endpoints are disabled: start with --web.enable-lifecycle to reload over HTTP, or send SIGHUP\n"
                )
            );
            assert_eq!((before, after), (Some(1.0), None), "{m}");
        }
    }
}
