import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from analytics_service.demo.generator import (
    DEFAULT_SEED,
    DEMO_ADMIN_ID,
    DEMO_READER_ID,
    DemoSizes,
    generate_dataset,
)

NOW = datetime(2026, 3, 1, 10, 15, 30, 123456, tzinfo=UTC)
HISTORY = timedelta(days=400)
ISO_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z?$")

TIMESTAMP_FIELDS = {
    "users": ("createdAt",),
    "sources": ("createdAt",),
    "topics": ("createdAt",),
    "persons": ("createdAt",),
    "headlines": ("createdAt",),
    "engagements": ("createdAt",),
    "reports": ("createdAt",),
    "app_reviews": ("createdAt",),
    "media_assets": ("createdAt", "updatedAt"),
    "news_automation_tasks": ("createdAt", "lastRunAt"),
    "ingestion_usage": ("updatedAt",),
    "analytics_events": ("timestamp",),
}
SCALED_COLLECTIONS = (
    "users", "headlines", "engagements", "reports", "app_reviews", "media_assets", "user_rewards",
    "analytics_events",
)
FIXED_COLLECTIONS = (
    "sources", "topics", "persons", "news_automation_tasks", "ingestion_usage", "remote_configs",
)
SOURCE_TYPES = {
    "newsAgency", "localNewsOutlet", "nationalNewsOutlet", "internationalNewsOutlet",
    "specializedPublisher", "blog", "governmentSource", "aggregator", "other",
}
MEDIA_PURPOSES = {"userProfilePhoto", "headlineImage", "topicImage", "sourceImage", "personPhoto"}
REACTION_TYPES = {"like", "insightful", "amusing", "sad", "angry", "skeptical"}
EVENT_NAMES = {
    "userRegistered", "userLogin", "contentViewed", "contentShared", "contentSaved",
    "reactionCreated", "commentCreated", "reportSubmitted", "appReviewPromptResponded",
    "appReviewStoreRequested", "adRewardEarned", "rewardGranted", "appTourStarted",
    "appTourStepViewed", "appTourCompleted", "appTourSkipped", "initialPersonalizationStarted",
    "initialPersonalizationCompleted", "initialPersonalizationSkipped", "mediaUploadCompleted",
    "mediaUploadFailed",
}


@pytest.fixture(scope="module")
def dataset() -> dict[str, list[dict]]:
    return generate_dataset(NOW)


