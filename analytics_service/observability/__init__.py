"""Prometheus metrics of the sync runs, the analytics providers and the HTTP API."""

from __future__ import annotations

from analytics_service.observability.metrics import ServiceMetrics

__all__ = ["ServiceMetrics"]
