"""The trust register shipped with the package (code, name, type, subtype, region, source)."""

from __future__ import annotations

import csv
import io
from importlib import resources

from .inputs import TrustInfo

_COLUMNS = ("Trust_code", "Trust_name", "Trust_type", "Trust_subtype", "Region", "Source")


def load_trust_register(text: str | None = None) -> dict[str, TrustInfo]:
    """Trust code -> TrustInfo from ``shared/data/trusts.csv`` (or CSV ``text``).

    The csv module handles names that contain quoted commas.
    """
    if text is None:
        text = resources.files("shared").joinpath("data", "trusts.csv").read_text("utf-8-sig")
    rows = csv.DictReader(io.StringIO(text))
    missing = [c for c in _COLUMNS[:3] if c not in (rows.fieldnames or ())]
    if missing:
        raise ValueError(f"trust register lacks columns {', '.join(missing)}")
    return {
        row["Trust_code"].strip(): TrustInfo(
            code=row["Trust_code"].strip(), name=row["Trust_name"].strip(),
            trust_type=row["Trust_type"].strip(), subtype=(row.get("Trust_subtype") or "").strip(),
            region=(row.get("Region") or "").strip(), source=(row.get("Source") or "").strip())
        for row in rows
    }
