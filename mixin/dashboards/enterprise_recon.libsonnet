// The Enterprise Recon licences dashboard. Its rows are `dashboardRows.enterprise_recon`:
// a family file adds a row with { dashboardRows+:: { enterprise_recon+: [row] } }.
local d = import '../lib/dashboard.libsonnet';
local freshness = import '../lib/freshness.libsonnet';
local s = d.selectors;

{
  dashboardRows+:: {
    enterprise_recon+: [
      freshness.row('er2_up{%(sel)s}', 'Enterprise Recon'),
      d.row('Licence', [
        d.panel(
          'table',
          'Licence state',
          'The current state of each master server\'s licence (licensed, expired, exceeded or absent). Legacy licences report no state.',
          'none',
          [
            d.instant('er2_license_state{%(sel)s} == 1' % s),
          ],
          [0, 0, 6, 6],
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
        d.panel(
          'stat',
          'Time until licence expiry',
          'Time left until the licence expires (er2_license_expiry_timestamp_seconds - time()). Orange below %d days, red below %d days, as ER2LicenseExpiringSoon warns and pages; negative once expired.' % [$._config.er2ExpiryWarningDays, $._config.er2ExpiryCriticalDays],
          'dtdurations',
          [
            d.target('er2_license_expiry_timestamp_seconds{%(sel)s} - time()' % s, '{{target}}'),
          ],
          [6, 0, 6, 6],
          defaults={
            "thresholds": {
              "mode": "absolute",
              "steps": [
                {
                  "color": "red",
                  "value": null
                },
                {
                  "color": "orange",
                  "value": $._config.er2ExpiryCriticalDays * 86400
                },
                {
                  "color": "green",
                  "value": $._config.er2ExpiryWarningDays * 86400
                }
              ]
            }
          },
        ),
        d.panel(
          'table',
          'Licence',
          'Company, edition and licensing model (legacy, sitewide, non_sitewide) of each master server\'s licence.',
          'none',
          [
            d.instant('er2_license_info{%(sel)s}' % s),
          ],
          [12, 0, 12, 6],
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
      d.row('Data allowance and pools', [
        d.panel(
          'bargauge',
          'Data allowance used',
          'Share of each data allowance pool in use. At 100% the licence is exceeded and scan results are held back.',
          'percentunit',
          [
            d.target('er2_data_allowance_used_bytes{%(sel)s} / (er2_data_allowance_limit_bytes{%(sel)s} > 0)' % s, '{{target}} {{description}}'),
          ],
          [0, 0, 8, 8],
          defaults={
            "thresholds": {
              "mode": "absolute",
              "steps": [
                {
                  "color": "green",
                  "value": null
                },
                {
                  "color": "orange",
                  "value": $._config.er2PoolWarning
                },
                {
                  "color": "red",
                  "value": 1
                }
              ]
            },
            "min": 0,
            "max": 1
          },
        ),
        d.panel(
          'timeseries',
          'Data allowance used and limit',
          'Scan data counted against each data allowance pool, and the pool\'s limit.',
          'decbytes',
          [
            d.target('er2_data_allowance_used_bytes{%(sel)s}' % s, '{{target}} {{pool}} used'),
            d.target('er2_data_allowance_limit_bytes{%(sel)s}' % s, '{{target}} {{pool}} limit'),
          ],
          [8, 0, 16, 8],
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
          'Licence pools assigned',
          'Share of each count licence pool (server, workstation, ...) assigned to targets. New targets cannot be licensed from a full pool.',
          'percentunit',
          [
            d.target('er2_license_pool_used{%(sel)s} / (er2_license_pool_limit{%(sel)s} > 0)' % s, '{{target}} {{description}}'),
          ],
          [0, 8, 8, 8],
          defaults={
            "thresholds": {
              "mode": "absolute",
              "steps": [
                {
                  "color": "green",
                  "value": null
                },
                {
                  "color": "orange",
                  "value": $._config.er2PoolWarning
                },
                {
                  "color": "red",
                  "value": 1
                }
              ]
            },
            "min": 0,
            "max": 1
          },
        ),
        d.panel(
          'timeseries',
          'Licence pools used and limit',
          'Licences assigned from each count pool, and the pool\'s limit.',
          'short',
          [
            d.target('er2_license_pool_used{%(sel)s}' % s, '{{target}} {{pool}} used'),
            d.target('er2_license_pool_limit{%(sel)s}' % s, '{{target}} {{pool}} limit'),
          ],
          [8, 8, 8, 8],
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
          'Licensed targets by pool',
          'Targets counted by the licence pool they consume from.',
          'short',
          [
            d.target('er2_licensed_targets{%(sel)s}' % s, '{{target}} {{pool}}'),
          ],
          [16, 8, 8, 8],
        ),
      ]),
      d.row('Scans and data usage', [
        d.panel(
          'stat',
          'Pending scan data',
          'Scan data held back, unprocessed, because the licence is expired or exceeded. Findings of those scans are not visible until the licence is fixed.',
          'decbytes',
          [
            d.target('er2_pending_scan_data_bytes{%(sel)s}' % s, '{{target}}'),
          ],
          [0, 0, 6, 6],
          defaults={
            "thresholds": {
              "mode": "absolute",
              "steps": [
                {
                  "color": "green",
                  "value": null
                },
                {
                  "color": "orange",
                  "value": 1
                }
              ]
            }
          },
        ),
        d.panel(
          'stat',
          'Pending scans',
          'Scans whose data is held back, unprocessed, because the licence is expired or exceeded.',
          'short',
          [
            d.target('er2_pending_scans{%(sel)s}' % s, '{{target}}'),
          ],
          [6, 0, 6, 6],
          defaults={
            "thresholds": {
              "mode": "absolute",
              "steps": [
                {
                  "color": "green",
                  "value": null
                },
                {
                  "color": "orange",
                  "value": 1
                }
              ]
            }
          },
        ),
        d.panel(
          'timeseries',
          'Data usage by attribution',
          'Scanned data summed by the pool it is attributed to and by location type.',
          'decbytes',
          [
            d.target('sum by (target, attribution, location_type) (er2_data_usage_bytes{%(sel)s})' % s, '{{target}} {{attribution}} {{location_type}}'),
          ],
          [12, 0, 12, 6],
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
          'table',
          'Largest scan locations',
          'The 20 locations with the most scanned data. Needs `licenses: {per_location: true}` in the module (one series per location).',
          'decbytes',
          [
            d.instant('topk(20, er2_location_data_usage_bytes{%(sel)s})' % s),
          ],
          [0, 6, 24, 8],
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
      ]),
      d.row('Risk', [
        d.panel(
          'stat',
          'Risk scoring',
          'Whether the edition includes risk scoring (PRO edition); without it the risk metrics are absent.',
          'none',
          [
            d.target('er2_feature_available{%(sel)s, feature="risk"}' % s, '{{target}}'),
          ],
          [0, 0, 6, 8],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "not in this edition",
                    "color": "text",
                    "index": 0
                  },
                  "1": {
                    "text": "available",
                    "color": "green",
                    "index": 1
                  }
                }
              }
            ]
          },
        ),
        d.panel(
          'bargauge',
          'Risk profiles by level',
          'Risk profiles by their risk level (PRO edition).',
          'short',
          [
            d.target('er2_risk_profiles{%(sel)s}' % s, '{{target}} {{level}}'),
          ],
          [6, 0, 6, 8],
        ),
        d.panel(
          'stat',
          'Risk levels and data type rules',
          'Defined risk levels, and data type rules by whether they are sealed (PRO edition).',
          'short',
          [
            d.target('er2_risk_levels{%(sel)s}' % s, '{{target}} risk levels'),
            d.target('sum by (target, sealed) (er2_datatype_rules{%(sel)s})' % s, '{{target}} rules sealed={{sealed}}'),
          ],
          [12, 0, 12, 8],
          options={ colorMode: 'none' },
        ),
      ]),
    ],
  },
  grafanaDashboards+:: {
    'enterprise_recon.json': d.dashboard(
      $._config,
      'appliance-exporter-er2',
      'Enterprise Recon licences',
      'Licence state and expiry, licence pools, data allowance, pending scan data, risk inventory and master server health (load, stolen CPU, disk, clock) of Ground Labs Enterprise Recon master servers, from appliance_exporter.',
      ["enterprise-recon"],
      'er2_up',
      $.dashboardRows.enterprise_recon,
    ),
  },
}