def parse_timestamp(value: str | datetime) -> datetime:
    """Parse a stored timestamp. The platform treats a string without ``Z`` as UTC."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"BSON date {value!r} is naive"
        return value
    assert ISO_PATTERN.match(value), f"malformed timestamp {value!r}"
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stored_timestamps(dataset: dict[str, list[dict]]) -> list[str | datetime]:
    return [doc[field] for name, fields in TIMESTAMP_FIELDS.items()
            for doc in dataset[name] for field in fields]


def values(documents: list[dict], field: str) -> set:
    return {doc[field] for doc in documents if field in doc}


def test_same_arguments_give_equal_datasets(dataset):
    assert generate_dataset(NOW, 1, DEFAULT_SEED) == dataset


def test_different_seed_gives_other_dataset(dataset):
    other = generate_dataset(NOW, seed=DEFAULT_SEED + 1)

    assert other["headlines"] != dataset["headlines"]
    assert other["engagements"] != dataset["engagements"]


def test_object_ids_deterministic_and_unique(dataset):
    again = generate_dataset(NOW)

    for name, documents in dataset.items():
        ids = [doc["_id"] for doc in documents]
        assert all(isinstance(_id, ObjectId) for _id in ids), name
        assert len(set(ids)) == len(ids), f"duplicate _id in {name}"
        assert ids == [doc["_id"] for doc in again[name]], name


def test_object_id_times_not_after_now(dataset):
    for name, documents in dataset.items():
        latest = max(doc["_id"].generation_time for doc in documents)
        assert latest <= NOW, name


def test_admin_and_reader_present(dataset):
    users = {str(user["_id"]): user for user in dataset["users"]}

    assert users[DEMO_ADMIN_ID]["role"] == "admin"
    assert users[DEMO_READER_ID]["role"] == "user"
    assert users[DEMO_READER_ID]["isAnonymous"] is False
    assert users[DEMO_READER_ID]["tier"] == "standard"
    assert re.fullmatch(r"[0-9a-f]{24}", DEMO_ADMIN_ID)
    assert re.fullmatch(r"[0-9a-f]{24}", DEMO_READER_ID)


def test_user_enums_documented(dataset):
    users = dataset["users"]
    older = [user for user in users if "appRole" in user]

    assert values(users, "role") == {"admin", "publisher", "user"}
    assert values(users, "tier") == {"guest", "standard"}
    assert values(users, "appRole") <= {"guestUser", "standardUser", "premiumUser"}
    assert values(users, "dashboardRole") <= {"admin", "publisher", "none"}
    assert 0.015 < len(older) / len(users) < 0.05
    assert all("role" not in user and "isAnonymous" not in user for user in older)


def test_guest_share_about_thirty_percent(dataset):
    current = [user for user in dataset["users"] if "isAnonymous" in user]
    guests = [user for user in current if user["isAnonymous"]]

    assert 0.25 < len(guests) / len(current) < 0.35
    assert all(user["tier"] == "guest" for user in guests)


def test_content_enums_documented(dataset):
    assert values(dataset["sources"], "sourceType") == SOURCE_TYPES
    for name in ("sources", "topics", "persons"):
        assert values(dataset[name], "status") <= {"active", "draft", "archived"}, name
    assert values(dataset["headlines"], "status") == {"active", "draft", "archived", "ingested"}
    assert values(dataset["news_automation_tasks"], "status") == {"active", "paused", "error"}
    assert values(dataset["media_assets"], "status") == {"pendingUpload", "completed", "failed"}
    assert values(dataset["media_assets"], "purpose") == MEDIA_PURPOSES


def test_engagement_and_report_enums_documented(dataset):
    engagements = dataset["engagements"]
    reactions = Counter(e["reaction"]["reactionType"] for e in engagements if e["reaction"])
    reports = dataset["reports"]

    assert values(engagements, "entityType") == {"headline"}
    assert set(reactions) == REACTION_TYPES
    assert reactions.most_common(1)[0][0] == "like"
    assert values(reports, "status") == {"pendingReview", "resolved"}
    assert values(reports, "entityType") == {"headline", "source", "comment"}
    assert {"misinformationOrFakeNews", "lowQualityJournalism", "spamOrAdvertising"} <= values(
        reports, "reason")
    assert values(dataset["app_reviews"], "feedback") == {"positive", "negative"}


def test_engagement_has_reaction_or_comment(dataset):
    for engagement in dataset["engagements"]:
        assert engagement["reaction"] or engagement["comment"], engagement["_id"]
        if engagement["comment"]:
            assert engagement["comment"]["language"] == "en"
            assert engagement["comment"]["content"]


def test_event_names_documented(dataset):
    events = Counter(event["event"] for event in dataset["analytics_events"])

    assert set(events) <= EVENT_NAMES
    assert events.most_common(1)[0][0] == "contentViewed"
    for name in ("reactionCreated", "adRewardEarned", "rewardGranted", "userLogin",
                 "appTourSkipped", "initialPersonalizationSkipped"):
        assert events[name] > 0, name


def test_funnel_steps_decline(dataset):
    events = dataset["analytics_events"]
    counts = Counter(event["event"] for event in events)
    steps = Counter(event["params"]["step_index"] for event in events
                    if event["event"] == "appTourStepViewed")
    tour = [counts["appTourStarted"], steps[0], steps[1], steps[2], counts["appTourCompleted"]]
    personalization = [counts["initialPersonalizationStarted"],
                       counts["initialPersonalizationCompleted"]]

    assert set(steps) == {0, 1, 2}
    assert all(type(index) is int for index in steps)
    assert tour == sorted(tour, reverse=True)
    assert len(set(tour)) == len(tour)
    assert personalization[0] > personalization[1] > 0


def test_content_viewed_points_at_headlines(dataset):
    headline_ids = {str(headline["_id"]) for headline in dataset["headlines"]}
    views = [event for event in dataset["analytics_events"] if event["event"] == "contentViewed"]

    assert all(view["params"]["contentId"] in headline_ids for view in views)
    assert values([view["params"] for view in views], "contentType") == {"headline"}


def test_timestamps_within_history(dataset):
    for value in stored_timestamps(dataset):
        moment = parse_timestamp(value)
        assert moment <= NOW, value
        assert moment >= NOW - HISTORY, value


def test_timestamp_variants_present(dataset):
    stored = [value for name, fields in TIMESTAMP_FIELDS.items() if name != "analytics_events"
              for doc in dataset[name] for field in fields for value in [doc[field]]]
    without_z = [v for v in stored if isinstance(v, str) and not v.endswith("Z")]
    bson_dates = [v for v in stored if isinstance(v, datetime)]

    assert 0.005 < len(without_z) / len(stored) < 0.02
    assert 0.005 < len(bson_dates) / len(stored) < 0.02
    assert all(v.utcoffset() == timedelta(0) for v in bson_dates)
    assert all(v.microsecond % 1000 == 0 for v in bson_dates)


def test_recent_days_busier_than_old(dataset):
    created = [parse_timestamp(e["createdAt"]) for e in dataset["engagements"]]
    recent = sum(1 for moment in created if moment > NOW - timedelta(days=100))
    oldest = sum(1 for moment in created if moment < NOW - timedelta(days=300))

    assert recent > 2 * oldest


def test_weekends_quieter_than_weekdays(dataset):
    weekdays = Counter(parse_timestamp(e["createdAt"]).weekday() for e in dataset["engagements"])

    assert max(weekdays[5], weekdays[6]) < min(weekdays[day] for day in range(5))


def test_engagements_reference_earlier_headlines(dataset):
    headlines = {str(h["_id"]): parse_timestamp(h["createdAt"]) for h in dataset["headlines"]}

    for engagement in dataset["engagements"]:
        assert engagement["entityId"] in headlines, engagement["_id"]
        assert headlines[engagement["entityId"]] <= parse_timestamp(engagement["createdAt"])


def test_engagements_skewed_to_popular_headlines(dataset):
    per_headline = Counter(e["entityId"] for e in dataset["engagements"])
    top_ten = sum(count for _, count in per_headline.most_common(10))

    assert top_ten > 10 * len(dataset["engagements"]) / len(dataset["headlines"]) * 3


def test_references_point_at_existing_documents(dataset):
    user_ids = {str(user["_id"]) for user in dataset["users"]}
    source_ids = {str(source["_id"]) for source in dataset["sources"]}
    targets = {
        "headline": {str(headline["_id"]) for headline in dataset["headlines"]},
        "source": source_ids,
        "comment": {str(e["_id"]) for e in dataset["engagements"] if e["comment"]},
    }

    assert values(dataset["engagements"], "userId") <= user_ids
    assert values(dataset["reports"], "reporterUserId") <= user_ids
    assert values(dataset["app_reviews"], "userId") <= user_ids
    assert values(dataset["user_rewards"], "userId") <= user_ids
    assert values(dataset["news_automation_tasks"], "sourceId") <= source_ids
    for report in dataset["reports"]:
        assert report["entityId"] in targets[report["entityType"]], report["_id"]


def test_reports_target_earlier_entities(dataset):
    created = {str(doc["_id"]): parse_timestamp(doc["createdAt"])
               for name in ("headlines", "sources", "engagements") for doc in dataset[name]}

    for report in dataset["reports"]:
        # Sources are picked by their ObjectId's creation second, which can be up to one
        # second earlier than their createdAt.
        latest_allowed = parse_timestamp(report["createdAt"]) + timedelta(seconds=1)
        assert created[report["entityId"]] <= latest_allowed, report["_id"]


def test_headline_embedded_copies(dataset):
    sources = {str(source["_id"]): source for source in dataset["sources"]}
    topics = {str(topic["_id"]): topic for topic in dataset["topics"]}
    persons = {str(person["_id"]) for person in dataset["persons"]}

    for headline in dataset["headlines"]:
        source = sources[headline["source"]["id"]]
        assert headline["source"]["name"] == source["name"]
        assert headline["source"]["sourceType"] == source["sourceType"]
        assert headline["topic"]["name"] == topics[headline["topic"]["id"]]["name"]
        assert {person["id"] for person in headline["mentionedPersons"]} <= persons
        assert all({"id", "name"} <= set(c) for c in headline["mentionedCountries"])


def test_headline_titles_and_flags(dataset):
    headlines = dataset["headlines"]
    plain = [h for h in headlines if isinstance(h["title"], str)]
    breaking = [h for h in headlines if h["isBreaking"]]

    assert all(isinstance(h["title"], str) or "en" in h["title"] for h in headlines)
    assert 0.015 < len(plain) / len(headlines) < 0.05
    assert 0.05 < len(breaking) / len(headlines) < 0.11
    assert any(not h["mentionedPersons"] for h in headlines)
    assert any(h["mentionedPersons"] for h in headlines)


def test_preferences_belong_to_registered_users(dataset):
    users = {user["_id"]: user for user in dataset["users"]}
    registered = [user for user in users.values()
                  if user.get("isAnonymous") is False
                  or user.get("appRole") in {"standardUser", "premiumUser"}]
    preferences = dataset["user_content_preferences"]

    for preference in preferences:
        user = users[preference["_id"]]
        assert user in registered, preference["_id"]
    assert len(preferences) > 0.8 * len(registered)
    assert ObjectId(DEMO_READER_ID) in {preference["_id"] for preference in preferences}


def test_follows_have_clear_leaders(dataset):
    follows = Counter(copy["id"] for preference in dataset["user_content_preferences"]
                      for copy in preference["followedSources"])
    counts = [count for _, count in follows.most_common(11)]

    assert counts[0] > 2 * counts[10]
    for preference in dataset["user_content_preferences"]:
        for field in ("followedSources", "followedTopics", "followedPersons", "followedCountries"):
            assert all(set(copy) == {"id", "name"} for copy in preference[field]), field


def test_reports_older_mostly_resolved(dataset):
    old = [r for r in dataset["reports"]
           if parse_timestamp(r["createdAt"]) < NOW - timedelta(days=30)]
    resolved = [r for r in old if r["status"] == "resolved"]

    assert len(resolved) / len(old) > 0.9
    assert all("updatedAt" not in report for report in dataset["reports"])


def test_one_app_review_per_user(dataset):
    reviews = dataset["app_reviews"]
    requested = Counter(r["feedback"] for r in reviews if r["wasStoreReviewRequested"])

    assert len({review["userId"] for review in reviews}) == len(reviews)
    assert requested["positive"] > 5 * requested["negative"]


def test_rewards_expire_both_sides_of_now(dataset):
    expiries = [parse_timestamp(expiry) for reward in dataset["user_rewards"]
                for expiry in reward["activeRewards"].values()]

    assert any(expiry > NOW for expiry in expiries)
    assert any(expiry < NOW for expiry in expiries)
    assert "adFree" in {name for r in dataset["user_rewards"] for name in r["activeRewards"]}


def test_upload_durations_seconds_to_minutes(dataset):
    completed = []
    for asset in dataset["media_assets"]:
        duration = parse_timestamp(asset["updatedAt"]) - parse_timestamp(asset["createdAt"])
        # A BSON date drops sub-millisecond digits, so allow one millisecond below zero.
        assert duration >= timedelta(milliseconds=-1), asset["_id"]
        assert duration <= timedelta(minutes=10), asset["_id"]
        if asset["status"] == "completed":
            completed.append(duration)

    completed.sort()
    median = completed[len(completed) // 2]
    assert timedelta(seconds=5) < median < timedelta(minutes=2)


def test_ingestion_usage_one_per_day(dataset):
    days = [parse_timestamp(doc["updatedAt"]).date() for doc in dataset["ingestion_usage"]]

    assert len(days) == 400
    assert len(set(days)) == len(days)
    assert all("headlinesFetched" in doc for doc in dataset["ingestion_usage"])


def test_remote_config_analytics_feature(dataset):
    (config,) = dataset["remote_configs"]

    assert config["_id"] == ObjectId("6643b1b7a4a4e6e1a8e7b1c2")
    assert config["features"]["analytics"] == {
        "enabled": True,
        "activeProvider": "firebase",
        "eventSamplingRates": {"contentViewed": 0.5},
        "disabledEvents": [],
    }


def test_scale_one_sizes(dataset):
    sizes = DemoSizes.for_scale(1)

    for name in SCALED_COLLECTIONS:
        assert len(dataset[name]) == getattr(sizes, name), name
    assert len(dataset["sources"]) == 120
    assert len(dataset["news_automation_tasks"]) == 120


def test_scale_multiplies_event_like_collections(dataset):
    doubled = generate_dataset(NOW, scale=2)

    for name in SCALED_COLLECTIONS:
        assert len(doubled[name]) == 2 * len(dataset[name]), name
    for name in FIXED_COLLECTIONS:
        assert len(doubled[name]) == len(dataset[name]), name
    ratio = len(doubled["user_content_preferences"]) / len(dataset["user_content_preferences"])
    assert 1.9 < ratio < 2.1


@pytest.mark.parametrize("scale", [0, -1])
def test_scale_below_one_rejected(scale):
    with pytest.raises(ValueError, match=f"got {scale}"):
        generate_dataset(NOW, scale=scale)
    with pytest.raises(ValueError, match=f"got {scale}"):
        DemoSizes.for_scale(scale)


def test_naive_now_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_dataset(NOW.replace(tzinfo=None))
