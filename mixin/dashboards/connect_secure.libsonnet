// The Connect Secure gateway and cluster dashboard. Its rows are `dashboardRows.connect_secure`:
// a family file adds a row with { dashboardRows+:: { connect_secure+: [row] } }.
local d = import '../lib/dashboard.libsonnet';
local freshness = import '../lib/freshness.libsonnet';
local ics = import '../lib/connect_secure.libsonnet';
local s = d.selectors;

{
  dashboardRows+:: {
    connect_secure+: [
      freshness.row('ics_up{%(sel)s}', 'Connect Secure'),
      d.row('Load and users', [
        d.panel(
          'timeseries',
          'CPU, swap and disk',
          'Utilisation reported by the gateway\'s health check; the lines are the alert thresholds. Alerts: ICSCPUHigh and ICSDiskHigh above %g%% (warning) and %g%% (critical), averaged over %s; ICSSwapHigh above %g%%.' % [$._config.cpuWarning * 100, $._config.cpuCritical * 100, $._config.utilisationWindow, $._config.swapWarning * 100],
          'percentunit',
          [
            d.target('ics_cpu_utilization_ratio{%(sel)s}' % s, '{{target}} CPU'),
            d.target('ics_swap_utilization_ratio{%(sel)s}' % s, '{{target}} swap'),
            d.target('ics_disk_utilization_ratio{%(sel)s}' % s, '{{target}} disk'),
          ],
          [0, 0, 12, 8],
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
                  "value": $._config.cpuWarning
                },
                {
                  "color": "red",
                  "value": $._config.cpuCritical
                }
              ]
            },
            "min": 0,
            "max": 1,
            "custom": {
              "drawStyle": "line",
              "lineWidth": 1,
              "fillOpacity": 10,
              "showPoints": "never"
            }
          },
        ),
        d.panel(
          'stat',
          'Licensed user limit',
          'MAX-LICENSED-USERS-REACHED of the health check: when reached, further users are refused.',
          'none',
          [
            d.target('ics_max_licensed_users_reached{%(sel)s}' % s, '{{target}}'),
          ],
          [12, 0, 6, 4],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "not reached",
                    "color": "green",
                    "index": 0
                  },
                  "1": {
                    "text": "REACHED",
                    "color": "red",
                    "index": 1
                  }
                }
              }
            ]
          },
        ),
        d.panel(
          'stat',
          'User logins',
          'Whether the gateway permits user logins (user-login-permission).',
          'none',
          [
            d.target('ics_user_login_permitted{%(sel)s}' % s, '{{target}}'),
          ],
          [18, 0, 6, 4],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "REFUSED",
                    "color": "red",
                    "index": 0
                  },
                  "1": {
                    "text": "permitted",
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
          'Signed-in users / capacity',
          'Signed-in users (USER-COUNT) as a share of the gateway\'s own concurrent-user capacity: snmp_exporter\'s iveMaxConcurrentUsersLicenseCapacity of the same target where scraped, else the Concurrent Users licences its licence server leased to it (lease client = the gateway\'s host name). Empty without either. Alert: ICSSignedInUsersNearCapacity at 90%.',
          'percentunit',
          [
            d.target('max by (target) (ics_signed_in_users{%(sel)s}) / on (target) (%(capacity)s)' % (s { capacity: ics.capacity($._config, 'target=~"$target"', s.sel) }), '{{target}}'),
          ],
          [12, 4, 12, 4],
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
                  "value": $._config.capacityWarning
                },
                {
                  "color": "red",
                  "value": 1
                }
              ]
            }
          },
        ),
        d.panel(
          'timeseries',
          'Users, connections and tunnels',
          'Signed-in users (USER-COUNT), SSL connections and VPN tunnels reported by the health check.',
          'short',
          [
            d.target('ics_signed_in_users{%(sel)s}' % s, '{{target}} signed-in users'),
            d.target('ics_ssl_connections{%(sel)s}' % s, '{{target}} SSL connections'),
            d.target('ics_vpn_tunnels{%(sel)s}' % s, '{{target}} VPN tunnels'),
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
        d.panel(
          'timeseries',
          'Active sessions and users',
          'Active sessions (total-matched-record-number) and distinct active user names.',
          'short',
          [
            d.target('ics_active_sessions{%(sel)s}' % s, '{{target}} sessions'),
            d.target('ics_active_users{%(sel)s}' % s, '{{target}} distinct users'),
          ],
          [12, 8, 12, 8],
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
          'Sessions by realm',
          'Listed active sessions by authentication realm.',
          'short',
          [
            d.target('sum by (target, realm) (ics_active_sessions_listed{%(sel)s})' % s, '{{target}} {{realm}}'),
          ],
          [0, 16, 12, 8],
        ),
        d.panel(
          'bargauge',
          'Sessions by node',
          'Listed active sessions by the cluster node the user signed in on.',
          'short',
          [
            d.target('sum by (target, node) (ics_active_sessions_listed{%(sel)s})' % s, '{{target}} {{node}}'),
          ],
          [12, 16, 12, 8],
        ),
      ]),
      d.row('Licences', [
        d.panel(
          'bargauge',
          'Licence leases by feature',
          'Licences leased to clients per feature, against the configured capacity (module leases.capacity) where there is one.',
          'short',
          [
            d.target('sum by (target, feature) (ics_license_leased{%(sel)s})' % s, '{{target}} {{feature}} leased'),
            d.target('ics_license_capacity{%(sel)s}' % s, '{{target}} {{feature}} capacity'),
          ],
          [0, 0, 12, 8],
        ),
        d.panel(
          'table',
          'Licence leases by client',
          'Licences leased per feature and licence client.',
          'short',
          [
            d.instant('ics_license_leased{%(sel)s}' % s),
          ],
          [12, 0, 12, 8],
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
          'bargauge',
          'Licences per feature',
          'total-count of each feature on the licence server.',
          'short',
          [
            d.target('ics_license_feature_licenses{%(sel)s}' % s, '{{target}} {{feature}}'),
          ],
          [0, 8, 12, 8],
        ),
        d.panel(
          'stat',
          'Named users',
          'Named users: scope local on an independent gateway, pcs / pps on a licence server.',
          'short',
          [
            d.target('ics_named_users{%(sel)s}' % s, '{{target}} {{scope}}'),
          ],
          [12, 8, 12, 8],
          options={ colorMode: 'none' },
        ),
      ]),
      d.row('Cluster', [
        d.panel(
          'table',
          'Cluster',
          'Cluster name and mode; absent for a standalone gateway.',
          'none',
          [
            d.instant('ics_cluster_info{%(sel)s}' % s),
          ],
          [0, 0, 8, 6],
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
          'table',
          'VIP owners',
          'Which member owns the internal and external virtual IP addresses.',
          'none',
          [
            d.instant('ics_cluster_vip_owner{%(sel)s}' % s),
          ],
          [8, 0, 8, 6],
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
          'table',
          'Member status code',
          'The raw status code of each cluster member (a bit mask; decoded in the status flags panel).',
          'hex0x',
          [
            d.instant('ics_cluster_member_status_code{%(sel)s}' % s),
          ],
          [16, 0, 8, 6],
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
          'state-timeline',
          'Member reachable',
          'Whether each cluster member is reachable (status code without the unreachable bit 0x8).',
          'none',
          [
            d.target('ics_cluster_member_reachable{%(sel)s}' % s, '{{target}} {{member}}'),
          ],
          [0, 6, 12, 8],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "unreachable",
                    "color": "red",
                    "index": 0
                  },
                  "1": {
                    "text": "reachable",
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
          'Member leader and enabled',
          'Which member leads the cluster (bit 0x8000 or notes Leader), and whether each member is enabled.',
          'none',
          [
            d.target('ics_cluster_member_leader{%(sel)s}' % s, '{{target}} {{member}} leader'),
            d.target('ics_cluster_member_enabled{%(sel)s}' % s, '{{target}} {{member}} enabled'),
          ],
          [12, 6, 12, 8],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "no",
                    "color": "text",
                    "index": 0
                  },
                  "1": {
                    "text": "yes",
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
          'Member status flags',
          'The status bits set on each cluster member (standalone, enabled, unreachable, syncing, leader, ...).',
          'none',
          [
            d.instant('ics_cluster_member_status_flag{%(sel)s} == 1' % s),
          ],
          [0, 14, 24, 8],
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
      d.row('System and software', [
        d.panel(
          'table',
          'System',
          'Hardware model, host name, OS version, serial number and machine id.',
          'none',
          [
            d.instant('ics_system_info{%(sel)s}' % s),
          ],
          [0, 0, 24, 6],
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
          'table',
          'Software and rollback',
          'The installed software package and the rollback package.',
          'none',
          [
            d.instant('ics_software_info{%(sel)s}' % s),
            d.instant('ics_rollback_info{%(sel)s}' % s),
          ],
          [0, 6, 24, 6],
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
    'connect_secure.json': d.dashboard(
      $._config,
      'appliance-exporter-ics',
      'Connect Secure gateway and cluster',
      'CPU, swap and disk, signed-in users and sessions, how users connect (transport, client versions, authentication servers, host checks), licensed-user limit, cluster members and leader, licence leases and inventory of Ivanti Connect Secure / Policy Secure gateways, from appliance_exporter.',
      ["connect-secure"],
      'ics_up',
      $.dashboardRows.connect_secure,
    ),
  },
}
