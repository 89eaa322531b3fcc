"""Helpers the integration, e2e and fault tiers share: isolated pipelines of real processes."""
