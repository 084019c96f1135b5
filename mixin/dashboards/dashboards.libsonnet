// Every dashboard. Each file adds its rows under `dashboardRows` and its
// dashboard under `grafanaDashboards` (the key is the file name in
// `dashboards/`).
(import 'exporter.libsonnet') +
(import 'enterprise_recon.libsonnet') +
(import 'enterprise_recon_server.libsonnet') +
(import 'connect_secure.libsonnet') +
(import 'connect_secure_sessions.libsonnet') +
(import 'connect_secure_esap.libsonnet') +
(import 'connect_secure_snmp.libsonnet') +
(import 'sectona.libsonnet') +
(import 'fleet.libsonnet')
