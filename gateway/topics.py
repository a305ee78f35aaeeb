"""Topic names of spec/wire.md, with the deployment prefix in one place."""

from dataclasses import dataclass

from gateway.types import PartnerId

INBOUND_PREFIX = "gkt.in."
FEEDBACK_PREFIX = "gkt.feedback."


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic name, each carrying the deployment prefix (setting ``topic_prefix``)."""

    prefix: str = ""

    def inbound(self, partner: PartnerId) -> str:
        return f"{self.prefix}{INBOUND_PREFIX}{partner}"

    def feedback(self, partner: PartnerId) -> str:
        return f"{self.prefix}{FEEDBACK_PREFIX}{partner}"

    @property
    def quarantine(self) -> str:
        return f"{self.prefix}gkt.quarantine"

    @property
    def review(self) -> str:
        """Reviewers' signed verdicts on quarantined reports (spec/review.md)."""
        return f"{self.prefix}gkt.review"

    @property
    def terugkoppeling(self) -> str:
        """Detection teams' signed feedback on signals (spec/selection.md)."""
        return f"{self.prefix}bd.terugkoppeling"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}gkt.deadletter"

    @property
    def audit(self) -> str:
        return f"{self.prefix}gkt.audit"

    @property
    def checkpoints(self) -> str:
        """The gateway's signed checkpoints of the audit chains (spec/witness.md)."""
        return f"{self.prefix}gkt.checkpoints"

    @property
    def witness(self) -> str:
        """Witnesses' cosigned checkpoints (spec/witness.md)."""
        return f"{self.prefix}gkt.witness"

    @property
    def reference(self) -> str:
        return f"{self.prefix}bd.ref.opdrachtgevers"

    def destination(self, name: str) -> str:
        """A policy destination (``bd.detectie.mkb``…) with the prefix."""
        return f"{self.prefix}{name}"

    def partner_of(self, topic: str) -> PartnerId | None:
        """The partner that owns an inbound topic, or None for any other topic."""
        head = f"{self.prefix}{INBOUND_PREFIX}"
        if not topic.startswith(head) or len(topic) == len(head):
            return None
        return PartnerId(topic[len(head) :])
