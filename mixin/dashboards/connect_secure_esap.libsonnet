// The Connect Secure dashboard's "Host checker (ESAP)" row, from the `esap`
// collector: the active ESAP package and its age, and whether a newer one
// was uploaded but not activated.
local d = import '../lib/dashboard.libsonnet';
local s = d.selectors;

{
  local c = $._config,
  local mapped(list) = {
    mappings: [{
      type: 'value',
      options: {
        [m[0]]: { text: m[1], color: m[2], index: i }
        for i in std.range(0, std.length(list) - 1)
        for m in [list[i]]
      },
    }],
  },

  dashboardRows+:: {
    connect_secure+: [
      d.row('Host checker (ESAP)', [
        d.panel(
          'table',
          'ESAP versions',
          'The Endpoint Security Assessment Plug-in (the host checker\'s antivirus and OS definitions, built on the OPSWAT SDK): the active package host checks use, the default one, and the OPSWAT SDK version.',
          'none',
          [d.instant('ics_esap_info{%(sel)s}' % s)],
          [0, 0, 12, 6],
          transformations=[{
            id: 'organize',
            options: { excludeByName: d.hiddenColumns { Value: true }, indexByName: {}, renameByName: {} },
          }],
        ),
        d.panel(
          'stat',
          'Newer ESAP package',
          'Whether an uploaded ESAP package has a higher version than the active one: host checks then judge endpoints against older definitions. Alert: ICSESAPPackageNotActivated after %s.' % c.esapNotActivatedFor,
          'none',
          [d.target('ics_esap_newer_package_available{%(sel)s}' % s, '{{target}}')],
          [12, 0, 4, 6],
          defaults=mapped([['0', 'active is newest', 'green'], ['1', 'NOT ACTIVATED', 'orange']]),
        ),
        d.panel(
          'stat',
          'ESAP packages uploaded',
          'ESAP packages uploaded to the gateway (without the ones Ivanti bundles with it).',
          'short',
          [d.target('ics_esap_packages{%(sel)s}' % s, '{{target}}')],
          [16, 0, 4, 6],
        ),
        d.panel(
          'stat',
          'Active ESAP package age',
          'Time since the active ESAP package was last activated (its last-activated-time).',
          's',
          [d.target('time() - ics_esap_active_activated_timestamp_seconds{%(sel)s}' % s, '{{target}}')],
          [20, 0, 4, 6],
        ),
      ]),
    ],
  },
}
