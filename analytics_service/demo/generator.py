"""Deterministic demo dataset for the news platform's MongoDB collections.

``generate_dataset`` builds every source collection that the cards read, with the field
names, types and enum values that the platform writes. The same ``(now, scale, seed)`` always
gives the same documents: all randomness comes from one ``random.Random(seed)``, ObjectIds are
built from its bytes, and the wall clock is never read.

Timestamps fall in the ``HISTORY_DAYS`` days before ``now``. Recent days are busier than old
ones (growth) and weekends are quieter. Most timestamps are ISO strings ending in ``Z``. About
1% lack the ``Z`` and about 1% are BSON dates, because the platform and other tools write both.
Analytics event timestamps and reward expiries are always ``Z`` strings.
"""

from __future__ import annotations

import itertools
import random
import struct
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bson import ObjectId

DEMO_ADMIN_ID = "6643b1b7a4a4e6e1a8e7b1a0"
DEMO_READER_ID = "6643b1b7a4a4e6e1a8e7b1a1"
DEFAULT_SEED = 20240514

HISTORY_DAYS = 400
GROWTH_OVER_HISTORY = 4.0  # the newest day is about four times as busy as the oldest
WEEKDAY_ACTIVITY = (1.0, 1.0, 1.0, 1.0, 0.9, 0.6, 0.55)  # Monday first
NO_Z_SHARE = 0.01
BSON_DATE_SHARE = 0.01
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
REMOTE_CONFIG_ID = "6643b1b7a4a4e6e1a8e7b1c2"

SOURCE_TYPES = (
    "newsAgency", "localNewsOutlet", "nationalNewsOutlet", "internationalNewsOutlet",
    "specializedPublisher", "blog", "governmentSource", "aggregator", "other",
)
REACTION_WEIGHTS = {
    "like": 50, "insightful": 14, "amusing": 10, "sad": 9, "angry": 7, "skeptical": 10,
}
# NOTE: comment statuses are not in the platform's collection reference. These names follow
# its dashboard, which moderates comments and labels some as flagged by AI.
COMMENT_STATUS_WEIGHTS = {"approved": 85, "pendingReview": 10, "flaggedByAi": 5}
REPORT_REASONS = {
    "headline": (
        "misinformationOrFakeNews", "clickbaitTitle", "offensiveOrHateSpeech", "brokenLink",
    ),
    "source": ("lowQualityJournalism", "highAdDensity", "frequentPaywalls", "impersonation"),
    "comment": ("spamOrAdvertising", "harassmentOrBullying", "hateSpeech"),
}
MEDIA_PURPOSE_WEIGHTS = {
    "userProfilePhoto": 10, "headlineImage": 55, "topicImage": 5, "sourceImage": 10,
    "personPhoto": 20,
}
# NOTE: only adFree is a confirmed platform reward type, and dailyDigest is a stand-in.
REWARD_TYPES = ("adFree", "dailyDigest")

