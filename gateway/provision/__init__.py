"""What a Kafka cluster needs for the gateway, from the agreements and policies alone (docs/operations.md).

``plan`` decides it (topics with their partitions and configs, principals,
ACLs of spec/wire.md), pure; ``script`` writes it as the shell lines
``docker/kafka/provision.sh`` runs; ``gateway.kafka.admin`` creates the topics.
Onboarding a partner is a new agreement file (and the password its principal
logs in with): nothing here names one.
"""
