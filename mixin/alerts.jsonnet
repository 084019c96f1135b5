// The rule files of `alerts/`: jsonnet -S -m alerts mixin/alerts.jsonnet
local mixin = import 'mixin.libsonnet';
local header = '# Generated from mixin/ (mixin/generate.sh): edit the mixin, not this file.\n# Runbook: docs/runbook.md.\n';
{
  [file + '.yml']: header + std.manifestYamlDoc(mixin.prometheusAlertFiles[file], indent_array_in_object=true, quote_keys=false) + '\n'
  for file in std.objectFields(mixin.prometheusAlertFiles)
}
