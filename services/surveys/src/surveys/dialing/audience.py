"""Whether a customer's segment attributes fall into a campaign's audience."""

from __future__ import annotations

from collections.abc import Mapping

from callcenter_events.models.customers import SegmentValue


def in_audience(audience: Mapping[str, SegmentValue], segment: Mapping[str, SegmentValue]) -> bool:
    """Every attribute of the audience matches: the customer's value is one of those accepted.

    An audience value that is a list accepts any of its items; a customer attribute that is a
    list (products bought) matches when any of its items is accepted. An empty audience is
    every customer.
    """
    return all(_matches(accepted, segment.get(name)) for name, accepted in audience.items())


def _matches(accepted: SegmentValue, value: SegmentValue | None) -> bool:
    if value is None:
        return False
    wanted = accepted if isinstance(accepted, list) else [accepted]
    values = value if isinstance(value, list) else [value]
    return any(_same(v, w) for v in values for w in wanted)


def _same(value: object, wanted: object) -> bool:
    """Equal, and both booleans or neither (`True` is not the number 1 here)."""
    return isinstance(value, bool) == isinstance(wanted, bool) and value == wanted
