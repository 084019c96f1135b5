// Alerts on appliance_exporter itself and on the appliances it reads:
// unreadable, flapping or vanished targets, failing collectors, an exporter
// job that fails or disappears, the exporter's own limits, and the TLS
// certificates the appliances present.
local alert = import '../lib/alert.libsonnet';

{
  prometheusAlertFiles+:: {
    exporter: {
      local c = $._config,
      local rule(name, severity, expr, duration, summary, description) =
        alert.rule(c, name, severity, expr, duration, summary, description),
      local up = '{__name__=~"er2_up|ics_up|sectona_up"}',
      local notAfter = 'appliance_exporter_upstream_tls_certificate_not_after_timestamp_seconds',
      local certificateExpiring(days, severity, act) = rule(
        'ApplianceCertificateExpiringSoon',
        severity,
        '(%s - time()) < %d * 86400 > 0' % [notAfter, days],
        '1h',
        'The TLS certificate of {{ $labels.target }} expires in {{ $value | humanizeDuration }}',
        'The certificate {{ $labels.target }} presents ({{ $labels.subject }}, issued by {{ $labels.issuer }}, SHA-256 {{ $labels.sha256 }}) expires in {{ $value | humanizeDuration }}; then browsers, API clients and the exporter refuse it. %s: install a renewed certificate on the appliance, and update tls.ca_file or tls.pinned_sha256 if it is listed there.' % act
      ),
      groups: [{
        name: 'appliance_exporter.exporter',
        rules: [
          // Averaged, so an appliance that answers every other scrape
          // fails too.
          rule(
            'ApplianceDown',
            'critical',
            'avg_over_time(%s[%s]) < %g' % [up, c.availabilityWindow, c.availabilityRatio],
            '5m',
            'Appliance {{ $labels.target }} cannot be read',
            "The exporter cannot read {{ $labels.target }}: the appliance does not answer, or refuses the exporter's credentials. Its other alerts cannot fire meanwhile. The exporter's log names the endpoint and the reason; check the appliance, the network path and the API credentials."
          ),
          // While the appliance is down, ApplianceDown says it all.
          rule(
            'ApplianceExporterCollectorFailing',
            'warning',
            |||
              avg_over_time(appliance_exporter_collector_success[%(collectorWindow)s]) < %(availabilityRatio)g
              unless on (job, instance, target)
                (avg_over_time(%(up)s[%(availabilityWindow)s]) < %(availabilityRatio)g)
            ||| % (c { up: up }),
            '15m',
            'Collector {{ $labels.collector }} fails for {{ $labels.target }}',
            'The {{ $labels.collector }} collector of {{ $labels.target }} fails, so its metrics (and the alerts on them) are missing. The exporter\'s log line "collector failed" names the endpoint and the reason (timeout, HTTP status, unexpected answer).'
          ),
          // A target that was read within the window and is no longer
          // read by any job (removed from the configuration or from
          // service discovery; one that moved to another exporter or shard
          // is still read). An exporter that cannot be scraped raises
          // ApplianceExporterDown instead. It clears once the target has
          // been gone for the whole window.
          rule(
            'ApplianceTargetDisappeared',
            'warning',
            |||
              group by (job, instance, target) (max_over_time(appliance_exporter_collector_success[%(disappearedWindow)s]))
              unless on (target) appliance_exporter_collector_success
              unless on (job, instance) (up == 0)
            ||| % c,
            '5m',
            'Appliance {{ $labels.target }} is no longer scraped',
            '{{ $labels.target }} was read through {{ $labels.instance }} (job {{ $labels.job }}) within the last %s and no longer is: it left the exporter configuration or the service discovery, so none of its alerts can fire. Restore it, or ignore this alert if it was retired on purpose (it clears after %s).' % [c.disappearedWindow, c.disappearedWindow]
          ),
          rule(
            'ApplianceExporterDown',
            'critical',
            'avg_over_time(up{%s}[%s]) < %g' % [c.exporterSelector, c.availabilityWindow, c.availabilityRatio],
            '5m',
            'Prometheus cannot scrape appliance_exporter at {{ $labels.instance }}',
            'The scrape of {{ $labels.instance }} by job {{ $labels.job }} fails, so no appliance alert from it can fire. Check that the service runs (systemctl status appliance_exporter), its log, and the Prometheus target page for the error.'
          ),
          // No scrape of the exporter at all: the job is missing from the
          // Prometheus configuration, or its service discovery is empty.
          rule(
            'ApplianceExporterAbsent',
            'critical',
            'absent(up{%s})' % c.exporterSelector,
            '15m',
            'Prometheus scrapes no appliance_exporter',
            'Prometheus has no scrape of appliance_exporter (no `up` series for %s), so no appliance alert can fire. Check that the scrape job is in the Prometheus configuration, that its service discovery yields targets, and the Prometheus target page.' % c.exporterSelector
          ),
          rule(
            'ApplianceExporterConfigReloadFailed',
            'warning',
            'appliance_exporter_config_last_reload_successful == 0',
            '5m',
            'appliance_exporter at {{ $labels.instance }} rejected its new configuration',
            'The last configuration reload of {{ $labels.instance }} failed; the previous configuration is still in force, and a restart would fail. Run appliance_exporter --config.check on the file, fix the error it names and reload again.'
          ),
          // Errors and timeouts of the requests to the appliances, and 5xx
          // answers.
          rule(
            'ApplianceExporterUpstreamErrors',
            'warning',
            |||
              sum by (job, instance, target, endpoint) (rate(appliance_exporter_upstream_requests_total{code=~"error|timeout|5.."}[%(upstreamErrorWindow)s]))
              / sum by (job, instance, target, endpoint) (rate(appliance_exporter_upstream_requests_total[%(upstreamErrorWindow)s]))
              > %(upstreamErrorRatio)g
            ||| % c,
            '15m',
            'Requests of appliance_exporter to {{ $labels.target }} {{ $labels.endpoint }} fail at {{ $value | humanizePercentage }}',
            '{{ $value | humanizePercentage }} of the requests to {{ $labels.endpoint }} of {{ $labels.target }} end in a connection error, a timeout or a 5xx answer. Its metrics are missing or stale meanwhile. The exporter logs each failure with the reason; check the appliance load, the network path and the module `timeout`.'
          ),
          // Prometheus' scrape timeout, from scrape_timeout_seconds when
          // Prometheus exposes it, else from the configuration.
          rule(
            'ApplianceExporterScrapeNearTimeout',
            'warning',
            |||
              avg_over_time(scrape_duration_seconds{%(exporterSelector)s}[%(availabilityWindow)s])
              / on (job, instance) (scrape_timeout_seconds{%(exporterSelector)s} or (up{%(exporterSelector)s} * 0 + %(scrapeTimeoutSeconds)g))
              > %(scrapeDurationRatio)g
            ||| % c,
            '15m',
            'Scrapes of appliance_exporter at {{ $labels.instance }} take {{ $value | humanizePercentage }} of the scrape timeout',
            'Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) take {{ $value | humanizePercentage }} of their timeout; a slower appliance makes them fail. See the collector durations on the exporter dashboard; raise the scrape timeout (and the module `timeout` below it), or set `min_interval` on slow modules.'
          ),
          rule(
            'ApplianceExporterFdsNearLimit',
            'warning',
            |||
              process_open_fds{%(exporterSelector)s} / process_max_fds{%(exporterSelector)s} > %(fdsRatio)g
              and on (job, instance) appliance_exporter_build_info
            ||| % c,
            '15m',
            'appliance_exporter at {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its file descriptors',
            'The exporter at {{ $labels.instance }} has {{ $value | humanizePercentage }} of its file descriptor limit open; at the limit it can neither accept scrapes nor reach appliances. Look for appliances that hold connections open (upstream latency), and raise LimitNOFILE in the systemd unit.'
          ),
          // Cached appliance data (modules with `min_interval`) that is no
          // longer refreshed.
          rule(
            'ApplianceExporterCachedDataStale',
            'warning',
            'appliance_exporter_cached_result_age_seconds > %g' % c.cachedResultMaxAgeSeconds,
            '15m',
            'appliance_exporter serves {{ $value | humanizeDuration }} old data of {{ $labels.target }}',
            'The data of {{ $labels.target }} served by {{ $labels.instance }} is {{ $value | humanizeDuration }} old: the exporter could not refresh it within its `min_interval`. Its alerts and panels show the past. Check the collector failures and the exporter log for {{ $labels.target }}.'
          ),
          // The certificate each appliance presents over https, verified
          // or not (insecure_skip_verify). Both severities of the expiry
          // share the name, as the licence expiry's do.
          certificateExpiring(c.certificateExpiryWarningDays, 'warning', 'Renew it before then'),
          certificateExpiring(c.certificateExpiryCriticalDays, 'critical', 'Renew it now'),
          rule(
            'ApplianceCertificateExpired',
            'critical',
            '%s < time()' % notAfter,
            '5m',
            'The TLS certificate of {{ $labels.target }} has expired',
            'The certificate {{ $labels.target }} presents ({{ $labels.subject }}, issued by {{ $labels.issuer }}) has expired: browsers and API clients refuse it, and so does the exporter where it verifies certificates (ApplianceDown then fires too). Install a renewed certificate on the appliance, and update tls.ca_file or tls.pinned_sha256 if it is listed there.'
          ),
          rule(
            'ApplianceCertificateNotYetValid',
            'warning',
            'appliance_exporter_upstream_tls_certificate_not_before_timestamp_seconds > time()',
            '15m',
            'The TLS certificate of {{ $labels.target }} is not valid yet',
            'The certificate {{ $labels.target }} presents ({{ $labels.subject }}, issued by {{ $labels.issuer }}) becomes valid only in the future: the appliance\'s or the exporter\'s clock is wrong, or a certificate was installed before its start date. Check both clocks (NTP) and the certificate\'s notBefore.'
          ),
        ],
      }],
    },
  },
}
