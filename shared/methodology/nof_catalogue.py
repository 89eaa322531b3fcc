"""The NHS Oversight Framework metric catalogue as data (METHODOLOGY §7).

IDs are the ones in NHS England's published 2025/26 data files [V]; the ambulance IDs are
provisional because no official ID is public. Fields not marked in ``provenance`` are [A].
"""

from __future__ import annotations

from .catalogue import (
    BANDED, CONTEXTUAL, HIGHER, LOWER, MetricDefinition, bands,
)

ACUTE = frozenset({"acute"})
MHC = frozenset({"mental-health-community"})
AMB = frozenset({"ambulance"})
PROVIDERS = ACUTE | MHC | AMB

# Cancer-specialist trusts that OF0023 excludes [V: "excludes cancer specialist providers"];
# the register has no cancer-specialist subtype, so they are listed by code [A].
CANCER_SPECIALISTS = frozenset({"RBV", "REN", "RPY"})

_V_ID = {"id": "V"}
_LATEST_MONTH = "latest month in the period"


def _m(id, name, domain, applies_to, direction, unit, provenance=None, **kw):
    return MetricDefinition(
        id=id, name=name, domain=domain, applies_to=applies_to, direction=direction,
        unit=unit, provenance={**_V_ID, **(provenance or {})}, **kw,
    )


def provider_metrics_2025_26() -> tuple[MetricDefinition, ...]:
    """The 2025/26 provider metrics of METHODOLOGY §7."""
    return (
        _m("OF0023", "RTT waiting list waiting 18 weeks or less", "access", ACUTE, HIGHER,
           "percent", {"applies_to": "V", "direction": "V", "kind": "V"},
           excludes=CANCER_SPECIALISTS, basis=_LATEST_MONTH),
        _m("OF0106", "Actual minus planned 18-week performance", "access", ACUTE, HIGHER,
           "pp", {"applies_to": "V", "kind": "V"}, kind=BANDED,
           bands=bands((0, 1), (-1, 2), (-3, 3)), basis=_LATEST_MONTH),
        _m("OF0010", "Cancer 28-day faster diagnosis standard", "access", ACUTE, HIGHER,
           "percent", basis=_LATEST_MONTH),
        _m("OF0011", "Cancer 62-day treatment standard", "access", ACUTE, HIGHER, "percent",
           basis=_LATEST_MONTH),
        _m("OF0013", "A&E patients seen within 4 hours", "access", ACUTE, HIGHER, "percent",
           basis=_LATEST_MONTH),
        _m("OF0014", "A&E patients spending over 12 hours in department", "access", ACUTE,
           LOWER, "percent", basis=_LATEST_MONTH),
        _m("OF0063", "Mental health inpatients with a stay of 60 days or more",
           "effectiveness", MHC, LOWER, "percent"),
        _m("OF0020", "MRSA bacteraemia cases", "safety", ACUTE, LOWER, "count"),
        _m("OF0088", "C. difficile infection rate", "safety", ACUTE, LOWER, "rate"),
        _m("OF0048", "E. coli bacteraemia rate", "safety", ACUTE, LOWER, "rate"),
        _m("OF0061", "Staff survey: raising concerns score", "safety", PROVIDERS, HIGHER,
           "score"),
        _m("OF0082", "Sickness absence rate", "people", PROVIDERS, LOWER, "percent"),
        _m("OF0084", "Staff engagement score", "people", PROVIDERS, HIGHER, "score"),
        _m("OF0079", "Planned surplus/deficit as % of income", "finance", PROVIDERS, HIGHER,
           "signed_percent"),
        _m("OF0081", "Year-to-date variance to financial plan", "finance", PROVIDERS,
           HIGHER, "signed_percent"),
        _m("OF0085", "Implied productivity growth", "finance", PROVIDERS, HIGHER,
           "signed_percent"),
        _m("PRV-AMB-C1", "Category 1 mean response time", "access", AMB, LOWER, "minutes",
           {"id": "A"}, provisional=True, basis=_LATEST_MONTH),
        _m("PRV-AMB-C2", "Category 2 mean response time", "access", AMB, LOWER, "minutes",
           {"id": "A"}, provisional=True, basis=_LATEST_MONTH),
    )


def icb_metrics_2026_27() -> tuple[MetricDefinition, ...]:
    """Provisional ICB metrics for 2026/27: ICBs are scored from 2026/27 [V]; which metrics
    apply to them is not in our sources, so these are placeholders marked provisional [A]."""
    icb = frozenset({"icb"})
    return (
        _m("PRV-ICB-FIN", "ICB year-to-date variance to financial plan", "finance", icb,
           HIGHER, "signed_percent", {"id": "A"}, provisional=True),
        _m("PRV-ICB-RTT", "ICB population RTT waiting 18 weeks or less", "access", icb,
           HIGHER, "percent", {"id": "A"}, provisional=True),
        _m("PRV-ICB-POP", "ICB registered population (thousands)", "access", icb, HIGHER,
           "count", {"id": "A"}, provisional=True, role=CONTEXTUAL),
    )
