// The Connect Secure dashboard's row of what the gateways report over
// SNMP (snmp_exporter, module ivanti_connect_secure; see docs/snmp.md,
// "Hardware health (SNMP)"). snmp_exporter scrapes in a job of its own, so
// these queries filter by `target` only, not by the dashboard's `job` and
// `instance`.
local d = import '../lib/dashboard.libsonnet';

{
  dashboardRows+:: {
    connect_secure+: [
      d.row('Hardware and capacity (SNMP)', [
        d.panel(
          'timeseries',
          'Memory, disk and log (SNMP)',
          'Memory used, disk full and log files full, in percent. Read over SNMP by snmp_exporter with the ivanti_connect_secure module of snmp/snmp.yml (PULSESECURE-PSG-MIB: iveMemoryUtil, diskFullPercent, logFullPercent). Alerts: memory above 90% / 95%, disk and log above 80% / 90%.',
          'percent',
          [
            d.target('iveMemoryUtil{target=~"$target"}', '{{target}} memory'),
            d.target('diskFullPercent{target=~"$target"}', '{{target}} disk'),
            d.target('logFullPercent{target=~"$target"}', '{{target}} log'),
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
                  "value": 80
                },
                {
                  "color": "red",
                  "value": 90
                }
              ]
            },
            "min": 0,
            "max": 100,
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
          'Temperature (SNMP)',
          'Temperature of the MAG application blade. Read over SNMP by snmp_exporter with the ivanti_connect_secure module of snmp/snmp.yml (PULSESECURE-PSG-MIB: iveTemperature). Platforms without a sensor (SA, IC, virtual appliances) report 0 and are not shown. Alerts: above 70 °C / 75 °C.',
          'celsius',
          [
            d.target('iveTemperature{target=~"$target"} > 0', '{{target}}'),
          ],
          [12, 0, 12, 8],
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
                  "value": 70
                },
                {
                  "color": "red",
                  "value": 75
                }
              ]
            },
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
          'Fan, power supply, RAID (SNMP)',
          '1 (FAILED) when the gateway\'s status text says failed (fans also: threshold). Read over SNMP by snmp_exporter with the ivanti_connect_secure module of snmp/snmp.yml (PULSESECURE-PSG-MIB: fanDescription, psDescription, raidDescription, free text turned into 0/1 gauges by the module). raidDescription is accessible-for-notify in the MIB: a gateway that refuses to read it shows no RAID value.',
          'none',
          [
            d.target('fanDescriptionFailed{target=~"$target"}', '{{target}} fans'),
            d.target('psDescriptionFailed{target=~"$target"}', '{{target}} power'),
            d.target('raidDescriptionFailed{target=~"$target"}', '{{target}} RAID'),
          ],
          [0, 8, 6, 6],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "OK",
                    "color": "green",
                    "index": 0
                  },
                  "1": {
                    "text": "FAILED",
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
          'SNMP reachable',
          'Whether Prometheus reads the gateway through snmp_exporter (`up` of the connect_secure_snmp* jobs); while it does not, the SNMP panels are empty and their alerts cannot fire.',
          'none',
          [
            d.target('up{job=~"connect_secure_snmp.*", target=~"$target"}', '{{target}}'),
          ],
          [6, 8, 6, 6],
          defaults={
            "mappings": [
              {
                "type": "value",
                "options": {
                  "0": {
                    "text": "DOWN",
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
            ]
          },
        ),
        d.panel(
          'stat',
          'Concurrent users / licensed capacity (SNMP)',
          'Concurrent-user licences used on this node over the gateway\'s licensed concurrent-user capacity, as check_nwc_health computes it; needs no leases.capacity. Read over SNMP by snmp_exporter with the ivanti_connect_secure module of snmp/snmp.yml (PULSESECURE-PSG-MIB: iveConcurrentUsers / iveMaxConcurrentUsersLicenseCapacity, object .55). Alert: above 90%.',
          'percentunit',
          [
            d.target('iveConcurrentUsers{target=~"$target"} / (iveMaxConcurrentUsersLicenseCapacity{target=~"$target"} > 0)', '{{target}}'),
          ],
          [12, 8, 6, 6],
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
                  "value": 0.9
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
          'stat',
          'Licence server grace period (SNMP)',
          'Days left in the grace period for reaching the licensing server (PCLS). Read over SNMP by snmp_exporter with the ivanti_connect_secure module of snmp/snmp.yml (PULSESECURE-PSG-MIB: pclsRemainingGracePeriod). The MIB does not say what a gateway in contact reports; the alert fires from 7 days down to 1.',
          'd',
          [
            d.target('pclsRemainingGracePeriod{target=~"$target"}', '{{target}}'),
          ],
          [18, 8, 6, 6],
        ),
        d.panel(
          'timeseries',
          'Concurrent users, node and cluster (SNMP)',
          'Concurrent-user licences used on this node and in its cluster, and the licensed capacity. Read over SNMP by snmp_exporter with the ivanti_connect_secure module of snmp/snmp.yml (PULSESECURE-PSG-MIB: iveConcurrentUsers, clusterConcurrentUsers, iveMaxConcurrentUsersLicenseCapacity). On an active/passive cluster the passive node reports 0 of its own.',
          'short',
          [
            d.target('iveConcurrentUsers{target=~"$target"}', '{{target}} node'),
            d.target('clusterConcurrentUsers{target=~"$target"}', '{{target}} cluster'),
            d.target('iveMaxConcurrentUsersLicenseCapacity{target=~"$target"}', '{{target}} licensed'),
          ],
          [0, 14, 12, 8],
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
          'Product, version and ESAP (SNMP)',
          'Licensed product name, system software version and active ESAP version. Read over SNMP by snmp_exporter with the ivanti_connect_secure module of snmp/snmp.yml (PULSESECURE-PSG-MIB: productName, productVersion, esapVersion; the scrape configuration of docs/snmp.md drops the newline productVersion ends with).',
          'none',
          [
            d.instant('productName{target=~"$target"}'),
            d.instant('productVersion{target=~"$target"}'),
            d.instant('esapVersion{target=~"$target"}'),
          ],
          [12, 14, 12, 8],
          transformations=[
            {
              "id": "merge",
              "options": {}
            },
            {
              "id": "organize",
              "options": {
                "excludeByName": {
                  "Time": true,
                  "Value": true,
                  "Value #A": true,
                  "Value #B": true,
                  "Value #C": true,
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
}
