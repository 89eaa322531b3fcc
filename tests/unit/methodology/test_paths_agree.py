"""Property: after any input sequence, incremental state == batch result (METHODOLOGY §2-§6)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from shared.methodology import (
    FinanceStatus, IncrementalEngine, IntensiveSupport, MetricDefinition, Observation,
    Retraction, TrustInfo, get_methodology, score_batch,
)
from shared.methodology.batch import fold
from shared.methodology.catalogue import BANDED, BY_GRANULARITY, CONTEXTUAL, HIGHER, LOWER, bands
from shared.methodology.explain import explain_trusts

BOTH = frozenset({"acute", "mental-health-community"})
METRICS = (
    MetricDefinition("X1", "one", "access", BOTH, HIGHER, "percent", excludes=frozenset({"T5"})),
    MetricDefinition("X2", "two", "safety", BOTH, LOWER, "count"),
    MetricDefinition("X3", "banded", "access", frozenset({"acute"}), HIGHER, "pp", kind=BANDED,
                     bands=bands((0, 1), (-1, 2), (-3, 3))),
    MetricDefinition("X4", "context", "people", BOTH, LOWER, "rate", role=CONTEXTUAL),
    MetricDefinition("X5", "cross-type", "finance", BOTH, HIGHER, "score",
                     comparison_group=BY_GRANULARITY),
)
PERIODS = ("2025-10", "2025-11", "2025-26 Q3", "2025-12")
TYPES = ("Acute trust", "Mental health and community trust")
BASE = get_methodology().replace(version="prop", metrics=METRICS, bootstrap_resamples=25)

methodologies = st.builds(
    BASE.replace,
    mapping=st.sampled_from(["rank-linear", "min-max", "percent-rank"]),
    segment_strategy=st.sampled_from(["fixed", "quartile"]),
    min_peers=st.sampled_from([2, 3]),
    min_scored_metrics=st.sampled_from([1, 2]),
    segment5=st.booleans(),
)


@st.composite
def scenarios(draw):
    m = draw(methodologies)
    n = draw(st.integers(1, 7))
    trusts = {f"T{i}": TrustInfo(f"T{i}", f"Trust {i}", draw(st.sampled_from(TYPES)))
              for i in range(n)}
    codes = st.sampled_from(sorted(trusts))
    ids = st.integers(0, 40).map(lambda i: f"id{i}")
    observation = st.builds(
        lambda t, mid, p, v, i: Observation(t, mid, p, Decimal(v - 5 if mid == "X3" else v), i),
        codes, st.sampled_from([m.id for m in METRICS]), st.sampled_from(PERIODS),
        st.integers(0, 7), ids)
    finance = st.builds(FinanceStatus, codes, st.sampled_from([None, True, False]),
                        st.booleans(), ids)
    intensive = st.builds(IntensiveSupport, codes, st.booleans(), ids)
    rids = st.integers(0, 20).map(lambda i: f"r{i}")
    retraction = st.one_of(  # by observation id, by metric and period, or a flag change by its id
        st.builds(lambda t, i, r: Retraction(r, t, "observation", input_id=i), codes, ids, rids),
        st.builds(lambda t, mid, p, r: Retraction(r, t, "observation", metric_id=mid, period=p),
                  codes, st.sampled_from([m.id for m in METRICS]), st.sampled_from(PERIODS), rids),
        st.builds(lambda t, k, i, r: Retraction(r, t, k, input_id=i),
                  codes, st.sampled_from(["finance", "intensive_support"]), ids, rids))
    ops = draw(st.lists(st.one_of(observation, observation, observation, finance, intensive, retraction,
                                  st.integers(0, 60)), min_size=12, max_size=60))
    inputs = []
    for op in ops:  # an int re-sends an earlier input verbatim
        if isinstance(op, int):
            if inputs:
                inputs.append(inputs[op % len(inputs)])
        else:
            inputs.append(op)
    crowd = draw(st.sampled_from([0.5, 2.0]))  # 2.0: never re-rank wholesale
    return m, trusts, inputs, crowd


def _fields(r):
    yield ("completeness", None), r.scored_metrics
    for name in ("average", "raw_segment", "segment", "capped", "rank", "unadjusted_rank",
                 "intensive_support"):
        yield (name, None), getattr(r, name)
    yield ("finance", None), (r.in_deficit, r.receives_deficit_support)
    for mid, score in r.metric_scores.items():
        yield ("metric_score", mid), score


def _state(results):
    state = {}
    for r in results:
        for (kind, mid), value in _fields(r):
            state[(r.trust_code, kind, mid)] = value
    return state


@settings(max_examples=2500, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_incremental_equals_batch_and_changes_replay(scenario):
    m, trusts, inputs, crowd = scenario
    engine = IncrementalEngine(m, trusts)
    engine.crowd = crowd
    replay = _state(engine.results())
    half = len(inputs) // 2
    for step, item in enumerate(inputs):
        for change in engine.apply(item):
            assert change.cause.trust_code == item.trust_code
            key = (change.trust_code, change.kind, change.metric_id)
            assert replay.get(key) == change.old, change
            replay[key] = change.new
        if step == half:
            assert engine.results() == score_batch(m, trusts, inputs[: step + 1])
            engine.explain_many(sorted(trusts))  # lines kept from here must not go stale
    final = engine.results()
    assert final == score_batch(m, trusts, inputs)
    # Explanations: the engine reads positions from its live metric groups, the batch path sorts peers.
    store = fold(m, trusts, inputs)
    assert engine.explain_many(sorted(trusts)) == explain_trusts(m, store, final, sorted(trusts))
    assert final == IncrementalEngine(m, trusts, inputs).results()
    assert {k: v for k, v in replay.items() if v is not None} == {
        k: v for k, v in _state(final).items() if v is not None}
