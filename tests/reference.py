"""Expected card values computed in plain Python from the raw source documents.

The sync computes every database-backed card with aggregation pipelines. This module
computes the same cards with loops over the documents, written from each card's meaning
rather than from its catalogue record, so a test can compare the two. Only the window
and daily-bucket arithmetic comes from ``analytics_service.timeframes``, which has its
own table tests, and only the display labels of enum values come from the catalogue.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timezone, tzinfo
from typing import Any

from analytics_service.catalogue.labels import LANGUAGES, value_label
from analytics_service.timeframes import (
    CHART_FRAMES,
    KPI_FRAMES,
    FrameWindows,
    TimeFrame,
    Window,
    daily_boundaries,
    daily_bucket_days,
    frame_windows,
)

Documents = Mapping[str, list[dict[str, Any]]]
Predicate = Callable[[dict[str, Any]], bool]

# Open-ended bars and ranked lists keep this many entries.
MAX_TOP_ENTRIES = 10
UNKNOWN = "unknown"

# Known categories of the bar charts, in display order.
TIERS = ("guest", "standard")
TIER_ALIASES = {"guestUser": "guest", "standardUser": "standard", "premiumUser": "standard"}
BREAKING_SPLIT = ("breaking", "notBreaking")
SOURCE_STATUSES = ("active", "draft", "archived")
SOURCE_TYPES = (
    "newsAgency", "localNewsOutlet", "nationalNewsOutlet", "internationalNewsOutlet", "specializedPublisher",
    "blog", "governmentSource", "aggregator", "other",
)
REACTION_TYPES = ("like", "insightful", "amusing", "sad", "angry", "skeptical")
REPORT_REASONS = ("misinformationOrFakeNews", "lowQualityJournalism", "spamOrAdvertising")
FEEDBACK_VALUES = ("positive", "negative")
MEDIA_PURPOSES = ("userProfilePhoto", "headlineImage", "topicImage", "sourceImage", "personPhoto")
MEDIA_STATUSES = ("completed", "failed", "pendingUpload")
TASK_STATUSES = ("active", "paused", "error")

# The one timestamp string form the platform writes: a missing "Z" still means UTC.
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?", re.ASCII)


@dataclass(frozen=True)
class KpiValue:
    value: float
    # None for a snapshot, and for a sum or mean whose previous window has no document.
    previous: float | None


@dataclass(frozen=True)
class NoData:
    """A frame that the service must list under ``unavailable`` instead of filling."""


@dataclass(frozen=True)
class TimePoint:
    # Local midnight of the day with its UTC offset, e.g. "2026-03-29T00:00:00+02:00".
    timestamp: str
    value: int


@dataclass(frozen=True)
class Bar:
    key: str
    value: float
    label_en: str


@dataclass(frozen=True)
class RankedEntry:
    entity_id: str
    value: float
    title_en: str


FrameExpectation = KpiValue | NoData | list[TimePoint] | list[Bar] | list[RankedEntry]
CardExpectation = dict[TimeFrame, FrameExpectation]


def read_timestamp(value: object) -> datetime | None:
    """Read a stored timestamp as an aware UTC datetime, or None when it is malformed.

    BSON dates are accepted as they are, and naive ones are read as UTC. Strings must have
    the form ``YYYY-MM-DDTHH:MM:SS[.fraction][Z]`` and name a real calendar date. Numbers,
    UTC offsets, a space in place of ``T`` and dates alone are malformed.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = match.group(7) or ""
    microsecond = int(fraction[:6].ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=timezone.utc)
    except ValueError:
        return None


