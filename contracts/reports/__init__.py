"""One module per report type and version; each defines ``CONTRACT``.

Adding a version or a report type is adding a module here (and its schema
snapshot): the registry discovers it, no gateway code changes.
"""
