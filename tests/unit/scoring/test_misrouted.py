"""A record on the wrong partition, or an input under another league's key, is dead-lettered: applying it
would score one league in two engines, each with its own versions and event ids."""

from __future__ import annotations

import asyncio

import orjson

from services.scoring.recorder import MemoryBroker, ProcessRecorder
from services.scoring.worker import Record, ScoringWorker
from shared.events import ObservationReceived, ObservationsReceived
from shared.methodology import get_methodology
from tests.support import inputs

M = get_methodology()
OBS = "observations"
PARTITIONS = 6


def observation(league: str, oid: str) -> ObservationReceived:
    code = inputs.members(league)[0]
    return inputs.observation(code, inputs.scored_metric(code), 70.0, oid)


def test_misrouted_records_and_inputs_are_dead_lettered_and_never_scored():
    broker = MemoryBroker()
    worker = ScoringWorker(M, ProcessRecorder(broker, "changelog", broker.table("changelog")), broker, "changes",
                           PARTITIONS)
    worker.recover(range(PARTITIONS), (OBS,))
    home, other = worker.partition_of("ambulance"), worker.partition_of("acute")
    for tp in ((OBS, home), (OBS, other)):
        worker.start_at(tp, 0)
    good, stray = observation("ambulance", "good"), observation("mental-health-community", "stray")
    records = [
        Record(OBS, home, 0, b"ambulance", ObservationsReceived(observations=[good, stray]).to_bytes()),
        Record(OBS, other, 0, b"ambulance", observation("ambulance", "elsewhere").to_bytes()),
    ]
    done = asyncio.run(worker.process(records))

    assert done.inputs == 3 and not done.gaps
    letters = [orjson.loads(value) for _, value in broker.topic(f"{OBS}.dlq")]
    assert sorted(letter["reason"] for letter in letters) == [
        f"misrouted: key 'ambulance' belongs on partition {home}, not {other}",
        f"misrouted: trust {stray.trust.code}'s inputs are keyed 'mental-health-community', not 'ambulance'",
    ]
    assert list(worker.scorers) == ["ambulance"]
    scorer = worker.scorers["ambulance"]
    assert scorer.seen == {"good"}
    assert stray.trust.code not in scorer.trusts
    # the misrouted record's partition still moves on: it is not read again
    assert worker.positions[(OBS, other)] == 1 and worker.positions[(OBS, home)] == 1
