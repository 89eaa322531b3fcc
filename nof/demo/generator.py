"""A seeded, pure generator of realistic NOF inputs: a baseline, then monthly releases.

Model (docs/DEMO.md): every trust has a latent quality ``q`` (standard normal plus a
subtype offset). Each of its metrics has a persistent level ``z = w·q + √(1−w²)·e`` (``w`` =
``quality_weight``, ``e`` the metric's own trust effect), which drifts month by month
(AR(1) noise) and with a national drift per metric. A value is the metric's centre plus
``z`` standard spreads in the better direction, clipped to plausible bounds and rounded.
Around that: metrics a trust does not report, revisions, late periods, finance flag
changes and intensive-support decisions. Same register, methodology and parameters give
the same timeline, item for item.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping

from shared.methodology import (
    FinanceStatus, IntensiveSupport, Methodology, Observation, TrustInfo, parse_period,
)
from shared.methodology.catalogue import HIGHER

from .profiles import MONTHLY, PROFILES, Profile

OBSERVATION, FINANCE, INTENSIVE_SUPPORT = "observation", "finance", "intensive-support"
BASELINE, RELEASE, REVISION, LATE, FLIP = "baseline", "release", "revision", "late", "flip"
DAY_S = 86_400
MONTH_S = 30 * DAY_S  # a simulated month; a quarter is three
SOURCE = "nof-demo"

# MRSA counts scale with the size of the trust.
_SIZE = {"Acute - Teaching": 1.6, "Acute - Large": 1.25, "Acute - Medium": 1.0,
         "Acute - Small": 0.7, "Acute - Specialist": 0.4, "Acute - Multi-Service": 1.0}


@dataclass(frozen=True)
class GeneratorParams:
    """Every choice the generator makes; the defaults are the calibrated ones (docs/DEMO.md)."""

    seed: int = 1
    months: int = 3
    baseline_month: str = "2025-09"  # with 3 months the final state is Q3 2025/26
    quality_weight: float = 0.45  # loading of each metric on the trust's latent quality
    monthly_noise: float = 0.25  # month-to-month noise, in spreads
    monthly_persistence: float = 0.6  # AR(1) coefficient of that noise
    national_drift: float = 0.08  # per-metric national random walk, in spreads
    missing_share: float = 0.06  # (trust, metric) pairs never reported, beyond structural gaps
    revision_share: float = 0.02  # monthly releases later re-sent with a corrected value
    late_share: float = 0.01  # monthly releases that arrive after the next month's
    deficit_share: float = 0.30  # trusts flagged in deficit at the start
    finance_flips_per_quarter: int = 3
    intensive_support_start: int = 1  # trusts in intensive support (segment 5) at the start
    intensive_support_entries_per_year: float = 1.0
    subtype_quality: Mapping[str, float] = field(default_factory=lambda: {
        "Acute - Specialist": 0.6, "Community": 0.5})

    def __post_init__(self) -> None:
        if self.months < 0:
            raise ValueError("months must be 0 or more")
        if not 0 <= self.quality_weight <= 1:
            raise ValueError("quality_weight must lie in 0..1")
        for name in ("missing_share", "revision_share", "late_share", "deficit_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in 0..1")
        parse_period(self.baseline_month)


@dataclass(frozen=True)
class Item:
    """One input of the timeline: ``payload`` is the ingest API request body.

    ``at`` is simulated seconds from the start; ``month`` is the simulated month it is sent
    in (0 = the baseline); ``id`` is the observation id, or the change id of a flag.
    """

    kind: str
    at: int
    month: int
    trust_code: str
    id: str
    payload: Mapping[str, object]
    tag: str = RELEASE

    @property
    def period(self) -> str | None:
        return self.payload.get("period") if self.kind == OBSERVATION else None


@dataclass(frozen=True)
class Timeline:
    """Items in the order they are sent (by ``at``, ties in generation order)."""

    params: GeneratorParams
    periods: tuple[str, ...]  # month label per simulated month, index 0 = baseline
    items: tuple[Item, ...]

    def __len__(self) -> int:
        return len(self.items)

    def until(self, month: int) -> "Timeline":
        """The items sent up to and including simulated ``month`` (0 = baseline only)."""
        return replace(self, items=tuple(i for i in self.items if i.month <= month),
                       periods=self.periods[:month + 1])

    def count(self, kind: str | None = None, tag: str | None = None) -> int:
        return sum(1 for i in self.items
                   if (kind is None or i.kind == kind) and (tag is None or i.tag == tag))

    def inputs(self) -> Iterator[Observation | FinanceStatus | IntensiveSupport]:
        """The items as methodology inputs, in sending order."""
        return (to_input(item) for item in self.items)


def to_input(item: Item) -> Observation | FinanceStatus | IntensiveSupport:
    p = item.payload
    if item.kind == OBSERVATION:
        return Observation(item.trust_code, p["metric_id"], p["period"], p["value"], item.id,
                           source=SOURCE)
    if item.kind == FINANCE:
        return FinanceStatus(item.trust_code, p["in_deficit"], p["receives_deficit_support"],
                             change_id=item.id)
    return IntensiveSupport(item.trust_code, p["intensive_support"], change_id=item.id)


def month_label(index: int) -> str:
    year, month = divmod(index, 12)
    return f"{year}-{month + 1:02d}"


def quarter_label(month_index: int) -> str:
    """The financial-year quarter (``2025-26 Q3``) that contains a month."""
    year, month0 = divmod(month_index, 12)
    fy_start = year if month0 >= 3 else year - 1
    quarter = (month0 - 3) % 12 // 3 + 1
    return f"{fy_start}-{(fy_start + 1) % 100:02d} Q{quarter}"


def _quarter_end(month_index: int) -> bool:
    return month_index % 12 in (2, 5, 8, 11)  # March, June, September, December


def _compact(period: str) -> str:
    return period.replace(" ", "")


def observation_id(seed: int, code: str, metric_id: str, period: str, revision: int) -> str:
    """Stable and unique per (seed, trust, metric, period, revision)."""
    return f"demo{seed}-{code}-{metric_id}-{_compact(period)}-r{revision}"


class _Trust:
    """Generator state of one trust: its latent quality and each metric's level."""

    def __init__(self, info: TrustInfo, quality: float, metrics: dict[str, float]) -> None:
        self.info, self.quality, self.level = info, quality, metrics
        self.noise = {metric: 0.0 for metric in metrics}
        self.in_deficit = False


