"""Prometheus metrics for ``GET /metrics`` (text exposition format 0.0.4): scans by outcome,
read and verify durations, APDUs per read, gateway latency and result codes. One registry per
app, so tests that build several apps do not share counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.scans = Counter(
            "cccd_scans", "Scans finished, by outcome (verdict or failure)", ["outcome"], registry=r
        )
        self.read_seconds = Histogram(
            "cccd_read_seconds",
            "Time to read the card",
            registry=r,
            buckets=(0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30),
        )
        self.verify_seconds = Histogram(
            "cccd_verify_seconds",
            "Time to verify a read",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2),
        )
        self.apdus = Histogram(
            "cccd_read_apdus",
            "APDUs per card read",
            registry=r,
            buckets=(10, 20, 40, 80, 120, 200, 400, 800),
        )
        self.scan_cpu = Counter(
            "cccd_scan_cpu_seconds",
            "CPU time of card reads and their verification (with simulated readers this "
            "includes the simulated chip's own work)",
            registry=r,
        )
        self.queue = Gauge("cccd_scan_queue", "Scans waiting, per reader", ["reader"], registry=r)
        self.gateway_seconds = Histogram(
            "cccd_gateway_seconds",
            "BHXH gateway call latency",
            ["endpoint"],
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15),
        )
        self.gateway_results = Counter(
            "cccd_gateway_results", "BHXH maKetQua codes seen", ["code"], registry=r
        )
        self.auth_failures = Counter(
            "cccd_auth_failures", "Requests refused for their key", registry=r
        )
        self.rate_limited = Counter(
            "cccd_rate_limited", "Requests refused by the rate limit", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
