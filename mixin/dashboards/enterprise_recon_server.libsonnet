// The Enterprise Recon dashboard's "Master server" row: the `server`
// collector's version and host name, load (CPU, stolen CPU, disk, memory)
// with the alert thresholds drawn, the clock offset and the age of the
// newest load sample.
local d = import '../lib/dashboard.libsonnet';
local s = d.selectors;

{
  local c = $._config,
  local steps(list) = { thresholds: { mode: 'absolute', steps: list } },
  local lines = { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' } },

  dashboardRows+:: {
    enterprise_recon+: [
      d.row('Master server', [
        d.panel(
          'table',
          'Master server',
          'Host name and Enterprise Recon version each master server reports (GET /v1/server).',
          'none',
          [d.instant('er2_server_info{%(sel)s}' % s)],
          [0, 0, 8, 6],
          transformations=[{
            id: 'organize',
            options: {
              excludeByName: { Time: true, Value: true, __name__: true, job: true, instance: true },
              indexByName: {},
              renameByName: {},
            },
          }],
        ),
        d.panel(
          'stat',
          'Clock offset',
          'The master server\'s clock minus the exporter\'s (positive: the server is ahead). Licence expiry and scan schedules run on the server\'s clock. Red beyond %d seconds either way, where ER2ServerClockOffset warns.' % c.er2ClockOffsetSeconds,
          's',
          [d.target('er2_server_clock_offset_seconds{%(sel)s}' % s, '{{target}}')],
          [8, 0, 5, 6],
          defaults=steps([
            { color: 'red', value: null },
            { color: 'green', value: -c.er2ClockOffsetSeconds },
            { color: 'red', value: c.er2ClockOffsetSeconds + 1 },
          ]),
        ),
        d.panel(
          'stat',
          'Load sample age',
          'How old the newest load sample is, on the server\'s own clock (time() + clock offset - sample time). Orange above %ds, where ER2ServerLoadStale warns: the server no longer records its load.' % c.er2LoadMaxAgeSeconds,
          's',
          [d.target('time() + er2_server_clock_offset_seconds{%(sel)s} - er2_server_load_timestamp_seconds{%(sel)s}' % s, '{{target}}')],
          [13, 0, 5, 6],
          defaults=steps([
            { color: 'green', value: null },
            { color: 'orange', value: c.er2LoadMaxAgeSeconds },
          ]),
        ),
        d.panel(
          'bargauge',
          'Disk used',
          'Disk space in use on each master server in its newest load sample. ER2ServerDiskHigh warns above %g%% and pages above %g%% (10-minute average).' % [c.er2DiskWarning * 100, c.er2DiskCritical * 100],
          'percentunit',
          [d.target('er2_server_disk_used_ratio{%(sel)s}' % s, '{{target}}')],
          [18, 0, 6, 6],
          defaults={ min: 0, max: 1 } + steps([
            { color: 'green', value: null },
            { color: 'orange', value: c.er2DiskWarning },
            { color: 'red', value: c.er2DiskCritical },
          ]),
        ),
        d.panel(
          'timeseries',
          'CPU and stolen CPU',
          'CPU load of each master server, and the CPU time its hypervisor gave to other virtual machines (stolen). The line is ER2ServerCPUStolenHigh\'s threshold, %g%% stolen averaged over %s; a high CPU load alone is not alerted (scans use the CPU).' % [c.er2StolenCPUWarning * 100, c.utilisationWindow],
          'percentunit',
          [
            d.target('er2_server_cpu_ratio{%(sel)s}' % s, '{{target}} CPU'),
            d.target('er2_server_cpu_stolen_ratio{%(sel)s}' % s, '{{target}} stolen'),
          ],
          [0, 6, 12, 8],
          defaults=lines { min: 0, max: 1 } + steps([
            { color: 'green', value: null },
            { color: 'orange', value: c.er2StolenCPUWarning },
          ]),
        ),
        d.panel(
          'timeseries',
          'Disk and memory used',
          'Disk space and memory in use on each master server (memory only where the server sends it). The lines are ER2ServerDiskHigh\'s thresholds, %g%% (warning) and %g%% (critical) averaged over %s.' % [c.er2DiskWarning * 100, c.er2DiskCritical * 100, c.utilisationWindow],
          'percentunit',
          [
            d.target('er2_server_disk_used_ratio{%(sel)s}' % s, '{{target}} disk'),
            d.target('er2_server_memory_used_ratio{%(sel)s}' % s, '{{target}} memory'),
          ],
          [12, 6, 12, 8],
          defaults=lines { min: 0, max: 1 } + steps([
            { color: 'green', value: null },
            { color: 'orange', value: c.er2DiskWarning },
            { color: 'red', value: c.er2DiskCritical },
          ]),
        ),
      ]),
    ],
  },
}
