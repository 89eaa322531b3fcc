"""Export to NHS England's long layout and read it back the way the ingest API does."""

from __future__ import annotations

import csv
import io

from nof.csv_formats import METRIC_COLUMNS
from nof.demo.export import nhse_quarter, quarterly_values, write_long_csv
from nof.loading import score_files
from services.ingest.accept import Acceptor
from services.ingest.csv_import import CsvTally, read_rows
from shared.methodology import Observation, score_batch


def _export(timeline, register, methodology) -> str:
    out = io.StringIO()
    write_long_csv(out, timeline, register, methodology)
    return out.getvalue()


def test_layout(timeline, register, methodology):
    rows = list(csv.reader(io.StringIO(_export(timeline, register, methodology))))
    assert tuple(rows[0]) == METRIC_COLUMNS
    assert {r[0] for r in rows[1:]} == {"Q2 2025/26", "Q3 2025/26"}
    assert nhse_quarter("2025-26 Q3") == "Q3 2025/26"


def test_round_trip_through_the_ingest_csv_reader(timeline, register, methodology):
    text = _export(timeline, register, methodology)
    tally = CsvTally()
    events = [k.event for k in read_rows(io.BytesIO(text.encode()), Acceptor(methodology, register),
                                         tally, "test")]
    assert not tally.skipped
    got = sorted((e.trust.code, e.metric_id, e.period, e.value) for e in events)
    want = sorted((q.trust_code, q.metric_id, q.quarter, q.value) for q in quarterly_values(timeline))
    assert got == want


def test_the_quarter_holds_the_latest_month_after_revisions(timeline):
    finals = {}
    for item in timeline.items:  # a revision or a late period arrives after what it amends
        if item.kind == "observation" and item.payload["period"] == "2025-12":
            key = (item.trust_code, item.payload["metric_id"])
            finals[key] = item.payload["value"]
    exported = {(q.trust_code, q.metric_id): q.value for q in quarterly_values(timeline)
                if q.quarter == "2025-26 Q3"}
    for key, value in finals.items():
        assert exported[key] == value


def test_scoring_the_export_equals_scoring_its_values(timeline, register, methodology, tmp_path):
    path = tmp_path / "demo.csv"
    path.write_text(_export(timeline, register, methodology))
    from_file = score_files(methodology, str(path), None).results
    inputs = [Observation(q.trust_code, q.metric_id, q.quarter, q.value, f"{n}")
              for n, q in enumerate(quarterly_values(timeline))]
    direct = score_batch(methodology, register, inputs)
    assert {(r.trust_code, r.average) for r in from_file} == \
        {(r.trust_code, r.average) for r in direct}
