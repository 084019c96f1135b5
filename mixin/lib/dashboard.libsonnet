// Builds the Grafana dashboards of the mixin: the variables every dashboard
// has (data source, job, instance, target), collapsible rows laid out on
// the grid, panels with their type's options, threshold lines drawn on
// time series, and tables whose several queries are merged into one.
{
  local datasource = { type: 'prometheus', uid: '${datasource}' },

  // The matchers every query of a dashboard carries: `sel` on appliance
  // series, `exporter` on the exporter's own.
  selectors:: {
    sel: 'job=~"$job", instance=~"$instance", target=~"$target"',
    exporter: 'job=~"$job", instance=~"$instance"',
  },

  // A query drawn over time, or read once (`instant`) as a table.
  target(expr, legend=null):: {
    datasource: datasource,
    expr: expr,
    range: true,
    instant: false,
  } + (if legend == null then {} else { legendFormat: legend }),
  instant(expr, legend=null):: self.target(expr, legend) {
    range: false,
    instant: true,
    format: 'table',
  },

  local options = {
    timeseries: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    stat: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'auto',
      justifyMode: 'auto',
      orientation: 'auto',
    },
    bargauge: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      displayMode: 'gradient',
      orientation: 'horizontal',
      showUnfilled: true,
    },
    table: {
      showHeader: true,
      cellHeight: 'sm',
      footer: { show: false, reducer: ['sum'], fields: '' },
    },
    'state-timeline': {
      mergeValues: true,
      showValue: 'never',
      alignValue: 'left',
      rowHeight: 0.9,
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'single', sort: 'none' },
    },
  },

  local drawn(type, defaults) =
    if type == 'timeseries' && std.length(std.get(std.get(defaults, 'thresholds', {}), 'steps', [])) > 1
    then defaults { custom+: { thresholdsStyle: { mode: 'dashed' } } }
    else defaults,

  // One panel. `pos` is [x, y, w, h] within its row; `defaults` adds to
  // fieldConfig.defaults (thresholds, min, max, mappings, custom).
  panel(type, title, description, unit, targets, pos, defaults={}, overrides=[], transformations=[], options={}):: {
    type: type,
    title: title,
    description: description,
    datasource: datasource,
    pos:: pos,
    fieldConfig: {
      defaults: drawn(type, { unit: unit } + defaults),
      overrides: overrides,
    },
    options: std.mergePatch(std.get($.panelOptions, type, {}), options),
    targets: [
      targets[i] { refId: std.char(std.codepoint('A') + i) }
      for i in std.range(0, std.length(targets) - 1)
    ],
  } + (
    local merging = std.length([t for t in transformations if std.member(['merge', 'joinByField', 'seriesToColumns'], t.id)]) > 0;
    local merged = if type == 'table' && std.length(targets) > 1 && !merging then [{ id: 'merge', options: {} }] else [];
    if merged + transformations == [] then {} else { transformations: merged + transformations }
  ),
  panelOptions:: options,

  // A table column's display name and unit (and any other properties),
  // by the field's name.
  column(field, name, unit, extra={}):: {
    matcher: { id: 'byName', options: field },
    properties: [
      { id: 'displayName', value: name },
      { id: 'unit', value: unit },
    ] + [{ id: k, value: extra[k] } for k in std.objectFields(extra)],
  },
  // The fields a table of instant queries hides.
  hiddenColumns:: { Time: true, job: true, instance: true, __name__: true },

  // A collapsible row of panels.
  row(title, panels, collapsed=false):: { title: title, panels: panels, collapsed: collapsed },

  // Rows laid out top to bottom, each panel at its `pos` below its row's
  // header; ids numbered in order.
  local layout(rows) =
    local placed = std.foldl(
      function(acc, row)
        local height = std.foldl(function(h, p) std.max(h, p.pos[1] + p.pos[3]), row.panels, 0);
        local header = {
          type: 'row',
          title: row.title,
          collapsed: row.collapsed,
          datasource: datasource,
          gridPos: { h: 1, w: 24, x: 0, y: acc.y },
        };
        local body = [
          p { gridPos: { h: p.pos[3], w: p.pos[2], x: p.pos[0], y: acc.y + 1 + p.pos[1] } }
          for p in row.panels
        ];
        {
          y: acc.y + 1 + (if row.collapsed then 0 else height),
          panels: acc.panels + (
            if row.collapsed
            then [header { panels: body }]
            else [header { panels: [] }] + body
          ),
        },
      rows,
      { y: 0, panels: [] }
    ).panels;
    local numbered(panels, first) = [
      panels[i] { id: first + i }
      for i in std.range(0, std.length(panels) - 1)
    ];
    numbered(placed, 1),

  local variable(name, label, query) = {
    name: name,
    label: label,
    type: 'query',
    datasource: datasource,
    definition: query,
    query: { query: query, refId: name },
    current: {},
    hide: 0,
    includeAll: true,
    multi: true,
    allValue: '.+',
    refresh: 2,
    regex: '',
    sort: 1,
    options: [],
  },

  // A dashboard: `upMetric` (e.g. ics_up, or a selector of several) lists
  // the jobs, instances and targets of its variables, each narrowed by the
  // ones before it.
  dashboard(config, uid, title, description, tags, upMetric, rows):: {
    uid: uid,
    title: title,
    description: description,
    tags: config.dashboardTags + tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: config.dashboardTimeFrom, to: 'now' },
    refresh: config.dashboardRefresh,
    timezone: config.dashboardTimezone,
    annotations: { list: [] },
    links: [{
      title: 'appliance_exporter dashboards',
      type: 'dashboards',
      tags: ['appliance_exporter'],
      asDropdown: true,
      includeVars: false,
      keepTime: true,
    }],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          includeAll: false,
          multi: false,
          refresh: 1,
          regex: '',
          options: [],
        },
        variable('job', 'Job', 'label_values(%s, job)' % upMetric),
        variable('instance', 'Instance', 'label_values(%s, instance)' % std.strReplace(upMetric + '{job=~"$job"}', '}{', ', ')),
        variable('target', 'Target', 'label_values(%s, target)' % std.strReplace(upMetric + '{job=~"$job", instance=~"$instance"}', '}{', ', ')),
      ],
    },
    panels: layout(rows),
  },
}
