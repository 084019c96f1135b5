// Alerts on what Connect Secure gateways report over SNMP (snmp_exporter,
// module ivanti_connect_secure; see docs/snmp.md, "Hardware health (SNMP)").
// The SNMP scrape jobs are expected to be named connect_secure_snmp* and
// to set the `target` label to the gateway's appliance_exporter target.
local alert = import '../lib/alert.libsonnet';

{
  prometheusAlertFiles+:: {
    connect_secure_snmp: {
      groups: [{
        name: 'appliance_exporter.connect_secure_snmp',
        rules: [
          alert.rule(
            $._config,
            'ICSMemoryHigh',
            'warning',
            'iveMemoryUtil > 90',
            '15m',
            'Connect Secure {{ $labels.target }} memory at {{ $value }}%',
            'The memory of {{ $labels.target }} is more than 90% used (SNMP iveMemoryUtil). Compare with signed-in users and sessions on the gateway dashboard, move users to other members, look for runaway processes.'
          ),
          alert.rule(
            $._config,
            'ICSMemoryHigh',
            'critical',
            'iveMemoryUtil > 95',
            '10m',
            'Connect Secure {{ $labels.target }} memory at {{ $value }}%',
            'The memory of {{ $labels.target }} is more than 95% used (SNMP iveMemoryUtil); the gateway starts swapping and refusing work. Move users to other members now and look for runaway processes.'
          ),
          // The REST healthcheck's DISK-UTILIZATION (ICSDiskHigh) is -1 on some
          // releases; diskFullPercent is the same disk read over SNMP.
          alert.rule(
            $._config,
            'ICSDiskHighSNMP',
            'warning',
            'diskFullPercent > 80',
            '30m',
            'Connect Secure {{ $labels.target }} disk at {{ $value }}% (SNMP)',
            'The disk of {{ $labels.target }} is more than 80% full (SNMP diskFullPercent). Archive and delete old logs, snapshots and unused packages (Maintenance > Archiving) before it fills.'
          ),
          alert.rule(
            $._config,
            'ICSDiskHighSNMP',
            'critical',
            'diskFullPercent > 90',
            '15m',
            'Connect Secure {{ $labels.target }} disk at {{ $value }}% (SNMP)',
            'The disk of {{ $labels.target }} is more than 90% full (SNMP diskFullPercent); logging and upgrades fail when it is full. Archive and delete old logs, snapshots and unused packages now.'
          ),
          alert.rule(
            $._config,
            'ICSLogPartitionHigh',
            'warning',
            'logFullPercent > 80',
            '30m',
            'Connect Secure {{ $labels.target }} log at {{ $value }}% of its size',
            'The log files of {{ $labels.target }} are more than 80% full (SNMP logFullPercent). Archive the logs (Maintenance > Archiving) or clear them after saving; a full log drops new events.'
          ),
          alert.rule(
            $._config,
            'ICSLogPartitionHigh',
            'critical',
            'logFullPercent > 90',
            '15m',
            'Connect Secure {{ $labels.target }} log at {{ $value }}% of its size',
            'The log files of {{ $labels.target }} are more than 90% full (SNMP logFullPercent); a full log drops new events, including the audit trail. Archive or save and clear the logs now.'
          ),
          // iveTemperature is 0 on platforms without a sensor (SA, IC, virtual
          // appliances): the thresholds never match it.
          alert.rule(
            $._config,
            'ICSTemperatureHigh',
            'warning',
            'iveTemperature > 70',
            '15m',
            'Connect Secure {{ $labels.target }} at {{ $value }} °C',
            'The blade of {{ $labels.target }} is warmer than 70 °C (SNMP iveTemperature). Check the fans (ICSFanFailed), the airflow and the room\'s cooling.'
          ),
          alert.rule(
            $._config,
            'ICSTemperatureHigh',
            'critical',
            'iveTemperature > 75',
            '5m',
            'Connect Secure {{ $labels.target }} at {{ $value }} °C',
            'The blade of {{ $labels.target }} is warmer than 75 °C (SNMP iveTemperature) and may shut down. Check the fans, the airflow and the room\'s cooling now; fail over to another member if it keeps rising.'
          ),
          alert.rule(
            $._config,
            'ICSFanFailed',
            'critical',
            'fanDescriptionFailed == 1',
            '5m',
            'Connect Secure {{ $labels.target }} reports a failed fan',
            'The fan status of {{ $labels.target }} (SNMP fanDescription) says failed or out of threshold. Read the text with `snmpget` or in the admin console (System > Status), and replace the fan before the appliance overheats.'
          ),
          alert.rule(
            $._config,
            'ICSPowerSupplyFailed',
            'warning',
            'psDescriptionFailed == 1',
            '5m',
            'Connect Secure {{ $labels.target }} reports a failed power supply',
            'The power-supply status of {{ $labels.target }} (SNMP psDescription) says failed: the appliance runs without power redundancy. Check the power cable and feed, then replace the power supply.'
          ),
          alert.rule(
            $._config,
            'ICSRaidFailed',
            'critical',
            'raidDescriptionFailed == 1',
            '5m',
            'Connect Secure {{ $labels.target }} reports a failed RAID',
            'The RAID status of {{ $labels.target }} (SNMP raidDescription) says failed: a disk has failed and the next failure loses the system disk. Replace the failed disk and let the array rebuild.'
          ),
          // The gateway's own licensed capacity (.55), so no `leases.capacity`
          // is needed; as check_nwc_health, this node's concurrent users.
          alert.rule(
            $._config,
            'ICSConcurrentUsersNearLicensedCapacity',
            'warning',
            'iveConcurrentUsers / (iveMaxConcurrentUsersLicenseCapacity > 0) > 0.9',
            '15m',
            'Connect Secure {{ $labels.target }} uses {{ $value | humanizePercentage }} of its concurrent-user licences',
            '{{ $labels.target }} has more than 90% of its licensed concurrent users signed in (SNMP iveConcurrentUsers / iveMaxConcurrentUsersLicenseCapacity); at 100% new users are refused. Plan more licences or shorten idle timeouts.'
          ),
          // 0 is left out: the MIB does not say whether it means "not in a grace
          // period" or "ran out".
          alert.rule(
            $._config,
            'ICSLicenseServerGracePeriodEnding',
            'warning',
            '(pclsRemainingGracePeriod > 0) <= 7',
            '1h',
            'Connect Secure {{ $labels.target }} has {{ $value }} days left to reach its licence server',
            '{{ $labels.target }} cannot reach the licensing server (PCLS) and runs on a grace period that ends in {{ $value }} days (SNMP pclsRemainingGracePeriod); then its leased licences are gone. Restore the connection to the licence server.'
          ),
          alert.rule(
            $._config,
            'ICSSNMPTargetDown',
            'warning',
            'up{job=~"connect_secure_snmp.*"} == 0',
            '10m',
            'Connect Secure {{ $labels.target }} does not answer SNMP',
            'snmp_exporter cannot read {{ $labels.target }} over SNMP, so its hardware, memory, log and licence-capacity alerts cannot fire. Check the gateway\'s SNMP agent settings (System > Log/Monitoring > SNMP: community or SNMPv3 user, allowed hosts), the network path (UDP 161) and snmp_exporter\'s log.'
          ),
        ],
      }],
    },
  },
}
