"""The kill soak: the scorer SIGKILLed again and again mid-stream, under CPU load, then checked against the
batch methodology and a crash-free run (``python -m tests.soak``, ``make soak``; a shorter one in the fault tier)."""
