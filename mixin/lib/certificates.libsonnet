// The TLS certificate each appliance presents over https (verified or
// not): the days it has left, when it expires and since when it is
// valid, the next to expire first. Every family dashboard has this row,
// and the fleet overview shows it for every family at once.
local d = import 'dashboard.libsonnet';
local s = d.selectors;

{
  local column = d.column,
  local hidden = d.hiddenColumns,

  // `up` selects the family's up series (e.g. `ics_up{%(sel)s}`), so only
  // that family's targets are shown.
  panel(config, up, pos):: d.panel(
    'table',
    'TLS certificate expiry',
    'The certificate every https target presented in its last collection, whether verified or not (insecure_skip_verify): the days it has left, sorted with the next to expire first, its expiry and its start. Plain http targets have none. Alerts: ApplianceCertificateExpiringSoon (%d days warning, %d days critical), ApplianceCertificateExpired, ApplianceCertificateNotYetValid.' % [config.certificateExpiryWarningDays, config.certificateExpiryCriticalDays],
    'd',
    [
      d.instant('sort(max by (target, subject, issuer, sha256) ((appliance_exporter_upstream_tls_certificate_not_after_timestamp_seconds{%(sel)s} and on (job, instance, target) %(up)s) - time()) / 86400)' % (s { up: up % s })),
      d.instant('max by (target, subject, issuer, sha256) (appliance_exporter_upstream_tls_certificate_not_after_timestamp_seconds{%(sel)s} and on (job, instance, target) %(up)s) * 1000' % (s { up: up % s })),
      d.instant('max by (target, subject, issuer, sha256) (appliance_exporter_upstream_tls_certificate_not_before_timestamp_seconds{%(sel)s} and on (job, instance, target) %(up)s) * 1000' % (s { up: up % s })),
    ],
    pos,
    defaults={
      decimals: 1,
      thresholds: {
        mode: 'absolute',
        steps: [
          { color: 'red', value: null },
          { color: 'orange', value: config.certificateExpiryCriticalDays },
          { color: 'green', value: config.certificateExpiryWarningDays },
        ],
      },
    },
    overrides=[
      column('Value #A', 'Days left', 'd', { 'custom.cellOptions': { type: 'color-background' } }),
      column('Value #B', 'Expires', 'dateTimeAsIso'),
      column('Value #C', 'Valid from', 'dateTimeAsIso'),
      column('sha256', 'SHA-256', 'none'),
    ],
    transformations=[{ id: 'organize', options: { excludeByName: hidden, indexByName: { target: 0, subject: 1, issuer: 2, 'Value #A': 3, 'Value #B': 4, 'Value #C': 5, sha256: 6 }, renameByName: {} } }],
    options={ sortBy: [{ displayName: 'Days left', desc: false }] },
  ),

  // The row of a family dashboard.
  row(config, up):: d.row('TLS certificate', [$.panel(config, up, [0, 0, 24, 6])]),
}
