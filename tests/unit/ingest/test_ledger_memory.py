"""The idempotency ledger's behavioural suite on the in-memory twin."""

import pytest

from services.ingest.ledger import MemoryLedger
from tests.support.ledger_contract import LedgerContract


class TestMemoryLedger(LedgerContract):
    @pytest.fixture
    def ledger(self):
        return MemoryLedger()
