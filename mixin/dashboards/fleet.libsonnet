// The fleet overview: every target of every family on one page, for the
// question an operator asks first: is everything read, is it current,
// which licence runs out next, which master server is short of disk or
// CPU or off in time, what is near its capacity. Its rows are
// `dashboardRows.fleet`; the certificate expiry of the appliances belongs
// in a row of its own here once the exporter reports it.
local d = import '../lib/dashboard.libsonnet';
local ics = import '../lib/connect_secure.libsonnet';
local s = d.selectors;

{
  local c = $._config,
  local up = '{__name__=~"er2_up|ics_up|sectona_up", %(sel)s}' % s,
  local percent(warning) = {
    min: 0,
    thresholds: {
      mode: 'absolute',
      steps: [
        { color: 'green', value: null },
        { color: 'orange', value: warning },
        { color: 'red', value: 1 },
      ],
    },
  },
  local column(field, name, unit, extra={}) = {
    matcher: { id: 'byName', options: field },
    properties: [
      { id: 'displayName', value: name },
      { id: 'unit', value: unit },
    ] + [{ id: k, value: extra[k] } for k in std.objectFields(extra)],
  },
  local hidden = { Time: true, job: true, instance: true, __name__: true },

  dashboardRows+:: {
    fleet+: [
      d.row('Targets', [
        d.panel(
          'stat',
          'Targets read',
          'Targets whose appliance answered and accepted the credentials in the last scrape, of all targets of the selected jobs. Alert: ApplianceDown.',
          'none',
          [
            d.instant('count(max by (target) (%s) == 1) or vector(0)' % up, 'up'),
            d.instant('count(max by (target) (%s))' % up, 'all'),
          ],
          [0, 0, 6, 4],
          options={ colorMode: 'none', textMode: 'value_and_name' },
        ),
        d.panel(
          'stat',
          'Targets down',
          'Targets whose appliance did not answer or refused the credentials in the last scrape. Alert: ApplianceDown.',
          'none',
          [d.instant('count(max by (target) (%s) == 0) or vector(0)' % up, 'down')],
          [6, 0, 6, 4],
          defaults={ thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] } },
        ),
        d.panel(
          'stat',
          'Collectors failing',
          'Collector runs of the last scrape that failed, over every target. Alert: ApplianceExporterCollectorFailing.',
          'none',
          [d.instant('sum(1 - appliance_exporter_collector_success{%(sel)s}) or vector(0)' % s, 'failing')],
          [12, 0, 6, 4],
          defaults={ thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 1 }] } },
        ),
        d.panel(
          'stat',
          'Oldest data',
          'The oldest appliance data served: the cached result age of modules with min_interval (0 when fetched for the scrape). Alert: ApplianceExporterCachedDataStale.',
          's',
          [d.instant('max(appliance_exporter_cached_result_age_seconds{%(sel)s}) or max(%(up)s * 0)' % (s { up: up }), 'oldest')],
          [18, 0, 6, 4],
          defaults={ thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: c.cachedResultMaxAgeSeconds }] } },
          options={ colorMode: 'value' },
        ),
        d.panel(
          'table',
          'Every target',
          'One row per target of every family: whether the appliance was read (1) in the last scrape, how many of its collectors failed, and how old its data is. Sorted with the unread first.',
          'none',
          [
            d.instant('max by (target, family) (label_replace(%s, "family", "$1", "__name__", "(.+)_up"))' % up),
            d.instant('sum by (target) (1 - appliance_exporter_collector_success{%(sel)s})' % s),
            d.instant('max by (target) (appliance_exporter_cached_result_age_seconds{%(sel)s}) or max by (target) (%(up)s * 0)' % (s { up: up })),
          ],
          [0, 4, 24, 8],
          overrides=[
            column('Value #A', 'Read', 'none', { mappings: [{ type: 'value', options: { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } } }] }),
            column('Value #B', 'Collectors failing', 'none'),
            column('Value #C', 'Data age', 's'),
          ],
          transformations=[{ id: 'organize', options: { excludeByName: hidden, indexByName: { family: 0, target: 1 }, renameByName: {} } }],
          options={ sortBy: [{ displayName: 'Read', desc: false }] },
        ),
      ]),
      d.row('Licences', [
        d.panel(
          'table',
          'Days until licence expiry',
          'Every Enterprise Recon licence of every target, with its company, edition and model, sorted by the days left: the next to expire first. Alerts: ER2LicenseExpiringSoon (%d days warning, %d days critical), ER2LicenseExpired.' % [c.er2ExpiryWarningDays, c.er2ExpiryCriticalDays],
          'd',
          [d.instant('sort(max by (target, company, edition, model) ((er2_license_expiry_timestamp_seconds{%(sel)s} - time()) / 86400 * on (job, instance, target) group_left (company, edition, model) er2_license_info{%(sel)s}))' % s)],
          [0, 0, 12, 8],
          defaults={
            decimals: 1,
            thresholds: {
              mode: 'absolute',
              steps: [
                { color: 'red', value: null },
                { color: 'orange', value: c.er2ExpiryCriticalDays },
                { color: 'green', value: c.er2ExpiryWarningDays },
              ],
            },
          },
          overrides=[column('Value', 'Days left', 'd', { 'custom.cellOptions': { type: 'color-background' } })],
          transformations=[{ id: 'organize', options: { excludeByName: hidden, indexByName: { target: 0, company: 1, edition: 2, model: 3, Value: 4 }, renameByName: {} } }],
          options={ sortBy: [{ displayName: 'Days left', desc: false }] },
        ),
        d.panel(
          'table',
          'Licence states',
          'The state every Enterprise Recon master server reports for its licence (legacy licences have none). Alerts: ER2LicenseExpired, ER2LicenseExceeded, ER2LicenseAbsent, ER2LicenseStateUnknown.',
          'none',
          [d.instant('max by (target, state) (er2_license_state{%(sel)s} == 1)' % s)],
          [12, 0, 12, 8],
          transformations=[{ id: 'organize', options: { excludeByName: hidden { Value: true }, indexByName: {}, renameByName: {} } }],
        ),
      ]),
      d.row('Enterprise Recon master servers', [
        d.panel(
          'table',
          'Master servers',
          'Every Enterprise Recon master server with its version and host name, the disk and the CPU stolen by the hypervisor in its newest load sample, and its clock offset from the exporter\'s; the fullest disk first. Alerts: ER2ServerDiskHigh (%g%% warning, %g%% critical), ER2ServerCPUStolenHigh (%g%%), ER2ServerClockOffset (%ds).' % [c.er2DiskWarning * 100, c.er2DiskCritical * 100, c.er2StolenCPUWarning * 100, c.er2ClockOffsetSeconds],
          'none',
          [
            d.instant('max by (target, version, host_name) (er2_server_info{%(sel)s})' % s),
            d.instant('max by (target) (er2_server_disk_used_ratio{%(sel)s})' % s),
            d.instant('max by (target) (er2_server_cpu_stolen_ratio{%(sel)s})' % s),
            d.instant('max by (target) (er2_server_clock_offset_seconds{%(sel)s})' % s),
          ],
          [0, 0, 24, 6],
          overrides=[
            column('Value #B', 'Disk used', 'percentunit'),
            column('Value #C', 'Stolen CPU', 'percentunit'),
            column('Value #D', 'Clock offset', 's'),
          ],
          transformations=[{ id: 'organize', options: { excludeByName: hidden { 'Value #A': true }, indexByName: { target: 0, version: 1, host_name: 2 }, renameByName: {} } }],
          options={ sortBy: [{ displayName: 'Disk used', desc: true }] },
        ),
      ]),
      d.row('Capacity', [
        d.panel(
          'bargauge',
          'Capacity use',
          'The share used of every capacity the fleet reports: Connect Secure signed-in users of each gateway\'s own capacity (SNMP licensed capacity, else its leased Concurrent Users), licences leased of a licence server\'s configured capacity, Enterprise Recon data allowances and licence pools. Alerts at %d%%.' % (c.capacityWarning * 100),
          'percentunit',
          [
            d.target('max by (target) (ics_signed_in_users{%(sel)s}) / on (target) (%(capacity)s)' % (s { capacity: ics.capacity(c, 'target=~"$target"', s.sel) }), '{{target}} signed-in users'),
            d.target('max by (target, feature) (sum without (client) (ics_license_leased{%(sel)s}) / (ics_license_capacity{%(sel)s} > 0))' % s, '{{target}} {{feature}} leased'),
            d.target('max by (target, pool) (er2_data_allowance_used_bytes{%(sel)s} / (er2_data_allowance_limit_bytes{%(sel)s} > 0))' % s, '{{target}} {{pool}} data allowance'),
            d.target('max by (target, pool) (er2_license_pool_used{%(sel)s} / (er2_license_pool_limit{%(sel)s} > 0))' % s, '{{target}} {{pool}} pool'),
          ],
          [0, 0, 24, 10],
          defaults=percent(c.capacityWarning),
        ),
      ]),
    ],
  },
  grafanaDashboards+:: {
    'fleet.json': d.dashboard(
      c,
      'appliance-exporter-fleet',
      'Appliance fleet overview',
      'Every target of every appliance family read by appliance_exporter: whether it is read and current, every licence by the days it has left, the health of every Enterprise Recon master server, and the use of every capacity.',
      ['fleet'],
      '{__name__=~"er2_up|ics_up|sectona_up"}',
      $.dashboardRows.fleet,
    ),
  },
}
