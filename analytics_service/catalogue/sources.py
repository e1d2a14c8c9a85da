"""Card sources: the data each card is computed from, as plain records.

A card record names one of these sources. The query builder in
``analytics_service.query`` turns them into aggregation pipelines, so adding a card
with an existing kind of source is one record in the catalogue and no new code.

``match`` filters are static MongoDB query documents written here, never request input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Registered users: not anonymous. Older user documents have no ``isAnonymous`` and mark
# guests with ``appRole: guestUser`` instead.
REGISTERED_USER: Mapping[str, Any] = {"isAnonymous": {"$ne": True}, "appRole": {"$ne": "guestUser"}}

HEADLINE_PUBLISHED: Mapping[str, Any] = {"status": "active"}
REACTION_PRESENT: Mapping[str, Any] = {"reaction": {"$ne": None}}
COMMENT_PRESENT: Mapping[str, Any] = {"comment": {"$ne": None}}
LIKE_REACTION: Mapping[str, Any] = {"reaction.reactionType": "like"}


@dataclass(frozen=True)
class WindowCount:
    """Documents whose time field falls in the window; ``cumulative`` counts all before its end."""

    collection: str
    match: Mapping[str, Any] = field(default_factory=dict)
    time_field: str = "createdAt"
    cumulative: bool = False


@dataclass(frozen=True)
class SnapshotCount:
    """Documents matching ``match`` now, whatever their age."""

    collection: str
    match: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SnapshotArrayLength:
    """Sum of the lengths of an array field over all documents now."""

    collection: str
    array_field: str


@dataclass(frozen=True)
class WindowFieldSum:
    """Sum of a numeric field over documents in the window; unavailable where no document has it."""

    collection: str
    value_field: str
    time_field: str = "createdAt"


@dataclass(frozen=True)
class WindowMeanDuration:
    """Mean seconds from ``start_field`` to ``end_field`` of documents whose start is in the window."""

    collection: str
    start_field: str
    end_field: str
    match: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActiveRewardUsers:
    """Users holding at least one reward that expires after now."""

    collection: str = "user_rewards"


@dataclass(frozen=True)
class DailyCount:
    """Documents per calendar day in the dashboard's time zone, zeros included."""

    collection: str
    match: Mapping[str, Any] = field(default_factory=dict)
    time_field: str = "createdAt"


@dataclass(frozen=True)
class GroupCount:
    """Documents per value of ``group_field``, in the window or (``snapshot``) now.

    ``categories`` lists the known values in display order; they appear with zeros when
    absent. ``aliases`` maps values of older documents to current ones, and
    ``fallback_field`` is read when ``group_field`` is missing.
    """

    collection: str
    group_field: str
    categories: tuple[str, ...] = ()
    match: Mapping[str, Any] = field(default_factory=dict)
    time_field: str = "createdAt"
    snapshot: bool = False
    fallback_field: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    # Display labels of bar values come from the entity's language map when True.
    label_field: str | None = None


@dataclass(frozen=True)
class ActiveRewardsByType:
    """Active rewards (expiring after now) per reward type."""

    collection: str = "user_rewards"


@dataclass(frozen=True)
class HeadlineEngagement:
    """Reactions and comments on headlines in the window, per headline attribute.

    ``dimension`` is ``topic``, ``sourceType`` or ``person``. Engagements are grouped by
    headline in MongoDB; the headlines are then read by id list, because engagements
    store the headline id as a string and headlines as an ObjectId.
    """

    dimension: str
    collection: str = "engagements"


@dataclass(frozen=True)
class MostLikedHeadlines:
    """Headlines ranked by ``like`` reactions in the window, titles from ``headlines``."""

    collection: str = "engagements"


@dataclass(frozen=True)
class MostFollowed:
    """Entities ranked by follows held now in ``user_content_preferences``."""

    array_field: str
    entity_collection: str
    collection: str = "user_content_preferences"


@dataclass(frozen=True)
class ProviderSource:
    """Base of the sources that only an analytics provider (GA4, Mixpanel, own events) can give.

    Provider-backed frames cover whole calendar days that have ended (see
    ``complete_day_ranges``); event counts are divided by the app's sampling rate for
    the event, read from ``remote_configs``.
    """


@dataclass(frozen=True)
class ProviderEvents(ProviderSource):
    """Events of one name (optionally with parameter values) per window."""

    event: str
    parameters: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderDailyEvents(ProviderSource):
    """Events of one name per calendar day, zeros included."""

    event: str


@dataclass(frozen=True)
class ProviderActiveUsers(ProviderSource):
    """Distinct active users per window; never summed from days."""


@dataclass(frozen=True)
class ProviderDailyActiveUsers(ProviderSource):
    """Distinct active users of each calendar day."""


@dataclass(frozen=True)
class ProviderEngagementRate(ProviderSource):
    """Reactions in the database divided by headline views from the provider, in percent."""


@dataclass(frozen=True)
class ProviderViewsBy(ProviderSource):
    """Headline views per window added up by headline ``topic`` or mentioned ``person``."""

    dimension: str


@dataclass(frozen=True)
class ProviderMostViewed(ProviderSource):
    """Headlines ranked by ``contentViewed`` events per window, titles from ``headlines``."""


@dataclass(frozen=True)
class FunnelStep:
    key: str
    event: str
    label: Mapping[str, str]
    parameters: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderFunnel(ProviderSource):
    """Event counts of ordered funnel steps; ``asides`` (such as skips) are reported apart."""

    steps: tuple[FunnelStep, ...]
    asides: tuple[FunnelStep, ...] = ()


@dataclass(frozen=True)
class Unavailable:
    """A card whose data does not exist on the platform."""

    reason: str


DatabaseSource = (
    WindowCount
    | SnapshotCount
    | SnapshotArrayLength
    | WindowFieldSum
    | WindowMeanDuration
    | ActiveRewardUsers
    | DailyCount
    | GroupCount
    | ActiveRewardsByType
    | HeadlineEngagement
    | MostLikedHeadlines
    | MostFollowed
)
Source = DatabaseSource | ProviderSource | Unavailable
