#!/usr/bin/env python3
"""The usual hand-written Connect Secure session exporter, as a baseline.

Sequential requests with the `requests` library, whole pages parsed into
generic JSON trees, metrics built with `prometheus_client`: what operators
write before they have a real exporter. The benchmark (`cargo bench --bench
scrape`) runs it against the same simulated gateway as the exporter and
reports its wall time, CPU time and peak memory beside the exporter's.

Usage: baseline_active_users.py BASE_URL API_KEY PAGE_SIZE
Scrapes once per line read from standard input (e.g. `yes | head -3 | ...`)
and prints one JSON object per scrape:
{"seconds": .., "cpu_seconds": .., "sessions": .., "bytes": ..}; at the end
of the input it prints {"max_rss_kib": ..}, the process' peak resident
memory.
"""

import json
import resource
import sys
import time

import requests
from prometheus_client import CollectorRegistry, Gauge, generate_latest


def scrape(session, base, page_size):
    registry = CollectorRegistry()
    listed = Gauge(
        "ics_active_sessions_listed",
        "Sessions by realm and node",
        ["realm", "node"],
        registry=registry,
    )
    total_gauge = Gauge("ics_active_sessions", "Total sessions", registry=registry)
    users_gauge = Gauge("ics_active_users", "Distinct users", registry=registry)
    seen = set()
    users = set()
    counts = {}
    start = 0
    total = None
    while True:
        r = session.get(
            f"{base}/api/v1/system/active-users",
            params={"number": page_size, "start": start},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        r.raise_for_status()
        doc = r.json()["active-users"]
        total = doc.get("total-matched-record-number", 0)
        records = (doc.get("active-user-records") or {}).get("active-user-record", [])
        if isinstance(records, dict):
            records = [records]
        for rec in records:
            sid = rec.get("session-id")
            if sid in seen:
                continue
            seen.add(sid)
            users.add(rec.get("active-user-name"))
            key = (rec.get("authentication-realm") or "unknown", rec.get("login-node") or "unknown")
            counts[key] = counts.get(key, 0) + 1
        if doc.get("is-last-record") or len(records) < page_size or len(seen) >= total:
            break
        start += page_size
    for (realm, node), n in counts.items():
        listed.labels(realm=realm, node=node).set(n)
    total_gauge.set(total or 0)
    users_gauge.set(len(users))
    return len(seen), len(generate_latest(registry))


def main():
    base, key, page_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    session = requests.Session()
    session.auth = (key, "")
    for _ in sys.stdin:
        t0, c0 = time.perf_counter(), time.process_time()
        sessions, size = scrape(session, base, page_size)
        print(
            json.dumps(
                {
                    "seconds": time.perf_counter() - t0,
                    "cpu_seconds": time.process_time() - c0,
                    "sessions": sessions,
                    "bytes": size,
                }
            ),
            flush=True,
        )
    print(json.dumps({"max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)


if __name__ == "__main__":
    main()