def generate(register: Mapping[str, TrustInfo], methodology: Methodology,
             params: GeneratorParams = GeneratorParams()) -> Timeline:
    """The deterministic timeline of inputs for the register's scored trusts."""
    rng = random.Random(params.seed)
    base = parse_period(params.baseline_month).end_month
    trusts = _trusts(rng, register, methodology, params)
    drift = {metric: 0.0 for metric in PROFILES}
    items: list[Item] = []
    for trust in trusts:
        items += _baseline(params, methodology, trust, base)
    items += _initial_flags(params, trusts)
    for k in range(1, params.months + 1):
        for metric in drift:
            drift[metric] += rng.gauss(0, params.national_drift)
        items += _month(rng, params, methodology, trusts, drift, base, k)
        items += _flag_changes(rng, params, trusts, k)
    order = sorted(range(len(items)), key=lambda n: (items[n].at, n))
    periods = tuple(month_label(base + k) for k in range(params.months + 1))
    return Timeline(params, periods, tuple(items[n] for n in order))


def _trusts(rng: random.Random, register: Mapping[str, TrustInfo], m: Methodology,
            params: GeneratorParams) -> list[_Trust]:
    out = []
    w = params.quality_weight
    own = math.sqrt(1 - w * w)
    for code in sorted(register):
        info = register[code]
        if info.league not in m.leagues:
            continue
        quality = rng.gauss(0, 1) + params.subtype_quality.get(info.subtype, 0.0)
        levels = {}
        for metric_id in m.metrics.scoring_for(info.league, code):
            profile = PROFILES.get(metric_id)
            missing = rng.random() < params.missing_share  # drawn for every pair: stable stream
            effect = rng.gauss(0, 1)
            if profile is None or info.subtype in profile.not_reported_by_subtype or missing:
                continue
            levels[metric_id] = w * quality + own * effect
        out.append(_Trust(info, quality, levels))
    return out


