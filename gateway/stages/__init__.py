"""The decision stages of spec/wire.md, one module each, in the order they run.

Each is a plain function over plain data: no Kafka, no clock, no I/O, so the
service, ``gkt check`` and ``gkt audit replay`` share them.
"""