TOPIC_NAMES = (  # (en, es, fr)
    ("Politics", "Política", "Politique"), ("Economy", "Economía", "Économie"),
    ("Technology", "Tecnología", "Technologie"), ("Science", "Ciencia", "Science"),
    ("Health", "Salud", "Santé"), ("Sports", "Deportes", "Sport"), ("Climate", "Clima", "Climat"),
    ("Business", "Negocios", "Affaires"), ("Culture", "Cultura", "Culture"),
    ("Education", "Educación", "Éducation"), ("Travel", "Viajes", "Voyages"),
    ("Entertainment", "Entretenimiento", "Divertissement"), ("World", "Mundo", "Monde"),
    ("Energy", "Energía", "Énergie"), ("Finance", "Finanzas", "Finance"),
    ("Housing", "Vivienda", "Logement"), ("Transport", "Transporte", "Transports"),
    ("Food", "Gastronomía", "Gastronomie"), ("Space", "Espacio", "Espace"),
    ("Justice", "Justicia", "Justice"), ("Security", "Seguridad", "Sécurité"),
    ("Agriculture", "Agricultura", "Agriculture"), ("Labour", "Trabajo", "Travail"),
    ("Media", "Medios", "Médias"), ("Elections", "Elecciones", "Élections"),
)
COUNTRY_NAMES = (  # (ISO code, en, es, fr)
    ("US", "United States", "Estados Unidos", "États-Unis"),
    ("GB", "United Kingdom", "Reino Unido", "Royaume-Uni"),
    ("FR", "France", "Francia", "France"), ("DE", "Germany", "Alemania", "Allemagne"),
    ("ES", "Spain", "España", "Espagne"), ("IT", "Italy", "Italia", "Italie"),
    ("MX", "Mexico", "México", "Mexique"), ("BR", "Brazil", "Brasil", "Brésil"),
    ("AR", "Argentina", "Argentina", "Argentine"), ("CA", "Canada", "Canadá", "Canada"),
    ("JP", "Japan", "Japón", "Japon"), ("CN", "China", "China", "Chine"),
    ("IN", "India", "India", "Inde"), ("AU", "Australia", "Australia", "Australie"),
    ("NG", "Nigeria", "Nigeria", "Nigeria"), ("EG", "Egypt", "Egipto", "Égypte"),
    ("ZA", "South Africa", "Sudáfrica", "Afrique du Sud"),
    ("MA", "Morocco", "Marruecos", "Maroc"), ("TR", "Turkey", "Turquía", "Turquie"),
    ("ID", "Indonesia", "Indonesia", "Indonésie"),
)
TITLE_TEMPLATES = (  # (en, es, fr), filled with the topic and country names of that language
    ("{topic}: what changes in {place} this week", "{topic}: qué cambia en {place} esta semana",
     "{topic} : ce qui change pour {place} cette semaine"),
    ("{topic} in {place}: experts weigh in", "{topic} en {place}: opinan los expertos",
     "{topic} ({place}) : l'avis des experts"),
    ("{place} unveils a new plan for {topic}", "{place} presenta un nuevo plan de {topic}",
     "{place} dévoile un nouveau plan : {topic}"),
    ("Five things to know about {topic} in {place}", "Cinco claves sobre {topic} en {place}",
     "Cinq points à retenir : {topic}, {place}"),
    ("{topic} report from {place} raises questions",
     "Un informe de {topic} en {place} plantea dudas",
     "Rapport {topic} ({place}) : des questions se posent"),
    ("{place} leads on {topic}, new figures show",
     "{place} lidera en {topic}, según nuevas cifras",
     "{topic} : {place} en tête selon de nouveaux chiffres"),
)
SOURCE_WORDS = (
    ("Daily", "Global", "Metro", "National", "Coastal", "Northern", "Capital", "Evening",
     "Morning", "Valley", "Continental", "Harbor"),
    ("Herald", "Times", "Post", "Tribune", "Gazette", "Wire", "Chronicle", "Observer", "Journal",
     "Ledger"),
)
PERSON_WORDS = (
    ("Ana", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Irene", "Jonas",
     "Kemi", "Luis", "Maya", "Noah", "Olga"),
    ("Alvarez", "Brown", "Chen", "Dubois", "Eze", "Fischer", "Garcia", "Haddad", "Ito",
     "Kowalski", "Lopez", "Moreau"),
)
COMMENTS = (
    "Great summary, thanks.", "This needs more context.", "Interesting angle on the story.",
    "I disagree with the conclusion.", "Finally someone covers this.", "Sources, please?",
)
FEEDBACK_DETAILS = {
    "positive": ("Love the breaking news alerts.", "Clean and fast.", "Great local coverage."),
    "negative": ("Too many notifications.", "Crashes on older phones.", "Stories load slowly."),
}


