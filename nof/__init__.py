"""The ``nof`` command line: score, explain and verify NHS Oversight Framework league tables."""
