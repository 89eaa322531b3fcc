"""The ``nof`` command line, driven through ``nof.cli.main``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from nof.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LEAGUE = FIXTURES / "nof-league-table-q3-2025-26-subset.csv"
METRICS = FIXTURES / "nof-metrics-sample.csv"
FINANCE = FIXTURES / "nof-finance-sample.csv"


def test_verify_league_on_the_published_subset(capsys):
    assert main(["verify-league", str(LEAGUE)]) == 0
    assert capsys.readouterr().out.splitlines() == ["checked 20 trusts: 0 trust(s) differ, in 0 field(s) (segment or rank)"]


def test_verify_league_reports_a_doctored_row(tmp_path, capsys):
    text = LEAGUE.read_text().replace("KENT COMMUNITY HEALTH NHS FOUNDATION TRUST,Q3 2025/26,1.56,1,No,1",
                                      "KENT COMMUNITY HEALTH NHS FOUNDATION TRUST,Q3 2025/26,1.56,2,No,1")
    doctored = tmp_path / "doctored.csv"
    doctored.write_text(text)
    assert main(["verify-league", str(doctored)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("RYY KENT COMMUNITY") and "Segment expected 1, found 2" in out[0]
    assert out[-1] == "checked 20 trusts: 1 trust(s) differ, in 1 field(s) (segment or rank)"


def test_verify_league_names_file_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(LEAGUE.read_text().replace(",1.82,", ",abc,"))
    assert main(["verify-league", str(bad)]) == 2
    assert f"{bad}:4: column Average_score: 'abc' is not a number" in capsys.readouterr().err


def test_score_csv(capsys):
    assert main(["score", str(METRICS), "--finance", str(FINANCE)]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert list(rows[0]) == ["Trust_type", "Trust_code", "Average_score", "Segment", "Rank",
                             "Unadjusted_rank", "Scored_metrics"]
    by_code = {r["Trust_code"]: r for r in rows}
    assert len(rows) == 7
    assert by_code["RYX"]["Segment"] == "3"  # in deficit: capped
    assert by_code["RXG"]["Segment"] == "5"  # intensive support
    assert by_code["RX6"]["Scored_metrics"] == "3"  # blank Value is left out
    assert "skipped 8 published score rows" in captured.err
    assert "1 rows with non-scoring metric IDs (OF9999)" in captured.err


def test_score_json_includes_explanations(capsys):
    assert main(["score", str(METRICS), "--format", "json", "--methodology", "nof-2026-27"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["methodology_version"] == "nof-2026-27"
    first = data["trusts"][0]
    assert first["explanation"]["trust_code"] == first["Trust_code"]
    assert first["explanation"]["result"]["methodology_version"] == "nof-2026-27"


def test_explain_prints_the_derivation(capsys):
    assert main(["explain", "RYX", str(METRICS), "--finance", str(FINANCE)]) == 0
    out = capsys.readouterr().out
    assert "OF0063" in out and "position 1.00 of 4" in out
    assert "raised to 3" in out and out.count("\n") > 8
    assert "None" not in out
    assert "distance to next better segment: none: held at the financial cap" in out  # RYX is capped at 3
    assert main(["explain", "NOPE", str(METRICS)]) == 2


@pytest.mark.parametrize("replace, message", [
    (("8.0", "abc"), "column Value: 'abc' is not a number"),
    (("8.0", "120"), "column Value: '120' is outside 0..100 for unit percent"),
    (("Q3 2025/26", "Q5 2025/26"), "column Quarter:"),
    (("Ambulance trust", "Dental practice"), "column Trust_type: unknown trust type"),
])
def test_score_errors_name_file_line_column(tmp_path, capsys, replace, message):
    bad = tmp_path / "metrics.csv"
    bad.write_text(METRICS.read_text().replace(*replace, 1))
    assert main(["score", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and message in err


def test_usage_errors(capsys):
    assert main(["score", str(METRICS), "--methodology", "nof-1999-00"]) == 2
    assert "unknown methodology version" in capsys.readouterr().err
    assert main(["score", "/no/such/file.csv"]) == 2
    assert main([]) == 2
    assert main(["--help"]) == 0


def test_a_league_the_methodology_does_not_score_says_so():
    from nof.commands.league import missing_table

    acute = {"league": "acute", "methodology_version": "nof-2025-26"}
    said = missing_table("icb", acute, "redis://x")
    assert "the icb league has no table under the configured methodology nof-2025-26" in said
    assert "scored by nof-2026-27" in said and "stack running" not in said
    assert "has not scored any input" in missing_table("ambulance", acute, "redis://x")
    assert "is the stack running?" in missing_table("acute", None, "redis://x")


def test_explain_says_why_there_is_no_distance_to_a_better_segment():
    from types import SimpleNamespace

    from shared.methodology.explain import distance_text

    def result(segment, distance=None):
        return SimpleNamespace(segment=segment, distance_to_next_segment=distance)

    assert distance_text(result(2, "0.12")).startswith("0.12")
    assert distance_text(result(1)) == "none: already in segment 1, the best"
    assert "decision" in distance_text(result(5)) and "too few" in distance_text(result(None))
