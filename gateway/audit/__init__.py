"""The tamper-evident audit log (spec/audit.md): one hash chain per inbound partition."""
