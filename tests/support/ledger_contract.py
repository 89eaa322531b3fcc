"""One behavioural suite for the idempotency ledger (services/ingest/ledger.py), run on the in-memory twin
(tests/unit/ingest/test_ledger_memory.py) and on Redis (tests/integration/test_ledger_redis.py)."""

from __future__ import annotations

import pytest

from services.ingest.ledger import Claim, Conflicts


class LedgerContract:
    """Subclasses provide a ``ledger`` fixture: an empty ledger."""

    def test_a_series_revision_moves_only_when_its_payload_changes(self, ledger):
        assert ledger.claim([Claim("R0A|OF0013|2025-12", "a")]) == [0]
        assert ledger.claim([Claim("R0A|OF0013|2025-12", "a")]) == [0]
        assert ledger.claim([Claim("R0A|OF0013|2025-12", "b")]) == [1]
        assert ledger.claim([Claim("R0A|OF0013|2025-12", "a")]) == [2]

    def test_a_batch_is_recorded_in_order(self, ledger):
        assert ledger.claim([Claim("s", "a"), Claim("s", "a"), Claim("s", "b"), Claim("t", "a")]) == [0, 0, 1, 0]

    def test_a_client_id_with_another_payload_conflicts_and_nothing_is_recorded(self, ledger):
        assert ledger.claim([Claim("s", "a", "id-1")]) == [0]
        assert ledger.claim([Claim("s", "a", "id-1")]) == [0]
        with pytest.raises(Conflicts) as conflict:
            ledger.claim([Claim("u", "x", "id-2"), Claim("s", "b", "id-1"), Claim("s", "c", "id-1")])
        assert conflict.value.positions == [1, 2]
        assert ledger.claim([Claim("u", "x")]) == [0]  # "u" was not recorded by the refused batch
        assert ledger.claim([Claim("t", "y", "id-2")]) == [0]  # nor was id-2

    def test_nothing_to_claim_answers_nothing(self, ledger):
        assert ledger.claim([]) == []
