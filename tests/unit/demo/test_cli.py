"""``nof demo`` through ``nof.cli.main``: no network (dry runs, files, refused starts)."""

from __future__ import annotations

import csv

from nof.cli import main


def test_dry_run_summarises_without_sending(capsys):
    assert main(["demo", "run", "--dry-run", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dry run (seed 3): ") and "Nothing sent." in out
    assert "a quarter in 300 s: about 29" in out  # the default pace: a quarter in five minutes


def test_dry_run_baseline_only(capsys):
    assert main(["demo", "run", "--dry-run", "--baseline-only", "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert "inputs, the 2025-09 baseline only:" in out and "over 0 months" not in out
    assert "as fast as possible" in out


def test_pace_options_exclude_each_other(capsys):
    assert main(["demo", "run", "--dry-run", "--speed", "0", "--quarter-in", "60"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_calibrate_prints_the_table_and_passes(capsys):
    assert main(["demo", "calibrate"]) == 0
    out = capsys.readouterr().out
    assert "  mean           2.37       2.45   +0.08" in out
    assert "all trusts: within tolerance" in out


def test_export_writes_the_long_layout(tmp_path, capsys):
    path = tmp_path / "demo.csv"
    assert main(["demo", "export", "--format", "csv", str(path)]) == 0
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["Quarter"] == "Q2 2025/26" and rows[-1]["Quarter"] == "Q3 2025/26"
    assert f"wrote {len(rows):,} rows" in capsys.readouterr().err
    assert main(["score", str(path)]) == 0  # loads with the existing importer


def test_run_without_a_key_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NOF_DEMO_API_KEY", raising=False)
    monkeypatch.setenv("NOF_LOCAL_DIR", str(tmp_path))
    assert main(["demo", "run", "--baseline-only"]) == 2
    assert "no ingest API key: pass --api-key, set NOF_DEMO_API_KEY" in capsys.readouterr().err


def test_import_of_a_missing_file(tmp_path, capsys):
    assert main(["demo", "import", str(tmp_path / "absent.csv"), "--api-key", "k"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_baseline_only_run_names_no_pace_and_no_months(capsys):
    """What `make run` prints when it loads the baseline: no "a quarter in 300 s", no "over 0 months"."""
    assert main(["demo", "run", "--dry-run", "--baseline-only"]) == 0
    out = capsys.readouterr().out
    assert "a quarter in" not in out and "0 months" not in out and "baseline only" in out


def test_a_replay_names_its_months(capsys):
    assert main(["demo", "run", "--dry-run", "--quarter-in", "300"]) == 0
    out = capsys.readouterr().out
    assert "a quarter in 300 s" in out and "3 months after the 2025-09 baseline" in out
