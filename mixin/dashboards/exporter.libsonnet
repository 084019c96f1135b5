// The appliance_exporter health dashboard. Its rows are `dashboardRows.exporter`:
// a family file adds a row with { dashboardRows+:: { exporter+: [row] } }.
local d = import '../lib/dashboard.libsonnet';
local freshness = import '../lib/freshness.libsonnet';
local s = d.selectors;

{
  dashboardRows+:: {
    exporter+: [
      d.row('Appliances and collectors', [
        d.panel(
          'state-timeline',
          'Appliances up',
          '1 when the appliance answered and accepted the credentials in the scrape (er2_up, ics_up, sectona_up).',
          'none',
          [
            d.target('{__name__=~"er2_up|ics_up|sectona_up", %(sel)s}' % s, '{{target}}'),
          ],
          [0, 0, 12, 8],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "down",
                    "color": "red",
                    "index": 0
                  },
                  "1": {
                    "text": "up",
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
          'state-timeline',
          'Collector success',
          'Whether each collector\'s last run succeeded. The exporter\'s log names the endpoint and the reason of a failure.',
          'none',
          [
            d.target('appliance_exporter_collector_success{%(sel)s}' % s, '{{target}} {{collector}}'),
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
            ],
            "custom": {
              "fillOpacity": 80,
              "lineWidth": 0
            }
          },
        ),
        d.panel(
          'timeseries',
          'Collector duration',
          'How long each collector\'s last run took; compare with the scrape timeout.',
          's',
          [
            d.target('appliance_exporter_collector_duration_seconds{%(sel)s}' % s, '{{target}} {{collector}}'),
          ],
          [0, 8, 12, 8],
          defaults={
            "custom": {
              "drawStyle": "line",
              "lineWidth": 1,
              "fillOpacity": 10,
              "showPoints": "never"
            }
          },
        ),
        freshness.agePanel('{__name__=~"er2_up|ics_up|sectona_up", %(sel)s}', [12, 8, 12, 8]),
      ]),
      d.row('Upstream requests', [
        d.panel(
          'timeseries',
          'Upstream requests',
          'Requests to the appliances per second, by endpoint and HTTP status (error, timeout). Counted on /metrics scrapes only.',
          'reqps',
          [
            d.target('sum by (target, endpoint, code) (rate(appliance_exporter_upstream_requests_total{%(sel)s}[$__rate_interval]))' % s, '{{target}} {{endpoint}} {{code}}'),
          ],
          [0, 0, 12, 8],
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
          'timeseries',
          'Upstream latency (p90)',
          '90th percentile of appliance request latency by endpoint. Counted on /metrics scrapes only.',
          's',
          [
            d.target('histogram_quantile(0.9, sum by (target, endpoint, le) (rate(appliance_exporter_upstream_request_duration_seconds_bucket{%(sel)s}[$__rate_interval])))' % s, '{{target}} {{endpoint}}'),
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
      ]),
      d.row('The exporter process', [
        d.panel(
          'stat',
          'Configuration reload',
          'Whether the last configuration (re)load succeeded. After a failed reload the previous configuration stays in force.',
          'none',
          [
            d.target('appliance_exporter_config_last_reload_successful{%(exporter)s}' % s, '{{instance}}'),
          ],
          [0, 0, 6, 8],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "FAILED",
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
        ),
        d.panel(
          'stat',
          'Since last successful reload',
          'Time since the configuration was last loaded successfully.',
          'dtdurations',
          [
            d.target('time() - appliance_exporter_config_last_reload_success_timestamp_seconds{%(exporter)s}' % s, '{{instance}}'),
          ],
          [6, 0, 6, 8],
          options={ colorMode: 'none' },
        ),
        d.panel(
          'table',
          'Build',
          'Version and source revision of each exporter instance.',
          'none',
          [
            d.instant('appliance_exporter_build_info{%(exporter)s}' % s),
          ],
          [12, 0, 12, 4],
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
          'Uptime',
          'Time since the exporter process started.',
          'dtdurations',
          [
            d.target('time() - process_start_time_seconds{%(exporter)s} and on (job, instance) appliance_exporter_build_info{%(exporter)s}' % s, '{{instance}}'),
          ],
          [12, 4, 12, 4],
          options={ colorMode: 'none' },
        ),
        d.panel(
          'timeseries',
          'Memory',
          'Resident memory of the exporter process.',
          'bytes',
          [
            d.target('process_resident_memory_bytes{%(exporter)s} and on (job, instance) appliance_exporter_build_info{%(exporter)s}' % s, '{{instance}}'),
          ],
          [0, 8, 8, 8],
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
          'timeseries',
          'CPU',
          'CPU time used by the exporter process per second (1 = one core).',
          'percentunit',
          [
            d.target('rate(process_cpu_seconds_total{%(exporter)s}[$__rate_interval]) and on (job, instance) appliance_exporter_build_info{%(exporter)s}' % s, '{{instance}}'),
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
          'timeseries',
          'File descriptors',
          'Open file descriptors (sockets to appliances and Prometheus) against the limit.',
          'short',
          [
            d.target('process_open_fds{%(exporter)s} and on (job, instance) appliance_exporter_build_info{%(exporter)s}' % s, '{{instance}} open'),
            d.target('process_max_fds{%(exporter)s} and on (job, instance) appliance_exporter_build_info{%(exporter)s}' % s, '{{instance}} limit'),
          ],
          [16, 8, 8, 8],
          defaults={
            "custom": {
              "drawStyle": "line",
              "lineWidth": 1,
              "fillOpacity": 10,
              "showPoints": "never"
            }
          },
        ),
      ]),
    ],
  },
  grafanaDashboards+:: {
    'exporter.json': d.dashboard(
      $._config,
      'appliance-exporter-health',
      'appliance_exporter health',
      'Whether appliance_exporter can read each appliance, its collectors\' success and duration, upstream requests and latency, configuration reloads and the exporter process.',
      [],
      '{__name__=~"er2_up|ics_up|sectona_up"}',
      $.dashboardRows.exporter,
    ),
  },
}
