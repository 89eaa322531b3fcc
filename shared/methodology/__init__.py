"""Pure NHS Oversight Framework scoring: metric scores, averages, segments and league ranks."""

from .batch import score_batch
from .catalogue import Band, Catalogue, MetricDefinition, DOMAINS, UNIT_DOMAINS
from .engine import IncrementalEngine
from .errors import (
    InvalidInput, MethodologyError, UnknownMethodology, UnknownMetric, UnknownTrust,
)
from .explain import Explanation, MetricLine
from .inputs import FinanceStatus, IntensiveSupport, Observation, Retraction, TrustInfo
from .leagues import LEAGUES, league_of, trust_type_of
from .periods import Period, parse_period
from .register import load_trust_register
from .results import Cause, Change, LeagueResult, Results, Standing, TrustResult
from .versions import DEFAULT_VERSION, VERSIONS, Methodology, get_methodology

__all__ = [
    "Band", "Catalogue", "Cause", "Change", "DEFAULT_VERSION", "DOMAINS", "Explanation",
    "FinanceStatus", "IncrementalEngine", "IntensiveSupport", "InvalidInput", "LEAGUES",
    "LeagueResult", "MethodologyError", "Methodology", "MetricDefinition", "MetricLine",
    "Observation", "Period", "Results", "Retraction", "Standing", "TrustInfo", "TrustResult", "UNIT_DOMAINS",
    "UnknownMethodology", "UnknownMetric", "UnknownTrust", "VERSIONS", "get_methodology",
    "league_of", "load_trust_register", "parse_period", "score_batch", "trust_type_of",
]
