"""One module per ``nof`` subcommand; each exposes ``register(subparsers)``."""
