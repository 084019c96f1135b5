// Every alert family. Each family file adds its rule file under
// `prometheusAlertFiles` (the key is the file name in `alerts/` without
// `.yml`); `prometheusAlerts` holds every group of every file, as
// kube-prometheus and other mixin users expect.
(import 'exporter.libsonnet') +
(import 'enterprise_recon.libsonnet') +
(import 'connect_secure.libsonnet') +
(import 'connect_secure_snmp.libsonnet') +
(import 'sectona.libsonnet') +
{
  prometheusAlerts+:: {
    groups+: std.flattenArrays([
      $.prometheusAlertFiles[file].groups
      for file in std.objectFields($.prometheusAlertFiles)
    ]),
  },
}
