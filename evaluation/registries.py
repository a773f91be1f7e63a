"""The registries of the evaluation families, as leaves: metrics and benchmark suites.

:mod:`genlens.catalog` fills them with :class:`~genlens.core.registry.Lazy` references on
first use; register through :func:`genlens.evaluation.metrics.register_metric` and
:func:`genlens.evaluation.suites.register_suite`.
"""

from typing import Any

from genlens.core.registry import Registry

METRICS: Registry[Any] = Registry("metric")
"""Metrics (:class:`genlens.evaluation.metrics.MetricSpec`) by name."""

SUITES: Registry[Any] = Registry("suite")
"""Benchmark suites (:class:`genlens.evaluation.suites.Suite`) by name."""
