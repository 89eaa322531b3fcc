"""Fault tests stop and kill parts of a pipeline of their own."""
