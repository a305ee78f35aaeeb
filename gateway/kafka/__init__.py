"""The Kafka edge: embedded broker, topic admin, followers, the consume loop.

Nothing outside this package imports aiokafka.
"""
