// The Connect Secure dashboard's "How users connect" row, from the
// `active_users` collector: sessions by transport mode and the SSL share
// of tunnels, client versions, authentication servers, host-check
// failures and the age of the oldest session.
local d = import '../lib/dashboard.libsonnet';
local ics = import '../lib/connect_secure.libsonnet';
local s = d.selectors;

{
  local c = $._config,
  local steps(list) = { thresholds: { mode: 'absolute', steps: list } },
  local lines = { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' } },
  local listed = 'sum without (mode) (ics_active_sessions_by_transport{%(sel)s})' % s,

  dashboardRows+:: {
    connect_secure+: [
      d.row('How users connect', [
        d.panel(
          'timeseries',
          'Sessions by transport',
          'Listed sessions by Network Connect transport mode: esp (the tunnel over UDP 4500), ssl (ESP not allowed, or fallen back from because UDP 4500 is blocked on the way), none (no tunnel: browser sessions), other.',
          'short',
          [d.target('ics_active_sessions_by_transport{%(sel)s}' % s, '{{target}} {{mode}}')],
          [0, 0, 12, 8],
          defaults=lines,
        ),
        d.panel(
          'timeseries',
          'SSL share of tunnels',
          'SSL tunnels of the ESP and SSL ones. The line is ICSSSLFallbackHigh\'s threshold: above %g%% averaged over %s, with at least %d tunnels, UDP 4500 is likely blocked somewhere.' % [c.sslShareWarning * 100, c.sslShareWindow, c.sslShareMinTunnels],
          'percentunit',
          [d.target(ics.sslShare(s.sel), '{{target}}')],
          [12, 0, 12, 8],
          defaults=lines { min: 0, max: 1 } + steps([
            { color: 'green', value: null },
            { color: 'orange', value: c.sslShareWarning },
          ]),
        ),
        d.panel(
          'bargauge',
          'Client versions',
          'Listed sessions by Pulse / Ivanti Secure Access client version: the most common versions (active_users.top_values), other for the rest, none for sessions without the client.',
          'short',
          [d.instant('sort_desc(ics_active_sessions_by_client_version{%(sel)s})' % s, '{{target}} {{version}}')],
          [0, 8, 8, 8],
        ),
        d.panel(
          'bargauge',
          'Authentication servers',
          'Listed sessions by primary authentication server: the most common servers, other for the rest, none for sessions without one.',
          'short',
          [d.instant('sort_desc(ics_active_sessions_by_auth_server{%(sel)s})' % s, '{{target}} {{server}}')],
          [8, 8, 8, 8],
        ),
        d.panel(
          'timeseries',
          'Sessions failing their host check',
          'Share of the listed sessions whose host check failed. The line is ICSHostCheckFailuresHigh\'s threshold: above %g%% averaged over %s, with at least %d failing sessions.' % [c.hostCheckWarning * 100, c.hostCheckWindow, c.hostCheckMinFailed],
          'percentunit',
          [d.target('ics_active_sessions_host_check_failed{%(sel)s} / on (job, instance, target) (%(listed)s > 0)' % (s { listed: listed }), '{{target}}')],
          [16, 8, 8, 8],
          defaults=lines { min: 0 } + steps([
            { color: 'green', value: null },
            { color: 'orange', value: c.hostCheckWarning },
          ]),
        ),
        d.panel(
          'stat',
          'Host-check failures',
          'Listed sessions whose host check failed (hc-failed-reasons, or failed policies in endpoint-security-status). The Active Users page lists the failed policies.',
          'short',
          [d.target('ics_active_sessions_host_check_failed{%(sel)s}' % s, '{{target}}')],
          [0, 16, 12, 4],
          options={ colorMode: 'none' },
        ),
        d.panel(
          'stat',
          'Age of the oldest session',
          'How long the longest-running listed session has been signed in (time() - ics_active_sessions_oldest_sign_in_timestamp_seconds). Sessions far older than the session lifetime suggest a lifetime that is not enforced.',
          'dtdurations',
          [d.target('time() - ics_active_sessions_oldest_sign_in_timestamp_seconds{%(sel)s}' % s, '{{target}}')],
          [12, 16, 12, 4],
          options={ colorMode: 'none' },
        ),
      ]),
    ],
  },
}
