"""Billing services: every write, one module per capability."""