def nested_value(document: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path of embedded documents, or None where a step is missing."""
    value: Any = document
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def english_name(value: object) -> str | None:
    """Return the English text of a stored name or title, as the dashboard would show it.

    A plain string is English. A language map gives its ``en`` entry, or else its first
    entry in a dashboard language. Returns None when there is no usable text.
    """
    if isinstance(value, str):
        return value if value.strip() else None
    if not isinstance(value, Mapping):
        return None
    texts = [(code, text) for code, text in value.items() if code in LANGUAGES and isinstance(text, str) and text]
    for code, text in texts:
        if code == "en":
            return text
    return texts[0][1] if texts else None


def enum_label(key: str) -> str:
    return value_label(key)["en"]


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Filters of the cards, one per meaning in the card catalogue.


def any_document(document: dict[str, Any]) -> bool:
    return True


def is_registered(user: dict[str, Any]) -> bool:
    """Registered means not anonymous. Older documents mark guests with ``appRole`` instead."""
    return user.get("isAnonymous") is not True and user.get("appRole") != "guestUser"


def is_published(headline: dict[str, Any]) -> bool:
    return headline.get("status") == "active"


def has_reaction(engagement: dict[str, Any]) -> bool:
    return engagement.get("reaction") is not None


def has_comment(engagement: dict[str, Any]) -> bool:
    return engagement.get("comment") is not None


def is_like(engagement: dict[str, Any]) -> bool:
    return nested_value(engagement, "reaction.reactionType") == "like"


def mentions_person(headline: dict[str, Any]) -> bool:
    persons = headline.get("mentionedPersons")
    return isinstance(persons, list) and len(persons) > 0


def store_review_requested(review: dict[str, Any]) -> bool:
    return review.get("wasStoreReviewRequested") is True


def status_is(status: str) -> Predicate:
    return lambda document: document.get("status") == status


def field_is(name: str, expected: str) -> Predicate:
    return lambda document: document.get(name) == expected


# Bar keys of the grouped charts.


def category_of(value: object) -> str:
    """Return the bar key of a stored enum value, which is ``unknown`` when the value is missing."""
    if value is None:
        return UNKNOWN
    return str(value)


def field_category(path: str) -> Callable[[dict[str, Any]], str]:
    return lambda document: category_of(nested_value(document, path))


def tier_of(user: dict[str, Any]) -> str:
    """Return the user's tier, read from ``appRole`` in older documents that have no ``tier``."""
    tier = user.get("tier")
    if tier is None:
        role = user.get("appRole")
        if role is None:
            return UNKNOWN
        return TIER_ALIASES.get(str(role), str(role))
    return str(tier)


def breaking_of(headline: dict[str, Any]) -> str:
    flag = headline.get("isBreaking")
    if flag is True:
        return "breaking"
    if flag is False:
        return "notBreaking"
    return category_of(flag)


def largest_first(counts: Mapping[str, float]) -> list[str]:
    """Return the keys with a non-zero count, largest count first and ties by key."""
    return sorted((key for key, count in counts.items() if count), key=lambda key: (-counts[key], key))


def known_then_others(counts: Mapping[str, float], categories: tuple[str, ...]) -> list[Bar]:
    """Return every known category in order, zeros included, then the other non-zero keys."""
    others = [key for key in largest_first(counts) if key not in categories]
    return [Bar(key, counts.get(key, 0), enum_label(key)) for key in list(categories) + others]


def local_midnight_text(day: Any, tz: tzinfo) -> str:
    return datetime.combine(day, time(0), tzinfo=tz).isoformat()


class ReferenceData:
    """Source documents with their parsed timestamps, and one method per kind of card."""

    def __init__(self, documents: Documents, now: datetime, tz: tzinfo) -> None:
        self.documents = documents
        self.now = now
        self.tz = tz
        self.windows: dict[TimeFrame, FrameWindows] = {frame: frame_windows(frame, now, tz) for frame in TimeFrame}
        self._timestamps: dict[tuple[str, str], list[datetime | None]] = {}
        self._headline_engagements: list[tuple[str, datetime, int, bool]] | None = None

    def collection(self, name: str) -> list[dict[str, Any]]:
        return list(self.documents.get(name, []))

    def timestamps(self, collection: str, field: str) -> list[datetime | None]:
        """Return the parsed ``field`` of every document of ``collection``, in document order."""
        key = (collection, field)
        if key not in self._timestamps:
            self._timestamps[key] = [read_timestamp(document.get(field)) for document in self.collection(collection)]
        return self._timestamps[key]

    def _matching(self, collection: str, predicate: Predicate, field: str) -> Iterator[tuple[dict, datetime | None]]:
        for document, moment in zip(self.collection(collection), self.timestamps(collection, field), strict=True):
            if predicate(document):
                yield document, moment

    # KPI cards

    def window_count(
        self, collection: str, predicate: Predicate = any_document, field: str = "createdAt", cumulative: bool = False
    ) -> CardExpectation:
        """Count matching documents in the current and previous windows, or before their ends."""
        moments = sorted(moment for _, moment in self._matching(collection, predicate, field) if moment is not None)

        def count(window: Window) -> int:
            before_end = bisect_left(moments, window.end)
            if cumulative:
                return before_end
            return before_end - bisect_left(moments, window.start)

        return {
            frame: KpiValue(count(self.windows[frame].current), count(self.windows[frame].previous))
            for frame in KPI_FRAMES
        }

    def snapshot_count(self, collection: str, predicate: Predicate) -> CardExpectation:
        value = sum(1 for document in self.collection(collection) if predicate(document))
        return {frame: KpiValue(value, None) for frame in KPI_FRAMES}

    def array_length_total(self, collection: str, field: str) -> CardExpectation:
        """Sum the lengths of ``field`` over all documents. Values that are not arrays add nothing."""
        value = sum(len(document[field]) for document in self.collection(collection)
                    if isinstance(document.get(field), list))
        return {frame: KpiValue(value, None) for frame in KPI_FRAMES}

    def mean_upload_seconds(self) -> CardExpectation:
        """Average seconds from createdAt to updatedAt of completed assets created in the window.

        Assets with a malformed updatedAt, or one before createdAt, have no duration and
        are left out.
        """
        durations: list[tuple[datetime, float]] = []
        for asset, created in self._matching("media_assets", status_is("completed"), "createdAt"):
            updated = read_timestamp(asset.get("updatedAt"))
            if created is None or updated is None or updated < created:
                continue
            durations.append((created, (updated - created).total_seconds()))

        def mean(window: Window) -> float | None:
            seconds = [value for created, value in durations if window.start <= created < window.end]
            return sum(seconds) / len(seconds) if seconds else None

        frames: CardExpectation = {}
        for frame in KPI_FRAMES:
            current = mean(self.windows[frame].current)
            previous = mean(self.windows[frame].previous)
            frames[frame] = NoData() if current is None else KpiValue(current, previous)
        return frames

    def headlines_fetched(self) -> CardExpectation:
        """Sum ``headlinesFetched`` by updatedAt window. A window without the field has no data."""
        entries = [
            (moment, document["headlinesFetched"])
            for document, moment in self._matching("ingestion_usage", any_document, "updatedAt")
            if moment is not None and is_number(document.get("headlinesFetched"))
        ]

        def total(window: Window) -> float | None:
            values = [value for moment, value in entries if window.start <= moment < window.end]
            return sum(values) if values else None

        frames: CardExpectation = {}
        for frame in KPI_FRAMES:
            current = total(self.windows[frame].current)
            previous = total(self.windows[frame].previous)
            frames[frame] = NoData() if current is None else KpiValue(current, previous)
        return frames

    def _active_rewards(self) -> Iterator[tuple[int, str]]:
        """Yield (document index, reward type) for every reward that expires strictly after now."""
        for index, document in enumerate(self.collection("user_rewards")):
            rewards = document.get("activeRewards")
            if not isinstance(rewards, Mapping):
                continue
            for reward_type, expiry in rewards.items():
                moment = read_timestamp(expiry)
                if moment is not None and moment > self.now:
                    yield index, str(reward_type)

    def active_reward_users(self) -> CardExpectation:
        value = len({index for index, _ in self._active_rewards()})
        return {frame: KpiValue(value, None) for frame in KPI_FRAMES}

    # Chart cards

    def daily_counts(self, collection: str, predicate: Predicate = any_document, field: str = "createdAt") -> CardExpectation:
        """Count matching documents per local calendar day, the last day being today up to now."""
        moments = [moment for _, moment in self._matching(collection, predicate, field)
                   if moment is not None and moment < self.now]
        frames: CardExpectation = {}
        for frame in CHART_FRAMES:
            days = daily_bucket_days(frame, self.now, self.tz)
            edges = daily_boundaries(days, self.tz)
            counts = [0] * len(days)
            for moment in moments:
                position = bisect_right(edges, moment) - 1
                if 0 <= position < len(days):
                    counts[position] += 1
            frames[frame] = [
                TimePoint(local_midnight_text(day, self.tz), count) for day, count in zip(days, counts, strict=True)
            ]
        return frames

    def _selected(
        self, collection: str, predicate: Predicate, frame: TimeFrame, snapshot: bool
    ) -> list[dict[str, Any]]:
        """Return matching documents now (``snapshot``) or created in the frame's current window."""
        window = self.windows[frame].current
        return [
            document
            for document, moment in self._matching(collection, predicate, "createdAt")
            if snapshot or (moment is not None and window.start <= moment < window.end)
        ]

    def group_counts(
        self,
        collection: str,
        key_of: Callable[[dict[str, Any]], str],
        categories: tuple[str, ...],
        predicate: Predicate = any_document,
        snapshot: bool = False,
    ) -> CardExpectation:
        """Count documents per enum value: known categories with zeros, then the others."""
        frames: CardExpectation = {}
        for frame in CHART_FRAMES:
            counts = Counter(key_of(document) for document in self._selected(collection, predicate, frame, snapshot))
            frames[frame] = known_then_others(counts, categories)
        return frames

    def top_entity_counts(self, collection: str, entity_field: str, predicate: Predicate) -> CardExpectation:
        """Count documents in the window per embedded entity id, keeping the ten largest non-zero counts.

        NOTE: the service labels a bar with the name in any one headline's copy of the
        entity, so this check assumes that all copies agree, as they do in the test datasets.
        """
        frames: CardExpectation = {}
        for frame in CHART_FRAMES:
            counts: Counter[str] = Counter()
            names: dict[str, str | None] = {}
            for document in self._selected(collection, predicate, frame, snapshot=False):
                key = category_of(nested_value(document, f"{entity_field}.id"))
                counts[key] += 1
                names.setdefault(key, english_name(nested_value(document, f"{entity_field}.name")))
            frames[frame] = [
                Bar(key, counts[key], names.get(key) or enum_label(key)) for key in largest_first(counts)[:MAX_TOP_ENTRIES]
            ]
        return frames

    def _engagements_on_headlines(self) -> list[tuple[str, datetime, int, bool]]:
        """Return (headline id, createdAt, reactions + comments, is a like) of engagements on existing headlines."""
        if self._headline_engagements is None:
            headline_ids = {str(headline["_id"]) for headline in self.collection("headlines")}
            entries = []
            for engagement, created in self._matching("engagements", any_document, "createdAt"):
                headline_id = engagement.get("entityId")
                if created is None or engagement.get("entityType") != "headline":
                    continue
                if not isinstance(headline_id, str) or headline_id not in headline_ids:
                    continue
                interactions = int(has_reaction(engagement)) + int(has_comment(engagement))
                entries.append((headline_id, created, interactions, is_like(engagement)))
            self._headline_engagements = entries
        return self._headline_engagements

    def _headline_keys(self, headline: dict[str, Any], dimension: str) -> list[tuple[str, str | None]]:
        """Return the (bar key, English name) pairs that one headline adds its engagement to."""
        if dimension == "topic":
            topic = headline.get("topic")
            if isinstance(topic, Mapping) and topic.get("id"):
                return [(str(topic["id"]), english_name(topic.get("name")))]
            return [(UNKNOWN, None)]
        if dimension == "sourceType":
            source = headline.get("source")
            if not isinstance(source, Mapping):
                return [(UNKNOWN, None)]
            source_type = source.get("sourceType")
            if not source_type:
                source_type = self._source_types().get(str(source.get("id")))
            return [(source_type if isinstance(source_type, str) and source_type else UNKNOWN, None)]
        if dimension == "person":
            persons = headline.get("mentionedPersons")
            if not isinstance(persons, list):
                return []
            return [(str(person["id"]), english_name(person.get("name")))
                    for person in persons if isinstance(person, Mapping) and person.get("id")]
        raise ValueError(f"unknown engagement dimension {dimension!r}")

    def _source_types(self) -> dict[str, str]:
        return {str(source["_id"]): source.get("sourceType") for source in self.collection("sources")}

    def headline_engagement(self, dimension: str) -> CardExpectation:
        """Add each headline's reactions and comments in the window to its topic, source type or persons."""
        headlines = {str(headline["_id"]): headline for headline in self.collection("headlines")}
        frames: CardExpectation = {}
        for frame in CHART_FRAMES:
            window = self.windows[frame].current
            totals: Counter[str] = Counter()
            names: dict[str, str | None] = {}
            for headline_id, created, interactions, _ in self._engagements_on_headlines():
                if not interactions or not window.start <= created < window.end:
                    continue
                for key, name in self._headline_keys(headlines[headline_id], dimension):
                    totals[key] += interactions
                    names.setdefault(key, name)
            if dimension == "sourceType":
                # Unknown source types follow the nine known ones in key order.
                others = sorted(key for key in totals if key not in SOURCE_TYPES)
                frames[frame] = [Bar(key, totals.get(key, 0), enum_label(key)) for key in list(SOURCE_TYPES) + others]
            else:
                frames[frame] = [Bar(key, totals[key], names.get(key) or enum_label(key))
                                 for key in largest_first(totals)[:MAX_TOP_ENTRIES]]
        return frames

    def active_rewards_by_type(self) -> CardExpectation:
        counts = Counter(reward_type for _, reward_type in self._active_rewards())
        bars = [Bar(key, counts[key], enum_label(key)) for key in largest_first(counts)]
        return {frame: list(bars) for frame in CHART_FRAMES}

    # Ranked lists

    def most_liked_headlines(self) -> CardExpectation:
        titles = {str(headline["_id"]): english_name(headline.get("title")) for headline in self.collection("headlines")}
        frames: CardExpectation = {}
        for frame in KPI_FRAMES:
            window = self.windows[frame].current
            likes = Counter(
                headline_id
                for headline_id, created, _, liked in self._engagements_on_headlines()
                if liked and window.start <= created < window.end
            )
            frames[frame] = [RankedEntry(key, likes[key], titles[key] or key) for key in largest_first(likes)[:MAX_TOP_ENTRIES]]
        return frames

    def most_followed(self, array_field: str, entity_collection: str) -> CardExpectation:
        """Rank entities by follows held now, titled with the entity's current name."""
        follows: Counter[str] = Counter()
        embedded_names: dict[str, str | None] = {}
        for preferences in self.collection("user_content_preferences"):
            items = preferences.get(array_field)
            if not isinstance(items, list):
                continue
            for item in items:
                if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                    follows[item["id"]] += 1
                    embedded_names.setdefault(item["id"], english_name(item.get("name")))
        current_names = {str(entity["_id"]): english_name(entity.get("name"))
                         for entity in self.collection(entity_collection)}
        ranking = [
            RankedEntry(key, follows[key], current_names.get(key) or embedded_names.get(key) or key)
            for key in largest_first(follows)[:MAX_TOP_ENTRIES]
        ]
        return {frame: list(ranking) for frame in KPI_FRAMES}


# The expected values of every database-backed card, by card id.
CARD_RULES: dict[str, Callable[[ReferenceData], CardExpectation]] = {
    # KPI cards
    "usersTotalRegistered": lambda data: data.window_count("users", is_registered, cumulative=True),
    "usersNewRegistrations": lambda data: data.window_count("users", is_registered),
    "contentHeadlinesTotalPublished": lambda data: data.window_count("headlines", is_published),
    "contentHeadlinesTotalLikes": lambda data: data.window_count("engagements", is_like),
    "contentSourcesTotalSources": lambda data: data.window_count("sources", cumulative=True),
    "contentSourcesNewSources": lambda data: data.window_count("sources"),
    "contentSourcesTotalFollowers": lambda data: data.array_length_total("user_content_preferences", "followedSources"),
    "contentTopicsTotalTopics": lambda data: data.window_count("topics", cumulative=True),
    "contentTopicsNewTopics": lambda data: data.window_count("topics"),
    "contentTopicsTotalFollowers": lambda data: data.array_length_total("user_content_preferences", "followedTopics"),
    "contentPersonsTotal": lambda data: data.window_count("persons", cumulative=True),
    "contentPersonsTotalFollowers": lambda data: data.array_length_total("user_content_preferences", "followedPersons"),
    "engagementsTotalReactions": lambda data: data.window_count("engagements", has_reaction),
    "engagementsTotalComments": lambda data: data.window_count("engagements", has_comment),
    "engagementsReportsPending": lambda data: data.snapshot_count("reports", status_is("pendingReview")),
    "engagementsReportsResolved": lambda data: data.window_count("reports", status_is("resolved")),
    "engagementsAppReviewsTotalFeedback": lambda data: data.window_count("app_reviews"),
    "engagementsAppReviewsPositiveFeedback": lambda data: data.window_count("app_reviews", field_is("feedback", "positive")),
    "engagementsAppReviewsStoreRequests": lambda data: data.window_count("app_reviews", store_review_requested),
    "rewardsActiveUsersCount": lambda data: data.active_reward_users(),
    "mediaTotalUploads": lambda data: data.window_count("media_assets", status_is("completed")),
    "mediaFailedUploads": lambda data: data.window_count("media_assets", status_is("failed")),
    "mediaAverageUploadTime": lambda data: data.mean_upload_seconds(),
    "ingestionActiveTasks": lambda data: data.snapshot_count("news_automation_tasks", status_is("active")),
    "ingestionFailedTasks": lambda data: data.snapshot_count("news_automation_tasks", status_is("error")),
    "ingestionHeadlinesFetched": lambda data: data.headlines_fetched(),
    # Chart cards
    "usersRegistrationsOverTime": lambda data: data.daily_counts("users", is_registered),
    "usersTierDistribution": lambda data: data.group_counts("users", tier_of, TIERS, snapshot=True),
    "contentHeadlinesLikesOverTime": lambda data: data.daily_counts("engagements", is_like),
    "contentHeadlinesBreakingNewsDistribution": lambda data: data.group_counts("headlines", breaking_of, BREAKING_SPLIT),
    "contentSourcesHeadlinesPublishedOverTime": lambda data: data.top_entity_counts("headlines", "source", is_published),
    "contentSourcesStatusDistribution": lambda data: data.group_counts(
        "sources", field_category("status"), SOURCE_STATUSES, snapshot=True
    ),
    "contentSourcesEngagementByType": lambda data: data.headline_engagement("sourceType"),
    "contentTopicsHeadlinesPublishedOverTime": lambda data: data.top_entity_counts("headlines", "topic", is_published),
    "contentTopicsEngagementByTopic": lambda data: data.headline_engagement("topic"),
    "contentPersonsMentionsOverTime": lambda data: data.daily_counts("headlines", mentions_person),
    "contentPersonsEngagementByEntity": lambda data: data.headline_engagement("person"),
    "engagementsReactionsOverTime": lambda data: data.daily_counts("engagements", has_reaction),
    "engagementsCommentsOverTime": lambda data: data.daily_counts("engagements", has_comment),
    "engagementsReactionsByType": lambda data: data.group_counts(
        "engagements", field_category("reaction.reactionType"), REACTION_TYPES, predicate=has_reaction
    ),
    "engagementsReportsSubmittedOverTime": lambda data: data.daily_counts("reports"),
    "engagementsReportsByReason": lambda data: data.group_counts("reports", field_category("reason"), REPORT_REASONS),
    "engagementsAppReviewsFeedbackOverTime": lambda data: data.daily_counts("app_reviews"),
    "engagementsAppReviewsStoreRequestsOverTime": lambda data: data.daily_counts("app_reviews", store_review_requested),
    "engagementsAppReviewsPositiveVsNegative": lambda data: data.group_counts(
        "app_reviews", field_category("feedback"), FEEDBACK_VALUES
    ),
    "rewardsActiveByType": lambda data: data.active_rewards_by_type(),
    "mediaUploadsOverTime": lambda data: data.daily_counts("media_assets", status_is("completed")),
    "mediaUploadsByPurpose": lambda data: data.group_counts("media_assets", field_category("purpose"), MEDIA_PURPOSES),
    "mediaUploadsSuccessVsFailure": lambda data: data.group_counts(
        "media_assets", field_category("status"), MEDIA_STATUSES
    ),
    "ingestionHeadlinesOverTime": lambda data: data.daily_counts("headlines", status_is("ingested")),
    "ingestionTaskStatusDistribution": lambda data: data.group_counts(
        "news_automation_tasks", field_category("status"), TASK_STATUSES, snapshot=True
    ),
    # Ranked lists
    "overviewHeadlinesMostLiked": lambda data: data.most_liked_headlines(),
    "overviewSourcesMostFollowed": lambda data: data.most_followed("followedSources", "sources"),
    "overviewTopicsMostFollowed": lambda data: data.most_followed("followedTopics", "topics"),
}


def expected_cards(
    documents: Documents, now: datetime, tz: tzinfo, card_ids: list[str] | None = None
) -> dict[str, CardExpectation]:
    """Compute the expected frames of the given cards (default: all of them) as of ``now`` in ``tz``."""
    data = ReferenceData(documents, now, tz)
    selected = list(CARD_RULES) if card_ids is None else card_ids
    return {card_id: CARD_RULES[card_id](data) for card_id in selected}
