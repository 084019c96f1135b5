// Alerts on Ground Labs Enterprise Recon master servers (metrics of the
// `licenses`, `risk` and `server` collectors).
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
      local smoothed(metric) = 'avg_over_time(%s[%s])' % [metric, c.utilisationWindow],
      local disk(threshold, duration, severity, act) = rule(
        'ER2ServerDiskHigh',
        severity,
        '%s > %g' % [smoothed('er2_server_disk_used_ratio'), threshold],
        duration,
        'Enterprise Recon master server {{ $labels.target }} disk at {{ $value | humanizePercentage }}',
        'The disk of the Enterprise Recon master server {{ $labels.target }} has averaged more than %g%% full for %s; %s' % [threshold * 100, duration, act]
      ),
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
          // The master server (`server` collector).
          disk(c.er2DiskWarning, c.er2DiskWarningFor, 'warning', 'scan results and the database grow there. Remove scan data that is no longer needed, old logs and backups, or grow the volume, before it fills.'),
          disk(c.er2DiskCritical, c.er2DiskCriticalFor, 'critical', 'the master server stops storing scan results when it is full. Free space or grow the volume now.'),
          rule(
            'ER2ServerCPUStolenHigh',
            'warning',
            '%s > %g' % [smoothed('er2_server_cpu_stolen_ratio'), c.er2StolenCPUWarning],
            c.er2StolenCPUWarningFor,
            'Enterprise Recon master server {{ $labels.target }} loses {{ $value | humanizePercentage }} of its CPU to the hypervisor',
            'The hypervisor has given more than %g%% of the CPU time of the master server {{ $labels.target }} to other virtual machines for %s: scans and the web console slow down although the server itself is not busy. Ask the virtualisation team to reserve CPU for it or move it to a less loaded host.' % [c.er2StolenCPUWarning * 100, c.er2StolenCPUWarningFor]
          ),
          rule(
            'ER2ServerClockOffset',
            'warning',
            'abs(er2_server_clock_offset_seconds) > %d' % c.er2ClockOffsetSeconds,
            c.er2ClockOffsetFor,
            'Enterprise Recon master server {{ $labels.target }} clock is off by {{ $value | humanizeDuration }}',
            'The clock of the master server {{ $labels.target }} differs from the exporter\'s by more than %s: licence expiry and scan schedules run on the server\'s clock and start or stop at the wrong time. Check NTP on the master server (and on the exporter\'s host).' % (if c.er2ClockOffsetSeconds % 60 == 0 then '%d minutes' % (c.er2ClockOffsetSeconds / 60) else '%d seconds' % c.er2ClockOffsetSeconds)
          ),
          // Measured on the server's clock (the load timestamp is the
          // server's), so a clock offset does not make the sample look old.
          rule(
            'ER2ServerLoadStale',
            'warning',
            'time() + er2_server_clock_offset_seconds - er2_server_load_timestamp_seconds > %d' % c.er2LoadMaxAgeSeconds,
            '15m',
            'Enterprise Recon master server {{ $labels.target }} reports a load sample {{ $value | humanizeDuration }} old',
            'The newest load sample of the master server {{ $labels.target }} is older than %s: the server no longer records its CPU and disk load, so ER2ServerDiskHigh and ER2ServerCPUStolenHigh judge old figures. Check the master server\'s services and restart the one that records load (or the server) in a maintenance window.' % (if c.er2LoadMaxAgeSeconds % 3600 == 0 then '%dh' % (c.er2LoadMaxAgeSeconds / 3600) else '%ds' % c.er2LoadMaxAgeSeconds)
          ),
          // One alert per master server, its value the number of risk
          // endpoints refused; `risk` (the PRO edition) is not a permission.
          rule(
            'ER2RiskAdminPermissionMissing',
            'warning',
            'count without (feature) (er2_feature_available{feature=~"risk_levels|risk_profiles|datatype_rules"} == 0) > 0',
            c.er2PermissionFor,
            'The Enterprise Recon API user of {{ $labels.target }} lacks the Risk Admin permission',
            'The master server {{ $labels.target }} refuses {{ $value }} of the risk endpoints (risk levels, risk profiles, data type rules) to the exporter\'s API user with "Access denied": their series are missing from the risk metrics. Give the API user the Risk Admin (or Global Admin) permission on the master server (Users > the user > Permissions).'
          ),
        ],
      }],
    },
  },
}