@dataclass(frozen=True)
class DemoSizes:
    """Document counts per collection.

    Not listed: user_content_preferences (about 90% of registered users), ingestion_usage
    (one per day of history) and remote_configs (one).
    """

    users: int
    headlines: int
    engagements: int
    reports: int
    app_reviews: int
    media_assets: int
    user_rewards: int
    analytics_events: int
    sources: int = 120
    topics: int = len(TOPIC_NAMES)
    persons: int = 150
    news_automation_tasks: int = 120

    @classmethod
    def for_scale(cls, scale: int) -> DemoSizes:
        """Return the counts at ``scale``, which multiplies the event-like collections."""
        if isinstance(scale, bool) or not isinstance(scale, int):
            raise TypeError(f"scale must be an int, got {scale!r}")
        if scale < 1:
            raise ValueError(f"scale must be at least 1, got {scale}")
        return cls(
            users=2_500 * scale, headlines=4_000 * scale, engagements=15_000 * scale,
            reports=600 * scale, app_reviews=900 * scale, media_assets=1_500 * scale,
            user_rewards=300 * scale, analytics_events=20_000 * scale,
        )


def _iso(moment: datetime) -> str:
    """Format an aware UTC datetime as the platform's canonical ISO string."""
    return moment.strftime(ISO_FORMAT) + "Z"


