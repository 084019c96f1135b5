// Whether a dashboard's data is current: the appliance answered
// (`*_up`), each collector succeeded, and how old the data is (the
// exporter's cache for modules with `min_interval`, and Prometheus' last
// scrape). Every family dashboard opens with this row.
local d = import 'dashboard.libsonnet';
local s = d.selectors;

{
  local upDefaults = {
    mappings: [{
      type: 'value',
      options: {
        '0': { text: 'down', color: 'red', index: 0 },
        '1': { text: 'up', color: 'green', index: 1 },
      },
    }],
    custom: { fillOpacity: 80, lineWidth: 0 },
  },

  // `up` selects the family's up series, e.g. `ics_up`.
  agePanel(up, pos):: d.panel(
    'timeseries',
    'Age of the data',
    'How old the appliance data on this dashboard is: the age of the data the exporter serves from its cache (modules with min_interval; 0 when fetched for the scrape), and the time since Prometheus last scraped it. Alert: ApplianceExporterCachedDataStale.',
    's',
    [
      d.target('max by (target) (appliance_exporter_cached_result_age_seconds{%(sel)s}) or max by (target) (%(up)s * 0)' % (s { up: up % s }), '{{target}} cached data'),
      d.target('max by (target) (time() - timestamp(%(up)s))' % (s { up: up % s }), '{{target}} last scrape'),
    ],
    pos,
    defaults={ min: 0, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' } },
  ),

  row(up, family):: d.row('Data freshness', [
    d.panel(
      'state-timeline',
      '%s up' % family,
      'Whether the appliance answered and accepted the credentials in each scrape. Alert: ApplianceDown.',
      'none',
      [d.target(up % s, '{{target}}')],
      [0, 0, 8, 6],
      defaults=upDefaults,
    ),
    d.panel(
      'state-timeline',
      'Collector success',
      'Whether each collector of these appliances succeeded; a failing collector leaves its panels empty or old. Alert: ApplianceExporterCollectorFailing.',
      'none',
      [d.target('appliance_exporter_collector_success{%(sel)s} and on (job, instance, target) %(up)s' % (s { up: up % s }), '{{target}} {{collector}}')],
      [8, 0, 8, 6],
      defaults=upDefaults,
    ),
    $.agePanel(up, [16, 0, 8, 6]),
  ]),
}
