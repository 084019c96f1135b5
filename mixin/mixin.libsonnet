// The appliance_exporter monitoring mixin: Prometheus alerts
// (`prometheusAlerts`) and Grafana dashboards (`grafanaDashboards`).
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