class _Builder:
    """Random source, clock and timestamp formats shared by every collection."""

    def __init__(self, now: datetime, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        first_date = (now - timedelta(days=HISTORY_DAYS - 1)).date()
        self.start = datetime.combine(first_date, time(), tzinfo=UTC)

        # One entry per calendar day (UTC): its start, its length in seconds (today ends at
        # `now`) and its activity, which sets how many timestamps land on it.
        self.days: list[tuple[datetime, float, float]] = []
        for offset in range(HISTORY_DAYS):
            day_start = self.start + timedelta(days=offset)
            seconds = min(86_400.0, (now - day_start).total_seconds())
            growth = GROWTH_OVER_HISTORY ** (offset / (HISTORY_DAYS - 1))
            activity = growth * WEEKDAY_ACTIVITY[day_start.weekday()]
            self.days.append((day_start, seconds, activity))
        self._cumulative = list(itertools.accumulate(a * s / 86_400 for _, s, a in self.days))

    def instant(self) -> datetime:
        """Draw a moment in the history, weighted by day activity."""
        index = bisect_right(self._cumulative, self.rng.random() * self._cumulative[-1])
        day_start, seconds, _ = self.days[index]
        return day_start + timedelta(seconds=self.rng.random() * seconds)

    def object_id(self, created: datetime) -> ObjectId:
        # The first four bytes are the creation second, as in ids that drivers generate.
        return ObjectId(struct.pack(">I", int(created.timestamp())) + self.rng.randbytes(8))

    def stored(self, moment: datetime) -> str | datetime:
        """Return ``moment`` as the platform stores it, mostly a ``Z`` string."""
        roll = self.rng.random()
        if roll < BSON_DATE_SHARE:
            # BSON dates keep only milliseconds, so drop the rest here and the value round-trips.
            return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        if roll < BSON_DATE_SHARE + NO_Z_SHARE:
            return moment.strftime(ISO_FORMAT)
        return _iso(moment)

    def pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


class _CreatedBefore:
    """Weighted choice among documents created before a given moment.

    With ``recent`` set, a share ``recent_share`` of the picks only considers documents created
    within ``recent`` before the moment, because readers mostly open fresh news.
    """

    def __init__(self, documents: list[dict], created: list[datetime], weights: list[float],
                 recent: timedelta | None = None, recent_share: float = 0.0) -> None:
        order = sorted(range(len(documents)), key=created.__getitem__)
        self._documents = [documents[i] for i in order]
        self._created = [created[i] for i in order]
        self._cumulative = list(itertools.accumulate(weights[i] for i in order))
        self._recent = recent
        self._recent_share = recent_share

    def pick(self, rng: random.Random, moment: datetime) -> dict | None:
        high = bisect_right(self._created, moment)
        if high == 0:
            return None
        low = 0
        if self._recent is not None and rng.random() < self._recent_share:
            low = bisect_left(self._created, moment - self._recent)
            if low == high:
                low = 0  # nothing recent: fall back to everything older
        below = self._cumulative[low - 1] if low else 0.0
        point = below + rng.random() * (self._cumulative[high - 1] - below)
        return self._documents[bisect_right(self._cumulative, point, low, high - 1)]


def _zipf_weights(rng: random.Random, count: int, exponent: float = 1.1) -> list[float]:
    """Return popularity weights in a shuffled rank order, so a few items clearly lead."""
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    return [rank**-exponent for rank in ranks]


def _copy(document: dict, *extra_fields: str) -> dict:
    """Return the embedded copy that other documents keep of an entity."""
    copy = {"id": str(document["_id"]), "name": document["name"]}
    for field in extra_fields:
        copy[field] = document[field]
    return copy


def _is_registered(user: dict) -> bool:
    if "appRole" in user:
        return user["appRole"] != "guestUser"
    return not user["isAnonymous"]


def _users(b: _Builder, sizes: DemoSizes) -> tuple[list[dict], list[datetime]]:
    # The admin, the reader and the publishers exist from the first hours of the history.
    fixed = [(DEMO_ADMIN_ID, "admin", "admin@example.com"),
             (DEMO_READER_ID, "user", "reader@example.com")]
    fixed += [(None, "publisher", f"publisher{i}@example.com") for i in range(1, 7)]
    users, created = [], []
    for index, (user_id, role, email) in enumerate(fixed):
        moment = b.start + timedelta(hours=1 + index)
        _id = ObjectId(user_id) if user_id else b.object_id(moment)
        users.append({"_id": _id, "createdAt": b.stored(moment), "email": email,
                      "role": role, "tier": "standard", "isAnonymous": False})
        created.append(moment)

    for index in range(sizes.users - len(fixed)):
        moment = b.instant()
        anonymous = b.rng.random() < 0.3
        user = {"_id": b.object_id(moment), "createdAt": b.stored(moment),
                "email": None if anonymous else f"user{index}@example.com"}
        if b.rng.random() < 0.03:
            # Older documents have appRole and dashboardRole in place of role, tier and isAnonymous.
            if anonymous:
                user["appRole"] = "guestUser"
            else:
                user["appRole"] = b.pick({"standardUser": 85, "premiumUser": 15})
            user["dashboardRole"] = b.pick({"none": 95, "publisher": 4, "admin": 1})
        else:
            tier = "guest" if anonymous else "standard"
            user.update(role="user", tier=tier, isAnonymous=anonymous)
        users.append(user)
        created.append(moment)
    return users, created


def _entity_moment(b: _Builder) -> datetime:
    # Most entities date from the first week of the history, and the rest are added over time.
    if b.rng.random() < 0.6:
        return b.start + timedelta(days=7 * b.rng.random())
    return b.instant()


def _entities(b: _Builder, names: list[dict | str],
              status_weights: dict[str, float]) -> list[dict]:
    entities = []
    for name in names:
        moment = _entity_moment(b)
        entities.append({"_id": b.object_id(moment), "createdAt": b.stored(moment),
                         "status": b.pick(status_weights), "name": name})
    return entities


def _sources(b: _Builder, sizes: DemoSizes) -> list[dict]:
    words = [f"The {first} {second}" for first, second in itertools.product(*SOURCE_WORDS)]
    # A few older sources store the name as a plain string rather than a language map.
    names = [name if b.rng.random() < 0.04 else {"en": name, "es": name}
             for name in itertools.islice(itertools.cycle(words), sizes.sources)]
    sources = _entities(b, names, {"active": 82, "draft": 6, "archived": 12})
    for index, source in enumerate(sources):
        # The first nine take each source type once, so every type appears.
        if index < len(SOURCE_TYPES):
            source["sourceType"] = SOURCE_TYPES[index]
        else:
            source["sourceType"] = b.rng.choice(SOURCE_TYPES)
    return sources


def _topics(b: _Builder, sizes: DemoSizes) -> list[dict]:
    names = [{"en": en, "es": es, "fr": fr} for en, es, fr in TOPIC_NAMES[: sizes.topics]]
    return _entities(b, names, {"active": 92, "draft": 4, "archived": 4})


def _persons(b: _Builder, sizes: DemoSizes) -> list[dict]:
    full_names = [f"{first} {last}" for first, last in itertools.product(*PERSON_WORDS)]
    names = [{"en": name, "es": name} for name in b.rng.sample(full_names, sizes.persons)]
    return _entities(b, names, {"active": 90, "draft": 5, "archived": 5})


def _countries(b: _Builder) -> list[dict]:
    """Return embedded country copies. Countries have no collection of their own here."""
    countries = []
    for code, en, es, fr in COUNTRY_NAMES:
        names = {"en": en, "es": es, "fr": fr}
        countries.append({"_id": b.object_id(b.start), "isoCode": code, "name": names})
    return countries


def _title(b: _Builder, topic: dict, country: dict) -> dict | str:
    template = b.rng.choice(TITLE_TEMPLATES)
    topic_names = topic["name"] if isinstance(topic["name"], dict) else {"en": topic["name"]}
    title = {}
    for language, pattern in zip(("en", "es", "fr"), template, strict=True):
        if language == "en" or b.rng.random() < (0.7 if language == "es" else 0.4):
            title[language] = pattern.format(topic=topic_names.get(language, topic_names["en"]),
                                             place=country["name"][language])
    # About 3% are older headlines, whose title is a plain string.
    return title["en"] if b.rng.random() < 0.03 else title


def _headlines(
    b: _Builder, sizes: DemoSizes, entities: dict[str, list[dict]],
    popularity: dict[str, list[float]],
) -> tuple[list[dict], list[datetime], list[float]]:
    """Return headlines, their creation moments and their popularity weights."""
    topics, sources = entities["topics"], entities["sources"]
    persons, countries = entities["persons"], entities["countries"]
    headlines, created, weights = [], [], []
    for _ in range(sizes.headlines):
        moment = b.instant()
        topic = b.rng.choices(topics, weights=popularity["topics"])[0]
        source = b.rng.choices(sources, weights=popularity["sources"])[0]
        country = b.rng.choices(countries, weights=popularity["countries"])[0]
        mentioned = []
        if b.rng.random() < 0.5:
            mentioned = b.rng.choices(persons, weights=popularity["persons"], k=b.rng.randint(1, 3))
        breaking = b.rng.random() < 0.08
        headlines.append({
            "_id": b.object_id(moment),
            "createdAt": b.stored(moment),
            "status": b.pick({"active": 85, "draft": 3, "archived": 5, "ingested": 7}),
            "title": _title(b, topic, country),
            "topic": _copy(topic),
            "source": _copy(source, "sourceType"),
            "isBreaking": breaking,
            "mentionedPersons": list({p["id"]: p for p in map(_copy, mentioned)}.values()),
            "mentionedCountries": [{"id": str(country["_id"]), "name": country["name"]}],
        })
        created.append(moment)
        # Reader interest is heavy-tailed, so a few headlines lead the most-viewed lists.
        weights.append(b.rng.lognormvariate(0.0, 1.0) * (3.0 if breaking else 1.0))
    return headlines, created, weights


def _followed(b: _Builder, entities: list[dict], weights: list[float],
              max_count: int) -> list[dict]:
    chosen = b.rng.choices(entities, weights=weights, k=b.rng.randint(0, max_count))
    return list({copy["id"]: copy for copy in map(_copy, chosen)}.values())


def _preferences(b: _Builder, users: list[dict], entities: dict[str, list[dict]],
                 popularity: dict[str, list[float]]) -> list[dict]:
    preferences = []
    for user in filter(_is_registered, users):
        if str(user["_id"]) != DEMO_READER_ID and b.rng.random() < 0.1:
            continue  # most registered users, and always the reader, have saved preferences
        preferences.append({
            "_id": user["_id"],
            "followedSources": _followed(b, entities["sources"], popularity["sources"], 8),
            "followedTopics": _followed(b, entities["topics"], popularity["topics"], 6),
            "followedPersons": _followed(b, entities["persons"], popularity["persons"], 5),
            "followedCountries": _followed(b, entities["countries"], popularity["countries"], 3),
        })
    return preferences


def _draw_with_targets(b: _Builder, *pickers: _CreatedBefore) -> tuple[datetime, list[dict]]:
    """Draw a moment and one document from each picker, all created before that moment."""
    while True:
        moment = b.instant()
        targets = [picker.pick(b.rng, moment) for picker in pickers]
        if all(targets):
            return moment, targets


def _engagements(b: _Builder, sizes: DemoSizes, users: _CreatedBefore,
                 headlines: _CreatedBefore) -> tuple[list[dict], list[datetime]]:
    engagements, created = [], []
    for _ in range(sizes.engagements):
        moment, (user, headline) = _draw_with_targets(b, users, headlines)
        kind = b.pick({"reaction": 78, "comment": 12, "both": 10})
        reaction = {"reactionType": b.pick(REACTION_WEIGHTS)} if kind != "comment" else None
        comment = None
        if kind != "reaction":
            comment = {"language": "en", "content": b.rng.choice(COMMENTS),
                       "status": b.pick(COMMENT_STATUS_WEIGHTS)}
        engagements.append({
            "_id": b.object_id(moment),
            "createdAt": b.stored(moment),
            "userId": str(user["_id"]),
            "entityId": str(headline["_id"]),
            "entityType": "headline",
            "reaction": reaction,
            "comment": comment,
        })
        created.append(moment)
    return engagements, created


def _reports(b: _Builder, sizes: DemoSizes, users: _CreatedBefore, headlines: _CreatedBefore,
             comments: _CreatedBefore, sources: _CreatedBefore) -> list[dict]:
    reports = []
    for _ in range(sizes.reports):
        entity_type = b.pick({"headline": 55, "source": 15, "comment": 30})
        targets = {"headline": headlines, "source": sources, "comment": comments}[entity_type]
        moment, (reporter, entity) = _draw_with_targets(b, users, targets)
        # Moderators clear the queue within about two weeks, so old reports are mostly resolved.
        age_days = (b.now - moment).total_seconds() / 86_400
        resolved = b.rng.random() < min(0.95, 0.15 + 0.8 * age_days / 14)
        reports.append({
            "_id": b.object_id(moment),
            "createdAt": b.stored(moment),
            "status": "resolved" if resolved else "pendingReview",
            "reason": b.rng.choice(REPORT_REASONS[entity_type]),
            "entityType": entity_type,
            "entityId": str(entity["_id"]),
            "reporterUserId": str(reporter["_id"]),
        })
    return reports


def _app_reviews(b: _Builder, sizes: DemoSizes, users: _CreatedBefore) -> list[dict]:
    reviews, reviewed = [], set()
    while len(reviews) < sizes.app_reviews:
        moment, (user,) = _draw_with_targets(b, users)
        if user["_id"] in reviewed:
            continue  # the platform keeps one review per user
        reviewed.add(user["_id"])
        feedback = b.pick({"positive": 72, "negative": 28})
        # The app requests a store review mainly after positive feedback.
        requested = b.rng.random() < (0.55 if feedback == "positive" else 0.02)
        details = None
        if b.rng.random() < (0.25 if feedback == "positive" else 0.7):
            details = b.rng.choice(FEEDBACK_DETAILS[feedback])
        reviews.append({
            "_id": b.object_id(moment),
            "createdAt": b.stored(moment),
            "userId": str(user["_id"]),
            "feedback": feedback,
            "wasStoreReviewRequested": requested,
            "feedbackDetails": details,
        })
    return reviews


def _user_rewards(b: _Builder, sizes: DemoSizes, users: list[dict]) -> list[dict]:
    rewards = []
    for user in b.rng.sample(users, sizes.user_rewards):
        # Expiries lie within 30 days either side of now, so some rewards are still active.
        types = REWARD_TYPES if b.rng.random() < 0.25 else REWARD_TYPES[:1]
        active = {name: _iso(b.now + timedelta(days=b.rng.uniform(-30, 30))) for name in types}
        rewards.append({"_id": b.object_id(b.now), "userId": str(user["_id"]),
                        "activeRewards": active})
    return rewards


def _media_assets(b: _Builder, sizes: DemoSizes) -> list[dict]:
    assets = []
    for _ in range(sizes.media_assets):
        created = b.instant()
        status = b.pick({"completed": 86, "failed": 8, "pendingUpload": 6})
        if status == "completed":
            # Median about 20 seconds, capped at 10 minutes.
            seconds = min(600.0, b.rng.lognormvariate(3.0, 0.9))
        else:
            seconds = b.rng.uniform(5, 120) if status == "failed" else 0.0
        updated = min(b.now, created + timedelta(seconds=seconds))
        assets.append({
            "_id": b.object_id(created),
            "createdAt": b.stored(created),
            "updatedAt": b.stored(updated),
            "status": status,
            "purpose": b.pick(MEDIA_PURPOSE_WEIGHTS),
        })
    return assets


def _automation_tasks(b: _Builder, sizes: DemoSizes, sources: list[dict]) -> list[dict]:
    tasks = []
    for index in range(sizes.news_automation_tasks):
        created = _entity_moment(b)
        status = b.pick({"active": 75, "paused": 15, "error": 10})
        if status == "paused":
            last_run = created + (b.now - created) * b.rng.random()
            failures = b.rng.randint(0, 2)
        else:
            hours = b.rng.uniform(0, 3) if status == "active" else b.rng.uniform(3, 48)
            last_run = max(created, b.now - timedelta(hours=hours))
            failures = b.rng.randint(3, 12) if status == "error" else int(b.rng.random() < 0.1)
        tasks.append({
            "_id": b.object_id(created),
            "createdAt": b.stored(created),
            "status": status,
            "sourceId": str(sources[index % len(sources)]["_id"]),
            "lastRunAt": b.stored(last_run),
            "failureCount": failures,
        })
    return tasks


def _ingestion_usage(b: _Builder) -> list[dict]:
    usage = []
    for day_start, seconds, activity in b.days:
        # A past day's counter is last written late that day, and today's before `now`.
        offset = seconds * b.rng.random() if seconds < 86_400 else 82_800 + 3_599 * b.rng.random()
        updated = day_start + timedelta(seconds=offset)
        requests = round(150 * activity * b.rng.uniform(0.8, 1.2) * seconds / 86_400)
        usage.append({
            "_id": b.object_id(updated),
            "updatedAt": b.stored(updated),
            "requestCount": requests,
            "headlinesFetched": requests * b.rng.randint(8, 20),
        })
    return usage


def _remote_configs() -> list[dict]:
    analytics = {"enabled": True, "activeProvider": "firebase",
                 "eventSamplingRates": {"contentViewed": 0.5}, "disabledEvents": []}
    return [{"_id": ObjectId(REMOTE_CONFIG_ID), "features": {"analytics": analytics}}]


def _funnel(b: _Builder, users: _CreatedBefore, steps: list[tuple[str, dict, float]],
            skipped: str | None, skip_share: float) -> list[tuple[str, datetime, dict, dict]]:
    """Return one user's session through ``steps`` as (event, moment, user, params) tuples.

    Each step after the first follows the previous one with its probability, seconds later.
    A user who stops early sends ``skipped``, if given, with probability ``skip_share``.
    Steps that would fall after ``now`` are left out.
    """
    moment, (user,) = _draw_with_targets(b, users)
    session = []
    for name, params, probability in steps:
        if session and b.rng.random() >= probability:
            if skipped is not None and b.rng.random() < skip_share:
                session.append((skipped, moment + timedelta(seconds=5), user, {}))
            break
        moment += timedelta(seconds=b.rng.uniform(5, 60))
        session.append((name, moment, user, params))
    return [event for event in session if event[1] <= b.now]


def _analytics_events(b: _Builder, sizes: DemoSizes, users: _CreatedBefore,
                      headlines: _CreatedBefore) -> list[dict]:
    total = sizes.analytics_events
    tour = [("appTourStarted", {}, 1.0)]
    for step_index, probability in enumerate((0.9, 0.82, 0.8)):
        tour.append(("appTourStepViewed", {"step_index": step_index}, probability))
    tour.append(("appTourCompleted", {}, 0.85))
    personalization = [("initialPersonalizationStarted", {}, 1.0),
                       ("initialPersonalizationCompleted", {}, 0.7)]
    reward = [("adRewardEarned", {"rewardType": "adFree"}, 1.0),
              ("rewardGranted", {"rewardType": "adFree"}, 0.75)]

    # Session counts are fixed shares of the total. At scale 1, 500 app tours and 400
    # personalizations start, 600 rewarded ads are watched and 1,800 logins are logged.
    raw: list[tuple[str, datetime, dict, dict]] = []
    for _ in range(total // 40):
        raw += _funnel(b, users, tour, "appTourSkipped", 0.6)
    for _ in range(total // 50):
        raw += _funnel(b, users, personalization, "initialPersonalizationSkipped", 0.8)
    for _ in range(total * 3 // 100):
        raw += _funnel(b, users, reward, None, 0.0)
    for _ in range(total * 9 // 100):
        moment, (user,) = _draw_with_targets(b, users)
        raw.append(("userLogin", moment, user, {}))
    for _ in range(total * 3 // 40):
        moment, (user, headline) = _draw_with_targets(b, users, headlines)
        params = {"contentId": str(headline["_id"]), "reactionType": b.pick(REACTION_WEIGHTS)}
        raw.append(("reactionCreated", moment, user, params))

    # Views fill the rest, so contentViewed is the most frequent event, as in the app.
    while len(raw) < total:
        moment, (user, headline) = _draw_with_targets(b, users, headlines)
        params = {"contentId": str(headline["_id"]), "contentType": "headline"}
        raw.append(("contentViewed", moment, user, params))

    raw.sort(key=lambda event: event[1])
    return [{"_id": b.object_id(moment), "event": name, "timestamp": _iso(moment),
             "userId": str(user["_id"]), "params": params}
            for name, moment, user, params in raw]


def generate_dataset(
    now: datetime, scale: int = 1, seed: int = DEFAULT_SEED
) -> dict[str, list[dict]]:
    """Return documents per collection name, ready for insert_many.

    ``now`` must be timezone-aware. No timestamp lies after it, except reward expiries, and
    none lies more than ``HISTORY_DAYS`` days before it. Raises ValueError for a naive ``now``
    or a ``scale`` below 1, and TypeError for a ``scale`` that is not an int.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got naive {now!r}")
    sizes = DemoSizes.for_scale(scale)
    b = _Builder(now.astimezone(UTC), seed)

    users, user_created = _users(b, sizes)
    entities = {"sources": _sources(b, sizes), "topics": _topics(b, sizes),
                "persons": _persons(b, sizes), "countries": _countries(b)}
    popularity = {name: _zipf_weights(b.rng, len(docs)) for name, docs in entities.items()}
    headlines, headline_created, headline_weights = _headlines(b, sizes, entities, popularity)

    # Engagements, reports, reviews and events only refer to users and headlines that already
    # existed at their own timestamp.
    user_picker = _CreatedBefore(users, user_created, [b.rng.paretovariate(1.5) for _ in users])
    headline_picker = _CreatedBefore(headlines, headline_created, headline_weights,
                                     recent=timedelta(days=3), recent_share=0.8)
    engagements, engagement_created = _engagements(b, sizes, user_picker, headline_picker)
    # Reports on comments point at engagements that carry a comment.
    commented = [i for i, engagement in enumerate(engagements) if engagement["comment"]]
    comment_picker = _CreatedBefore([engagements[i] for i in commented],
                                    [engagement_created[i] for i in commented],
                                    [1.0] * len(commented))
    # A source's ObjectId carries its creation second, which is precise enough here.
    sources = entities["sources"]
    source_picker = _CreatedBefore(sources, [s["_id"].generation_time for s in sources],
                                   [1.0] * len(sources))
    reports = _reports(b, sizes, user_picker, headline_picker, comment_picker, source_picker)

    return {
        "users": users,
        "sources": entities["sources"],
        "topics": entities["topics"],
        "persons": entities["persons"],
        "headlines": headlines,
        "user_content_preferences": _preferences(b, users, entities, popularity),
        "engagements": engagements,
        "reports": reports,
        "app_reviews": _app_reviews(b, sizes, user_picker),
        "user_rewards": _user_rewards(b, sizes, users),
        "media_assets": _media_assets(b, sizes),
        "news_automation_tasks": _automation_tasks(b, sizes, entities["sources"]),
        "ingestion_usage": _ingestion_usage(b),
        "remote_configs": _remote_configs(),
        "analytics_events": _analytics_events(b, sizes, user_picker, headline_picker),
    }
