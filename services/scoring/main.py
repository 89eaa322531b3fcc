"""Entrypoint: `nof-scoring` runs the faust worker."""

from __future__ import annotations

import sys

from services.scoring.app import create_app
from services.scoring.settings import ScoringSettings


def main() -> None:
    settings = ScoringSettings()
    app = create_app(settings)
    # --quiet: no start-up banner on stdout, so with JSON logs every line of the output is JSON.
    quiet = ["--quiet"] if settings.common.log_json else []
    sys.argv = [sys.argv[0], *quiet, "worker", "--loglevel", settings.common.log_level.lower(),
                "--web-host", settings.host, "--web-port", str(settings.port)]
    app.main()


if __name__ == "__main__":
    main()