def _value(rng: random.Random, m: Methodology, metric_id: str, trust: _Trust,
           z: float) -> float:
    """A metric value ``z`` spreads from its centre in the better direction, clipped, rounded."""
    profile: Profile = PROFILES[metric_id]
    league = trust.info.league
    better = 1 if m.metric(metric_id).direction == HIGHER else -1
    if profile.count:
        mean = profile.centre[league] * _SIZE.get(trust.info.subtype, 1.0) * math.exp(-0.5 * z)
        value = float(_poisson(rng, mean))
    else:
        value = profile.centre[league] + better * profile.spread[league] * z
    low, high = profile.bounds
    value = max(value, low) if low is not None else value
    value = min(value, high) if high is not None else value
    return round(value, profile.decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _observation(params: GeneratorParams, code: str, metric_id: str, period: str, value: float,
                 at: int, month: int, tag: str, revision: int = 0) -> Item:
    obs_id = observation_id(params.seed, code, metric_id, period, revision)
    payload = {"trust_code": code, "metric_id": metric_id, "period": period, "value": value,
               "observation_id": obs_id, "source": SOURCE}
    return Item(OBSERVATION, at, month, code, obs_id, payload, tag)


def _period_of(profile: Profile, month_index: int) -> str:
    return month_label(month_index) if profile.cadence == MONTHLY else quarter_label(month_index)


def _baseline(params: GeneratorParams, m: Methodology, trust: _Trust, base: int) -> list[Item]:
    """One value per reported metric: the baseline month, or the last complete quarter."""
    rng = random.Random(f"{params.seed}:baseline:{trust.info.code}")
    out = []
    for metric_id, level in trust.level.items():
        profile = PROFILES[metric_id]
        month = base if profile.cadence == MONTHLY or _quarter_end(base) else base - base % 3 - 1
        out.append(_observation(params, trust.info.code, metric_id, _period_of(profile, month),
                                _value(rng, m, metric_id, trust, level), 0, 0, BASELINE))
    return out


def _month(rng: random.Random, params: GeneratorParams, m: Methodology, trusts: list[_Trust],
           drift: dict[str, float], base: int, k: int) -> list[Item]:
    """Simulated month ``k`` (1-based): each metric's release for period ``base + k``."""
    out = []
    start = (k - 1) * MONTH_S
    end = params.months * MONTH_S
    for trust in trusts:
        code = trust.info.code
        for metric_id, level in trust.level.items():
            profile = PROFILES[metric_id]
            noise = (params.monthly_persistence * trust.noise[metric_id]
                     + rng.gauss(0, params.monthly_noise))
            trust.noise[metric_id] = noise
            late = rng.random() < params.late_share and k < params.months
            revised = rng.random() < params.revision_share
            if profile.cadence != MONTHLY and not _quarter_end(base + k):
                continue  # quarterly metrics are released once the quarter is complete
            period = _period_of(profile, base + k)
            value = _value(rng, m, metric_id, trust, level + noise + drift[metric_id])
            at = start + (profile.release_day - 1) * DAY_S
            month, tag = k, RELEASE
            if late:  # held back until after the next month's release of this metric
                at, month, tag = at + MONTH_S + 3600, k + 1, LATE
            out.append(_observation(params, code, metric_id, period, value, at, month, tag))
            if revised:
                fixed = _value(rng, m, metric_id, trust, level + noise + drift[metric_id]
                               + rng.gauss(0, 0.3))
                if fixed == value:
                    fixed = _nudge(profile, m.metric(metric_id).direction, value)
                room = (end - at) // DAY_S - 1  # a correction comes before the timeline ends
                when = at + rng.randint(1, min(20, room)) * DAY_S if room >= 1 else at + 3600
                out.append(_observation(params, code, metric_id, period, fixed, when,
                                        when // MONTH_S + 1, REVISION, revision=1))
    return out


def _nudge(profile: Profile, direction: str, value: float) -> float:
    """A corrected value one last-decimal step away, inside the bounds."""
    step = 10.0 ** -profile.decimals
    low, high = profile.bounds
    up = round(value + step, profile.decimals)
    if high is None or up <= high:
        return up
    return round(value - step, profile.decimals) if low is None or value - step >= low else value


def _flag(kind: str, code: str, change_id: str, at: int, month: int, payload: dict,
          tag: str) -> Item:
    return Item(kind, at, month, code, change_id, payload, tag)


def _finance(params: GeneratorParams, code: str, in_deficit: bool, at: int, month: int,
             tag: str, n: int) -> Item:
    return _flag(FINANCE, code, f"demo{params.seed}-fin-{code}-{n}", at, month,
                 {"in_deficit": in_deficit, "receives_deficit_support": False}, tag)


def _support(params: GeneratorParams, code: str, on: bool, at: int, month: int, tag: str,
             n: int) -> Item:
    return _flag(INTENSIVE_SUPPORT, code, f"demo{params.seed}-isp-{code}-{n}", at, month,
                 {"intensive_support": on}, tag)


def _initial_flags(params: GeneratorParams, trusts: list[_Trust]) -> list[Item]:
    """Deficit flags for the trusts with the weakest planned surplus, and intensive support
    for the weakest trusts overall."""
    def finance_level(t: _Trust) -> float:
        return t.level.get("OF0079", t.quality)

    by_finance = sorted(trusts, key=lambda t: (finance_level(t), t.info.code))
    for t in by_finance[:round(params.deficit_share * len(trusts))]:
        t.in_deficit = True
    items = [_finance(params, t.info.code, t.in_deficit, 0, 0, BASELINE, 0) for t in trusts]
    for t in _weakest(trusts)[:params.intensive_support_start]:
        items.append(_support(params, t.info.code, True, 0, 0, BASELINE, 0))
    return items


def _weakest(trusts: Iterable[_Trust]) -> list[_Trust]:
    return sorted(trusts, key=lambda t: (t.quality, t.info.code))


def _flag_changes(rng: random.Random, params: GeneratorParams, trusts: list[_Trust],
                  k: int) -> list[Item]:
    """Finance flips spread over the quarter; now and then a trust enters intensive support."""
    start = (k - 1) * MONTH_S
    flips = (params.finance_flips_per_quarter * k) // 3 - (params.finance_flips_per_quarter * (k - 1)) // 3
    items = []
    for n in range(flips):
        trust = trusts[rng.randrange(len(trusts))]
        items.append(_flip(params, trust, start + rng.randint(1, 28) * DAY_S, k, n))
    if rng.random() < params.intensive_support_entries_per_year / 12:
        candidates = _weakest(trusts)[params.intensive_support_start:]
        if candidates:
            t = candidates[rng.randrange(min(3, len(candidates)))]
            items.append(_support(params, t.info.code, True, start + 15 * DAY_S, k, FLIP, k))
    return items


def _flip(params: GeneratorParams, trust: _Trust, at: int, k: int, n: int) -> Item:
    """The opposite of the trust's current deficit flag."""
    trust.in_deficit = not trust.in_deficit
    return _finance(params, trust.info.code, trust.in_deficit, at, k, FLIP, k * 100 + n + 1)
