// Alerts on Sectona PAM entitlement queries.
local alert = import '../lib/alert.libsonnet';

{
  prometheusAlertFiles+:: {
    sectona: {
      groups: [{
        name: 'appliance_exporter.sectona',
        rules: [
          alert.rule(
            $._config,
            'SectonaQueryFailing',
            'warning',
            'sectona_query_success == 0',
            '15m',
            'Sectona entitlement query {{ $labels.query }} on {{ $labels.target }} fails',
            'The GetEntitlement query {{ $labels.query }} on {{ $labels.target }} fails {{- range printf "sectona_query_error{target=%q,query=%q} == 1" $labels.target $labels.query | query }} with error {{ .Labels.code }} ({{ .Labels.description }}) {{- end }}, so its entitlements are not watched. Fix the query in the exporter configuration (does the user, asset or account still exist?) or the API user\'s rights in Sectona.'
          ),
        ],
      }],
    },
  },
}
