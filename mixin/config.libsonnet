// The one configuration object of the mixin. Override any field with
//   (import 'mixin.libsonnet') + { _config+:: { field: value } }
// and regenerate (see docs/mixin.md).
{
  _config+:: {
    // Selects the scrape jobs of appliance_exporter (its /metrics and
    // /probe scrapes): ApplianceExporterDown, ApplianceExporterAbsent and
    // the dashboards' `job` variable use it.
    exporterSelector: 'job=~"appliance_exporter.*"',

    // Where docs/runbook.md is published; each alert's runbook_url is
    // this followed by `#` and the alert's anchor. Must be absolute.
    runbookURLBase: 'https://appliance-exporter.example/docs/runbook.md',

    // Dashboards.
    dashboardTags: ['appliance_exporter'],
    dashboardRefresh: '1m',
    dashboardTimeFrom: 'now-24h',
    dashboardTimezone: '',

    // Availability: an appliance, the exporter's scrape or a collector
    // counts as failing when it succeeded in less than this share of the
    // samples of `availabilityWindow` (a flapping one fails too).
    availabilityRatio: 0.75,
    availabilityWindow: '10m',
    collectorWindow: '15m',
    // A target or job that reported within this window and no longer does.
    disappearedWindow: '1h',

    // Connect Secure.
    cpuWarning: 0.8,
    cpuWarningFor: '15m',
    cpuCritical: 0.9,
    cpuCriticalFor: '10m',
    diskWarning: 0.8,
    diskWarningFor: '30m',
    diskCritical: 0.9,
    diskCriticalFor: '15m',
    // Smooths CPU, disk and swap: one dip does not reset `for:`.
    utilisationWindow: '10m',
    swapWarning: 0.5,
    swapWarningFor: '15m',
    // Disk filling up: predicted full within `diskFillHorizon` from the
    // trend of `diskFillWindow`, and already above `diskFillMinimum`.
    diskFillWindow: '6h',
    diskFillHorizonSeconds: 24 * 3600,
    diskFillMinimum: 0.5,
    capacityWarning: 0.9,
    // How users connect. ICSSSLFallbackHigh: the share of tunnels on SSL
    // instead of ESP, averaged over `sslShareWindow`, above `sslShareWarning`
    // while at least `sslShareMinTunnels` tunnels are up on average (a few
    // sessions at night from hotel networks say nothing).
    sslShareWarning: 0.25,
    sslShareWindow: '30m',
    sslShareMinTunnels: 20,
    sslShareFor: '30m',
    // ICSHostCheckFailuresHigh: the share of listed sessions whose host check
    // failed, averaged over `hostCheckWindow`, above `hostCheckWarning` with
    // at least `hostCheckMinFailed` such sessions on average.
    hostCheckWarning: 0.1,
    hostCheckWindow: '30m',
    hostCheckMinFailed: 10,
    hostCheckFor: '30m',
    // The licence feature whose leases are a gateway's concurrent-user
    // capacity when SNMP does not report it.
    concurrentUsersFeature: 'Concurrent Users',
    // ICSESAPPackageNotActivated: a newer ESAP package uploaded and not
    // activated for this long.
    esapNotActivatedFor: '7d',

    // Enterprise Recon licence expiry, days left.
    er2ExpiryWarningDays: 30,
    er2ExpiryCriticalDays: 3,
    er2PoolWarning: 0.9,
    // Enterprise Recon master server (`server` collector), smoothed over
    // `utilisationWindow` like the Connect Secure figures.
    er2DiskWarning: 0.8,
    er2DiskWarningFor: '30m',
    er2DiskCritical: 0.9,
    er2DiskCriticalFor: '15m',
    // CPU time the hypervisor gives to other machines.
    er2StolenCPUWarning: 0.1,
    er2StolenCPUWarningFor: '30m',
    // Licence expiry and scan schedules run on the server's clock.
    er2ClockOffsetSeconds: 300,
    er2ClockOffsetFor: '15m',
    // The newest load sample older than this (on the server's clock) means
    // the server no longer records its load: raise it above the `server`
    // collector's min_interval where one is set.
    er2LoadMaxAgeSeconds: 3600,
    // The API user lacks the Risk Admin permission for this long.
    er2PermissionFor: '15m',

    // The TLS certificates the appliances present, days left.
    certificateExpiryWarningDays: 30,
    certificateExpiryCriticalDays: 7,

    // The exporter.
    upstreamErrorRatio: 0.1,
    upstreamErrorWindow: '15m',
    // Used when Prometheus does not expose scrape_timeout_seconds (it does
    // with --enable-feature=extra-scrape-metrics).
    scrapeTimeoutSeconds: 10,
    scrapeDurationRatio: 0.8,
    fdsRatio: 0.8,
    // Cached appliance data (modules with min_interval) older than this is
    // stale: raise it above your largest min_interval.
    cachedResultMaxAgeSeconds: 2 * 3600,
  },
}
