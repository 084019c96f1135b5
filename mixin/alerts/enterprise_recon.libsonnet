// Alerts on Ground Labs Enterprise Recon master servers (metrics of the
// `licenses` collector).
local alert = import '../lib/alert.libsonnet';

{
  prometheusAlertFiles+:: {
    enterprise_recon: {
      local c = $._config,
      local rule(name, severity, expr, duration, summary, description) =
        alert.rule(c, name, severity, expr, duration, summary, description),
      local expiring(days, severity, act) = rule(
        'ER2LicenseExpiringSoon',
        severity,
        '(er2_license_expiry_timestamp_seconds - time()) < %d * 86400 > 0' % days,
        '1h',
        'Enterprise Recon licence of {{ $labels.target }} expires in {{ $value | humanizeDuration }}',
        'The licence of the Enterprise Recon master server {{ $labels.target }} expires in {{ $value | humanizeDuration }}, after which scans stop being processed. %s and upload the new licence file on the master server (Settings > License).' % act
      ),
      local known = 'licensed|expired|exceeded|absent',
      groups: [{
        name: 'appliance_exporter.enterprise_recon',
        rules: [
          // Both severities share the name: Alertmanager's inhibit rule
          // (docs/runbook.md) silences the warning while the critical one fires.
          expiring(c.er2ExpiryWarningDays, 'warning', 'Order the renewal from Ground Labs now'),
          expiring(c.er2ExpiryCriticalDays, 'critical', 'Escalate the renewal with Ground Labs'),
          // The `state` says expired; only a legacy licence, which has no
          // `state`, is judged by its expiry time. `without (state)` gives
          // both branches the same labels: one alert per master server.
          rule(
            'ER2LicenseExpired',
            'critical',
            |||
              max without (state) (er2_license_state{state="expired"}) == 1
              or (
                er2_license_expiry_timestamp_seconds <= time()
                and on (job, instance, target) er2_license_info{model="legacy"}
              )
            |||,
            '5m',
            'Enterprise Recon licence of {{ $labels.target }} has expired',
            'The Enterprise Recon master server {{ $labels.target }} runs on an expired licence: new scan results are held back, not processed. Upload a renewed licence file on the master server; held scan data is processed once the licence is valid again.'
          ),
          rule(
            'ER2LicenseExceeded',
            'critical',
            'er2_license_state{state="exceeded"} == 1',
            '15m',
            'Enterprise Recon licence of {{ $labels.target }} is exceeded',
            'The Enterprise Recon master server {{ $labels.target }} uses more than its licence allows (data allowance or licensed targets): new scan results are held back. Remove unneeded targets or scan data, or buy a larger licence from Ground Labs.'
          ),
          rule(
            'ER2LicenseAbsent',
            'critical',
            'er2_license_state{state="absent"} == 1',
            '15m',
            'Enterprise Recon master server {{ $labels.target }} has no licence',
            'The Enterprise Recon master server {{ $labels.target }} reports that no licence is installed, so it does not scan. Upload the licence file on the master server (Settings > License).'
          ),
          // A state the kit does not know (the exporter passes any value
          // the master server sends, e.g. "suspended").
          rule(
            'ER2LicenseStateUnknown',
            'warning',
            'er2_license_state{state!~"%s"} == 1' % known,
            '15m',
            'Enterprise Recon licence of {{ $labels.target }} is in state {{ $labels.state }}',
            'The Enterprise Recon master server {{ $labels.target }} reports its licence state as "{{ $labels.state }}", which is none of %s: scans may not be processed. Check Settings > License on the master server and ask Ground Labs what the state means.' % std.strReplace(known, '|', ', ')
          ),
          // A limit of 0 would divide to +Inf: only pools with a limit count.
          rule(
            'ER2DataAllowanceNearlyUsed',
            'warning',
            'er2_data_allowance_used_bytes / (er2_data_allowance_limit_bytes > 0) > %g' % c.er2PoolWarning,
            '1h',
            'Enterprise Recon data allowance {{ $labels.pool }} of {{ $labels.target }} is {{ $value | humanizePercentage }} used',
            'The {{ $labels.description }} of {{ $labels.target }} is {{ $value | humanizePercentage }} used. At 100% the licence is exceeded and scan results are held back. Remove stale scan data or targets, or raise the allowance with Ground Labs.'
          ),
          rule(
            'ER2LicensePoolNearlyFull',
            'warning',
            'er2_license_pool_used / (er2_license_pool_limit > 0) > %g' % c.er2PoolWarning,
            '1h',
            'Enterprise Recon licence pool {{ $labels.pool }} of {{ $labels.target }} is {{ $value | humanizePercentage }} used',
            'The {{ $labels.description }} licence pool of {{ $labels.target }} is {{ $value | humanizePercentage }} assigned; new targets of that kind cannot be licensed once it is full. Release licences of retired targets, or buy more from Ground Labs.'
          ),
          // The master server reports pending data only while its licence
          // is expired or exceeded.
          rule(
            'ER2ScanDataPending',
            'warning',
            'er2_pending_scan_data_bytes > 0',
            '30m',
            'Enterprise Recon master server {{ $labels.target }} holds {{ $value | humanize1024 }}B of unprocessed scan data',
            '{{ $labels.target }} holds {{ $value | humanize1024 }}B of scan data that it does not process because its licence is expired or exceeded; findings from those scans are not visible yet. Fix the licence (see ER2LicenseExpired / ER2LicenseExceeded); the data is then processed.'
          ),
        ],
      }],
    },
  },
}
