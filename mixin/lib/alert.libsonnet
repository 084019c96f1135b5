// Builds one alerting rule the way every rule of the mixin reads: a `for:`,
// a severity, a summary, a description and an absolute runbook URL.
{
  // The GitHub anchor of a heading: the runbook entry "#### NAME".
  anchor(name):: std.asciiLower(name),

  rule(config, name, severity, expr, duration, summary, description):: {
    alert: name,
    expr: expr,
    'for': duration,
    labels: { severity: severity },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: '%s#%s' % [config.runbookURLBase, $.anchor(name)],
    },
  },
}
