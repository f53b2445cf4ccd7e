"""Declaring orchestrated workflows (sagas).

A workflow is an ordered list of steps; each step names an action and its compensation, both
methods of ``logistics.sync.saga`` taking no argument besides the saga record (``self``)::

    WORKFLOW = Workflow(
        code="book_shipment",
        name="Book a shipment",
        steps=[
            Step("reserve", "_book_shipment_reserve", "_book_shipment_unreserve"),
            Step("book", "_book_shipment_book", "_book_shipment_cancel"),
        ],
    )

and is registered by overriding ``logistics.sync.saga._get_workflows()``. Actions and
compensations must be idempotent: the engine never re-runs a step whose log says done, but a
crash between the step's effect and its log entry may let it run twice. ``self.context`` is a
JSON dict shared by the steps; a step may return a dict merged into it.

A step that meets a transient failure (a partner that does not answer, a 503) raises
:class:`StepRetry`: what it did is rolled back, the attempt is logged durably (the step shows
*Waiting to retry* with the reason) and the step runs again later, after ``seconds`` or the
workflow's ``retry_delays``. After the step's ``max_attempts`` it fails like any other error
(and compensation starts)::

    raise StepRetry("carrier answered 503", seconds=30)

``on_done``, ``on_compensated`` and ``on_failed`` optionally name saga methods called once,
in the same transaction, when a run ends in that state (e.g. to tell a person, or to start a
fallback run)::

    Workflow(code="book_shipment", name="Book a shipment", steps=[...],
             on_compensated="_book_shipment_rejected")
"""

from dataclasses import dataclass, field

#: Seconds before the 1st, 2nd, ... retry of a step that raised StepRetry without seconds.
DEFAULT_RETRY_DELAYS = (10, 30, 120, 600, 1800)


class StepRetry(Exception):
    """A transient failure: run the step again later (see the module docstring)."""

    def __init__(self, reason, seconds=None):
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


@dataclass(frozen=True)
class Step:
    name: str
    action: str
    compensation: str | None = None
    max_attempts: int = 5


@dataclass(frozen=True)
class Workflow:
    code: str
    name: str
    steps: list = field(default_factory=list)
    on_done: str | None = None
    on_compensated: str | None = None
    on_failed: str | None = None
    retry_delays: tuple = DEFAULT_RETRY_DELAYS

    def retry_delay(self, attempts):
        """Seconds before the next try of a step that has made ``attempts`` attempts."""
        return self.retry_delays[min(attempts, len(self.retry_delays)) - 1]

    def step(self, name):
        return next(step for step in self.steps if step.name == name)
