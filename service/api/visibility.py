"""Who may see what on the live channels (docs/operations.md "Desks, roles and readers";
Decree 13/2023/NĐ-CP: personal data isolated per desk): the one place that decides whether a
caller sees an event or a reader's card.

An event is for the desks it names (the desk that owns the scan; the desks that own the
reader); a reader is visible to the desks that own it. Anyone else never learns of them.
Swap these two functions to change the rule everywhere the push channels apply it.
"""

from __future__ import annotations

from service.api.events import Event
from service.desks import Principal


def may_see_reader(caller: Principal, reader: str) -> bool:
    return caller.owns_reader(reader)


def may_see_event(caller: Principal, event: Event) -> bool:
    return caller.name in event.to
