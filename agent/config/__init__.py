"""metrics.yaml: the only entry point is ``load_config``."""

from agent.config.loader import load_config
from agent.config.schema import Config, MetricSpec, SourceSpec

__all__ = ["Config", "MetricSpec", "SourceSpec", "load_config"]
