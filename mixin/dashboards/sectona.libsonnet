// The Sectona entitlements dashboard. Its rows are `dashboardRows.sectona`:
// a family file adds a row with { dashboardRows+:: { sectona+: [row] } }.
local d = import '../lib/dashboard.libsonnet';
local certificates = import '../lib/certificates.libsonnet';
local freshness = import '../lib/freshness.libsonnet';
local s = d.selectors;

{
  dashboardRows+:: {
    sectona+: [
      freshness.row('sectona_up{%(sel)s}', 'Sectona'),
      certificates.row($._config, 'sectona_up{%(sel)s}'),
      d.row('Entitlements', [
        d.panel(
          'bargauge',
          'Entitlements by query',
          'Entitlement rows returned by each configured GetEntitlement query.',
          'short',
          [
            d.target('sectona_entitlements{%(sel)s}' % s, '{{target}} {{query}} ({{entitlement_type}})'),
          ],
          [0, 0, 12, 8],
        ),
        d.panel(
          'timeseries',
          'Entitlements over time',
          'Entitlement rows per query over time: a jump is a grant, a drop a revocation.',
          'short',
          [
            d.target('sectona_entitlements{%(sel)s}' % s, '{{target}} {{query}}'),
          ],
          [12, 0, 12, 8],
          defaults={
            "custom": {
              "drawStyle": "line",
              "lineWidth": 1,
              "fillOpacity": 10,
              "showPoints": "never"
            }
          },
        ),
        d.panel(
          'bargauge',
          'Entitlements by policy',
          'Entitlement rows by Policy Name, per query.',
          'short',
          [
            d.target('sectona_entitlements_by_policy{%(sel)s}' % s, '{{target}} {{query}} {{policy}}'),
          ],
          [0, 8, 12, 8],
        ),
        d.panel(
          'bargauge',
          'Entitlements by asset type',
          'Entitlement rows by Asset Type, per query.',
          'short',
          [
            d.target('sectona_entitlements_by_asset_type{%(sel)s}' % s, '{{target}} {{query}} {{asset_type}}'),
          ],
          [12, 8, 12, 8],
        ),
      ]),
      d.row('Queries and API', [
        d.panel(
          'state-timeline',
          'Query success',
          'Whether each query was answered with IsSuccess true.',
          'none',
          [
            d.target('sectona_query_success{%(sel)s}' % s, '{{target}} {{query}}'),
          ],
          [0, 0, 12, 8],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "failed",
                    "color": "red",
                    "index": 0
                  },
                  "1": {
                    "text": "ok",
                    "color": "green",
                    "index": 1
                  }
                }
              }
            ],
            "custom": {
              "fillOpacity": 80,
              "lineWidth": 0
            }
          },
        ),
        d.panel(
          'table',
          'Query status',
          'Every query: 1 when it succeeded, 0 when it failed, with the error code and its description from the API document for a failing query.',
          'none',
          [
            d.instant('sectona_query_success{%(sel)s} * on (job, instance, target, query) group_left (code, description) (sectona_query_error{%(sel)s} == 1) or on (job, instance, target, query) sectona_query_success{%(sel)s}' % s),
          ],
          [12, 0, 12, 8],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "failed",
                    "color": "red",
                    "index": 0
                  },
                  "1": {
                    "text": "ok",
                    "color": "green",
                    "index": 1
                  }
                }
              }
            ]
          },
          transformations=[
            {
              "id": "organize",
              "options": {
                "excludeByName": {
                  "Time": true,
                  "__name__": true,
                  "job": true,
                  "instance": true
                },
                "indexByName": {},
                "renameByName": {}
              }
            }
          ],
        ),
        d.panel(
          'table',
          'API version',
          'The Version the Sectona API reports.',
          'none',
          [
            d.instant('sectona_api_info{%(sel)s}' % s),
          ],
          [0, 8, 24, 4],
          transformations=[
            {
              "id": "organize",
              "options": {
                "excludeByName": {
                  "Time": true,
                  "Value": true,
                  "__name__": true,
                  "job": true,
                  "instance": true
                },
                "indexByName": {},
                "renameByName": {}
              }
            }
          ],
        ),
      ]),
    ],
  },
  grafanaDashboards+:: {
    'sectona.json': d.dashboard(
      $._config,
      'appliance-exporter-sectona',
      'Sectona entitlements',
      'Entitlements of watched users, accounts and assets, and entitlement query errors of Sectona PAM, from appliance_exporter.',
      ["sectona"],
      'sectona_up',
      $.dashboardRows.sectona,
    ),
  },
}
