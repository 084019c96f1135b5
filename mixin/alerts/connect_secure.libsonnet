// Alerts on Ivanti Connect Secure / Policy Secure gateways and clusters.
local alert = import '../lib/alert.libsonnet';
local ics = import '../lib/connect_secure.libsonnet';

{
  prometheusAlertFiles+:: {
    connect_secure: {
      local c = $._config,
      local rule(name, severity, expr, duration, summary, description) =
        alert.rule(c, name, severity, expr, duration, summary, description),
      local smoothed(metric) = 'avg_over_time(%s[%s])' % [metric, c.utilisationWindow],
      local cpu(threshold, duration, severity, act) = rule(
        'ICSCPUHigh',
        severity,
        '%s > %g' % [smoothed('ics_cpu_utilization_ratio'), threshold],
        duration,
        'Connect Secure {{ $labels.target }} CPU at {{ $value | humanizePercentage }}',
        'The CPU of {{ $labels.target }} has averaged above %g%% for %s; %s' % [threshold * 100, duration, act]
      ),
      local disk(threshold, duration, severity, act) = rule(
        'ICSDiskHigh',
        severity,
        '%s > %g' % [smoothed('ics_disk_utilization_ratio'), threshold],
        duration,
        'Connect Secure {{ $labels.target }} disk at {{ $value | humanizePercentage }}',
        'The disk of {{ $labels.target }} is more than %g%% full%s' % [threshold * 100, act]
      ),
      groups: [{
        name: 'appliance_exporter.connect_secure',
        rules: [
          rule(
            'ICSMaxLicensedUsersReached',
            'critical',
            'ics_max_licensed_users_reached == 1',
            '5m',
            'Connect Secure {{ $labels.target }} has reached its licensed user limit',
            'The gateway {{ $labels.target }} reports MAX-LICENSED-USERS-REACHED: further users are refused. End idle sessions (Active Users page), shorten session lifetimes, or lease / buy more concurrent-user licences.'
          ),
          rule(
            'ICSUserLoginsNotPermitted',
            'critical',
            'ics_user_login_permitted == 0',
            '5m',
            'Connect Secure {{ $labels.target }} does not permit user logins',
            'The gateway {{ $labels.target }} answers user-login-permission false: no end user can sign in. Check whether logins were disabled on purpose (maintenance), the licence state, and the cluster state; re-enable user logins in the admin console.'
          ),
          // On the licence server: only features with a capacity
          // configured (module `leases.capacity`) have an
          // ics_license_capacity series.
          rule(
            'ICSLicenseLeasesNearCapacity',
            'warning',
            'sum without (client) (ics_license_leased) / (ics_license_capacity > 0) > %g' % c.capacityWarning,
            '30m',
            'Connect Secure {{ $labels.target }} has leased {{ $value | humanizePercentage }} of its {{ $labels.feature }} licences',
            'Licence clients of {{ $labels.target }} lease {{ $value | humanizePercentage }} of the configured capacity of "{{ $labels.feature }}". New leases are refused when it is used up. Rebalance leases between clients or add licences, and update `leases.capacity` in the exporter configuration when the capacity changes.'
          ),
          // One alert per cluster and member, however many members are
          // scraped: any scraped member that sees an enabled member
          // unreachable raises it. A disabled member is out of the cluster
          // on purpose: not alerted.
          rule(
            'ICSClusterMemberUnreachable',
            'warning',
            |||
              min by (ics_cluster, member) (
                (ics_cluster_member_reachable == 0 and on (job, instance, target, member) ics_cluster_member_enabled == 1)
                %s
              )
            ||| % ics.inCluster,
            '5m',
            'Connect Secure cluster member {{ $labels.member }} of {{ $labels.ics_cluster }} is unreachable',
            'The enabled cluster member {{ $labels.member }} of the cluster {{ $labels.ics_cluster }} cannot be reached by the cluster: the cluster runs without redundancy. Check the member\'s power, network (internal port) and its System > Clustering page.'
          ),
          // One alert per cluster. A standalone gateway has no member
          // series and never matches.
          rule(
            'ICSClusterNoLeader',
            'critical',
            'max by (ics_cluster) (ics_cluster_member_leader %s) == 0' % ics.inCluster,
            '5m',
            'Connect Secure cluster {{ $labels.ics_cluster }} has no leader',
            'No member of the cluster {{ $labels.ics_cluster }} is the leader: configuration changes do not synchronise and failover may not work. Check that the members reach each other on the internal network, and the clustering status on each member.'
          ),
          // An Active/Passive cluster always has an internal VIP, and an
          // external one when it was owned within the window.
          rule(
            'ICSClusterVIPUnowned',
            'critical',
            |||
              (
                group by (ics_cluster, vip) (label_replace(%(activePassive)s, "vip", "internal", "", ""))
                or group by (ics_cluster, vip) (max_over_time(ics_cluster_vip_owner[%(window)s]) %(inActivePassive)s)
              )
              unless on (ics_cluster, vip) group by (ics_cluster, vip) (ics_cluster_vip_owner %(inCluster)s)
            ||| % (ics { window: c.disappearedWindow }),
            '5m',
            'The {{ $labels.vip }} VIP of Connect Secure cluster {{ $labels.ics_cluster }} has no owner',
            'No member of the Active/Passive cluster {{ $labels.ics_cluster }} owns its {{ $labels.vip }} virtual IP: users cannot reach the cluster through it. Check that the active member is up and reaches the internal network, and the VIP settings on System > Clustering.'
          ),
          cpu(c.cpuWarning, c.cpuWarningFor, 'warning', 'users see slow logins and tunnels. Compare with the signed-in users and sessions, move users to other cluster members, and look for runaway processes in the admin console.'),
          cpu(c.cpuCritical, c.cpuCriticalFor, 'critical', 'logins and tunnels are at risk. Shift load to other members now and look for runaway processes in the admin console.'),
          disk(c.diskWarning, c.diskWarningFor, 'warning', '. Archive and delete old logs, snapshots and unused packages (Maintenance > Archiving) before it fills.'),
          disk(c.diskCritical, c.diskCriticalFor, 'critical', '; logging and upgrades fail when it is full. Archive and delete old logs, snapshots and unused packages now.'),
          rule(
            'ICSDiskFillingUp',
            'warning',
            |||
              predict_linear(ics_disk_utilization_ratio[%(diskFillWindow)s], %(diskFillHorizonSeconds)d) >= 1
              and ics_disk_utilization_ratio > %(diskFillMinimum)g
            ||| % c,
            '1h',
            'Connect Secure {{ $labels.target }} disk fills up within %dh' % (c.diskFillHorizonSeconds / 3600),
            'At the trend of the last %s the disk of {{ $labels.target }} is full within %dh; logging and upgrades fail then. Archive and delete old logs, snapshots and unused packages (Maintenance > Archiving), and look for what grows.' % [c.diskFillWindow, c.diskFillHorizonSeconds / 3600]
          ),
          rule(
            'ICSSwapHigh',
            'warning',
            '%s > %g' % [smoothed('ics_swap_utilization_ratio'), c.swapWarning],
            c.swapWarningFor,
            'Connect Secure {{ $labels.target }} swap at {{ $value | humanizePercentage }}',
            'The gateway {{ $labels.target }} has used more than %g%% of its swap for %s: it is short of memory, and logins and tunnels slow down. Compare with the signed-in users and sessions, move users to other members, and plan more memory or a larger appliance.' % [c.swapWarning * 100, c.swapWarningFor]
          ),
          // How users connect (`active_users`). Both sides of each ratio
          // are averaged over the window first: a share of one scrape jumps
          // with a handful of sign-ins, its average does not. Tunnels are
          // ESP plus SSL (`none` is a browser session without a tunnel).
          rule(
            'ICSSSLFallbackHigh',
            'warning',
            '%s\n> %g\n' % [ics.sslShare(window=c.sslShareWindow, minTunnels=c.sslShareMinTunnels), c.sslShareWarning],
            c.sslShareFor,
            'Connect Secure {{ $labels.target }} carries {{ $value | humanizePercentage }} of its tunnels over SSL',
            'On average over the last %s, {{ $value | humanizePercentage }} of the VPN tunnels of {{ $labels.target }} ran over SSL instead of ESP (more than %g%%): UDP 4500 is blocked somewhere between the users and the gateway (or ESP is not allowed in the connection profile), and SSL tunnels are slower and load the gateway more. Look for a common network among the affected users (the Active Users page shows the transport), and check the firewalls in front of the gateway and the ESP settings of the VPN tunnelling profile.' % [c.sslShareWindow, c.sslShareWarning * 100]
          ),
          // A share, not a count or its increase: the count of failing
          // sessions follows the number signed in (it rises every morning
          // with nothing wrong); the share rises when a host-check policy,
          // the endpoints or their client change.
          rule(
            'ICSHostCheckFailuresHigh',
            'warning',
            |||
              avg_over_time(ics_active_sessions_host_check_failed[%(hostCheckWindow)s])
              / on (job, instance, target) (sum without (mode) (avg_over_time(ics_active_sessions_by_transport[%(hostCheckWindow)s])) > 0)
              > %(hostCheckWarning)g
              and on (job, instance, target) avg_over_time(ics_active_sessions_host_check_failed[%(hostCheckWindow)s]) >= %(hostCheckMinFailed)g
            ||| % c,
            c.hostCheckFor,
            '{{ $value | humanizePercentage }} of the sessions on Connect Secure {{ $labels.target }} failed their host check',
            'On average over the last %s, {{ $value | humanizePercentage }} of the sessions on {{ $labels.target }} failed their host check (more than %g%%): those users get the restricted roles of a failed policy or are refused. Find what changed: a host-check policy, an antivirus or OS update on the endpoints, or a new client version (see the How users connect row of the gateway dashboard and the Active Users page for the failed policies).' % [c.hostCheckWindow, c.hostCheckWarning * 100]
          ),
          // Per gateway: its licensed concurrent-user capacity from SNMP
          // where scraped, else the concurrent-user licences its licence
          // server leased to it (see lib/connect_secure.libsonnet).
          rule(
            'ICSSignedInUsersNearCapacity',
            'warning',
            |||
              max by (target) (ics_signed_in_users)
              / on (target) (
              %s) > %g
            ||| % [ics.capacity(c), c.capacityWarning],
            '15m',
            'Connect Secure {{ $labels.target }} signed-in users at {{ $value | humanizePercentage }} of capacity',
            '{{ $labels.target }} has {{ $value | humanizePercentage }} of its concurrent-user capacity signed in; at 100% new users are refused (ICSMaxLicensedUsersReached). Plan more licences, or shorten idle timeouts.'
          ),
          // The minimum over an hour: a scrape or two without the series
          // (a timeout, an exporter restart) does not reset the long `for:`.
          rule(
            'ICSESAPPackageNotActivated',
            'warning',
            'min_over_time(ics_esap_newer_package_available[1h]) == 1',
            c.esapNotActivatedFor,
            'Connect Secure {{ $labels.target }} has a newer ESAP package uploaded but not activated',
            'An ESAP (host checker) package newer than the active one has been uploaded to {{ $labels.target }} and left inactive for %s: host checks still judge endpoints against the older antivirus and OS definitions. Test and activate the newest package (Authentication > Endpoint Security > Host Checker), or delete it if it is not to be used.' % c.esapNotActivatedFor
          ),
        ],
      }],
    },
  },
}
