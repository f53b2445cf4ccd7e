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
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    name: str
    action: str
    compensation: str | None = None


@dataclass(frozen=True)
class Workflow:
    code: str
    name: str
    steps: list = field(default_factory=list)

    def step(self, name):
        return next(step for step in self.steps if step.name == name)
