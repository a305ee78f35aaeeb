"""Enforcement policy, reference data and destinations (spec/policy.md, agreements.md)."""
