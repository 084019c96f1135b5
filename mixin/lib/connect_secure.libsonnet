// PromQL fragments shared by the Connect Secure alerts and dashboards.
{
  // The cluster's name as `ics_cluster` (`name` alone says little in an
  // alert), joined onto a member series of the same scrape.
  local clusterInfo(matchers) =
    'label_replace(ics_cluster_info%s, "ics_cluster", "$1", "name", "(.*)")' % matchers,
  inCluster: '* on (job, instance, target) group_left (ics_cluster) ' + clusterInfo(''),
  activePassive: clusterInfo('{mode=~"(?i)active/passive"}'),
  inActivePassive: '* on (job, instance, target) group_left (ics_cluster) ' + self.activePassive,

  // A gateway's concurrent-user capacity, one series per `target`:
  // snmp_exporter's iveMaxConcurrentUsersLicenseCapacity (same `target`
  // label) where present; otherwise the "Concurrent Users" licences the
  // licence server leased to it: the lease's `client` is matched to the
  // gateway's host name (`ics_system_info{host_name}`), which gives the
  // gateway's `target`. `snmp` and `gateway` narrow the SNMP and the
  // gateway series (dashboards); the leases come from the licence server,
  // another target.
  capacity(config, snmp='', gateway=''):: |||
    max by (target) (iveMaxConcurrentUsersLicenseCapacity%(snmp)s > 0)
    or max by (target) (
      ics_system_info%(gateway)s
      * on (host_name) group_left ()
      max by (host_name) (label_replace(ics_license_leased{feature="%(feature)s"}, "host_name", "$1", "client", "(.+)") > 0)
    )
  ||| % {
    snmp: if snmp == '' then '' else '{%s}' % snmp,
    gateway: if gateway == '' then '' else '{%s}' % gateway,
    feature: config.concurrentUsersFeature,
  },

  // The share of VPN tunnels on SSL instead of ESP: the SSL sessions of the
  // ESP and SSL ones (`none` has no tunnel), where at least `minTunnels`
  // tunnels are up. `matchers` narrows the series (dashboards); each side
  // is averaged over `window` where one is given (alerts).
  sslShare(matchers='', window='', minTunnels=1)::
    local tunnels(mode) =
      local selector = 'ics_active_sessions_by_transport{%s}' % std.join(', ', [m for m in [matchers, mode] if m != '']);
      'sum without (mode) (%s)' % (if window == '' then selector else 'avg_over_time(%s[%s])' % [selector, window]);
    '%s\n/ (%s >= %g)' % [tunnels('mode="ssl"'), tunnels('mode=~"esp|ssl"'), minTunnels],
}
