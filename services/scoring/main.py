"""Entrypoint: `nof-scoring` runs the faust worker."""

from __future__ import annotations

import gc
import sys

from services.scoring import gc_pauses
from services.scoring.app import create_app
from services.scoring.settings import ScoringSettings

GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython's default is 700)


def main() -> None:
    # Fewer, larger young-generation collections: a worker allocates heavily per record (records,
    # events, Kafka batches) and keeps little of it.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    gc_pauses.watch()
    settings = ScoringSettings()
    app = create_app(settings)
    # --quiet: no start-up banner on stdout, so with JSON logs every line of the output is JSON.
    quiet = ["--quiet"] if settings.common.log_json else []
    sys.argv = [sys.argv[0], *quiet, "worker", "--loglevel", settings.common.log_level.lower(),
                "--web-host", settings.host, "--web-port", str(settings.port)]
    app.main()


if __name__ == "__main__":
    main()
