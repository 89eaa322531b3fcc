"""``nof demo``: realistic, seeded NOF inputs (generator), their calibration against NHS
England's published distribution, and their replay into the ingest API."""
