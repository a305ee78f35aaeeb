"""Benchmarks of the gateway against a bare aiokafka pass-through, on the embedded broker (`make bench`)."""
