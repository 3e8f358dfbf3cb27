"""Prometheus metrics of one daemon, in a registry of its own (no process-global collectors),
served on the loopback interface only when ``daemon.metrics_port`` is set."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)


class Metrics:
    """Counters and gauges the daemon updates as jobs run."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.job_runs = Counter(
            "yuqing_job_runs", "Job runs by job kind and outcome", ["job", "outcome"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "yuqing_job_duration_seconds",
            "Job run time",
            ["job"],
            registry=self.registry,
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600),
        )
        self.crawl_new = Counter(
            "yuqing_crawl_new_posts", "New posts stored by crawls", ["source"], registry=self.registry
        )
        self.crawl_status = Counter(
            "yuqing_crawl_runs", "Crawl runs by source and status", ["source", "status"], registry=self.registry
        )
        self.leader = Gauge("yuqing_daemon_leader", "1 while this daemon holds the lease", registry=self.registry)
        self.reloads = Counter(
            "yuqing_config_reloads", "Config reloads by outcome", ["outcome"], registry=self.registry
        )
        self.faults = Counter(
            "yuqing_daemon_faults",
            "Failures of the daemon's own machinery (job store, lease, job bookkeeping, reload) that it survived",
            ["where"],
            registry=self.registry,
        )
        self.degraded = Gauge(
            "yuqing_daemon_degraded",
            "1 while the daemon cannot make progress (disk full, data dir or database not writable)",
            registry=self.registry,
        )
        self.last_success = Gauge(
            "yuqing_job_last_success_timestamp_seconds",
            "Unix time of the last successful run",
            ["job"],
            registry=self.registry,
        )
        self._server: Any = None

    def job(self, job: str, outcome: str, seconds: float, finished_unix: float) -> None:
        self.job_runs.labels(job, outcome).inc()
        self.job_seconds.labels(job).observe(seconds)
        if outcome == "ok":
            self.last_success.labels(job).set(finished_unix)

    def crawl(self, source: str, status: str, new: int) -> None:
        self.crawl_status.labels(source, status).inc()
        if new:
            self.crawl_new.labels(source).inc(new)

    def serve(self, host: str, port: int) -> None:
        """Start the HTTP endpoint ``http://host:port/metrics``."""
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        log.info("metrics served on http://%s:%d/metrics", host, port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
