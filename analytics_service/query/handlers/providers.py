"""Planners of the provider-backed cards: events, active users, views, funnels.

Provider-backed frames and daily series cover complete calendar days, ending yesterday in
the dashboard's time zone, because providers report whole days and revise the current one.

Every planner first calls ``ProviderAccess.unavailable_reason``. Without a provider, with
analytics disabled, or for an event the app does not send, the card is stored as
unavailable with that reason rather than as zeros.
"""

from __future__ import annotations

from typing import Any

from analytics_service.catalogue import Card
from analytics_service.catalogue.labels import sanitize_language_map, value_label
from analytics_service.catalogue.ranked import RANKED_LIST_SIZE
from analytics_service.catalogue.sources import (
    REACTION_PRESENT,
    ProviderActiveUsers,
    ProviderDailyActiveUsers,
    ProviderDailyEvents,
    ProviderEngagementRate,
    ProviderEvents,
    ProviderFunnel,
    ProviderMostViewed,
    ProviderViewsBy,
)
from analytics_service.providers.base import EventQuery
from analytics_service.query.bounds import combine as combine_filters
from analytics_service.query.bounds import count_if, in_window, time_range_filter
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.handlers.engagement import headline_attributes
from analytics_service.query.handlers.groups import MAX_OPEN_BARS
from analytics_service.query.handlers.static import unavailable_reader
from analytics_service.query.joins import find_by_ids
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.query.provider_access import TOP_CONTENT_LIMIT, VIEW_EVENT, ProviderAccess
from analytics_service.query.values import number, single_row
from analytics_service.sync.data import CardData, DataPoint, FrameUnavailable, KpiFrame, RankedRow
from analytics_service.timeframes import day_range_window, format_local_midnight


def _access(context: RunContext) -> ProviderAccess | None:
    return context.provider


def _blocked(card: Card, context: RunContext, events: list[str]) -> Reader | None:
    """Return an unavailable reader when the provider has no data for ``events``."""
    access = _access(context)
    if access is None:
        return unavailable_reader(card, "no analytics provider is configured")
    reason = access.unavailable_reason(events)
    return unavailable_reader(card, reason) if reason else None


@planner(ProviderEvents)
def plan_provider_events(card: Card, source: ProviderEvents, context: RunContext, batches: Batches) -> Reader:
    blocked = _blocked(card, context, [source.event])
    if blocked:
        return blocked
    access = _access(context)
    query = EventQuery(source.event, dict(source.parameters))
    access.window_queries.add(query)

    async def read(results: FacetResults) -> CardData:
        counts = (await access.window_counts())[query]
        frames = {}
        for frame in card.frames:
            current, previous = access.ranges[frame]
            frames[frame] = KpiFrame(access.corrected(source.event, counts[current]),
                                     access.corrected(source.event, counts[previous]))
        return CardData(frames)

    return read


@planner(ProviderDailyEvents)
def plan_provider_daily(card: Card, source: ProviderDailyEvents, context: RunContext, batches: Batches) -> Reader:
    blocked = _blocked(card, context, [source.event])
    if blocked:
        return blocked
    access = _access(context)
    query = EventQuery(source.event)
    access.daily_queries.add(query)

    async def read(results: FacetResults) -> CardData:
        by_day = (await access.daily_counts())[query]
        points = [DataPoint(value=access.corrected(source.event, by_day.get(day, 0)),
                            timestamp=format_local_midnight(day, context.tz)) for day in access.chart_days()]
        return CardData({frame: points[-frame.days:] for frame in card.frames})

    return read


@planner(ProviderActiveUsers)
def plan_active_users(card: Card, source: ProviderActiveUsers, context: RunContext, batches: Batches) -> Reader:
    blocked = _blocked(card, context, [])
    if blocked:
        return blocked
    access = _access(context)

    async def read(results: FacetResults) -> CardData:
        users = await access.active_users()
        frames: dict[Any, Any] = {}
        for frame in card.frames:
            current, previous = access.ranges[frame]
            if users.get(current) is None:
                frames[frame] = FrameUnavailable(
                    f"{access.client.name} cannot count distinct users over {current.days} days exactly"
                )
            else:
                frames[frame] = KpiFrame(users[current], users.get(previous))
        return CardData(frames)

    return read


@planner(ProviderDailyActiveUsers)
def plan_daily_active_users(card: Card, source: ProviderDailyActiveUsers, context: RunContext,
                            batches: Batches) -> Reader:
    blocked = _blocked(card, context, [])
    if blocked:
        return blocked
    access = _access(context)
    access.daily_active_users_needed = True

    async def read(results: FacetResults) -> CardData:
        by_day = await access.daily_active_users()
        points = [DataPoint(value=by_day.get(day, 0), timestamp=format_local_midnight(day, context.tz))
                  for day in access.chart_days()]
        return CardData({frame: points[-frame.days:] for frame in card.frames})

    return read


@planner(ProviderEngagementRate)
def plan_engagement_rate(card: Card, source: ProviderEngagementRate, context: RunContext,
                         batches: Batches) -> Reader:
    blocked = _blocked(card, context, [VIEW_EVENT.event])
    if blocked:
        return blocked
    access = _access(context)
    access.window_queries.add(VIEW_EVENT)

    # Reactions are counted over the same whole days as the provider's views.
    windows = {}
    for frame in card.frames:
        current, previous = access.ranges[frame]
        windows[f"{frame}_current"] = day_range_window(current.start, current.end, context.tz)
        windows[f"{frame}_previous"] = day_range_window(previous.start, previous.end, context.tz)
    group: dict[str, Any] = {"_id": None}
    for name, window in windows.items():
        group[name] = count_if(in_window("createdAt", window))
    start = min(window.start for window in windows.values())
    end = max(window.end for window in windows.values())
    branch = batches.for_collection("engagements").add([
        {"$match": combine_filters(dict(REACTION_PRESENT), time_range_filter("createdAt", start, end))},
        {"$group": group},
    ])

    async def read(results: FacetResults) -> CardData:
        reactions = single_row(results.branch("engagements", branch))
        views = (await access.window_counts())[VIEW_EVENT]
        frames: dict[Any, Any] = {}
        for frame in card.frames:
            current, previous = access.ranges[frame]
            current_views = access.corrected(VIEW_EVENT.event, views[current])
            previous_views = access.corrected(VIEW_EVENT.event, views[previous])
            if not current_views:
                frames[frame] = FrameUnavailable("no headline views in the window, so the rate is undefined")
                continue
            rate = number(reactions, f"{frame}_current") / current_views * 100
            previous_rate = (number(reactions, f"{frame}_previous") / previous_views * 100) if previous_views else None
            frames[frame] = KpiFrame(round(rate, 2), None if previous_rate is None else round(previous_rate, 2))
        return CardData(frames)

    return read


async def _viewed_headlines(context: RunContext, access: ProviderAccess):
    """Return the top content per window and the headlines it refers to, shared per run."""
    async def load():
        top = await access.top_content()
        ids = {item.value for ranking in top.values() for item in ranking}
        headlines = await find_by_ids(context, "headlines", ids, {"title": 1, "topic": 1, "mentionedPersons": 1})
        return top, headlines

    return await context.memo("provider-viewed-headlines", load)


@planner(ProviderViewsBy)
def plan_views_by(card: Card, source: ProviderViewsBy, context: RunContext, batches: Batches) -> Reader:
    blocked = _blocked(card, context, [VIEW_EVENT.event])
    if blocked:
        return blocked
    access = _access(context)

    async def read(results: FacetResults) -> CardData:
        top, headlines = await _viewed_headlines(context, access)
        frames = {}
        for frame in card.frames:
            totals: dict[str, float] = {}
            labels: dict[str, dict[str, str]] = {}
            for item in top.get(access.ranges[frame][0], []):
                headline = headlines.get(item.value)
                if headline is None:
                    continue
                views = access.corrected(VIEW_EVENT.event, item.count)
                for key, label in headline_attributes(headline, source.dimension, {}):
                    totals[key] = totals.get(key, 0) + views
                    clean = sanitize_language_map(label)
                    if clean is not None:
                        labels.setdefault(key, clean)
            ranked = sorted(totals, key=lambda key: (-totals[key], key))[:MAX_OPEN_BARS]
            frames[frame] = [DataPoint(value=totals[key], label=labels.get(key) or value_label(key), key=key)
                             for key in ranked]
        return CardData(frames, notes=[
            f"only the {TOP_CONTENT_LIMIT} most viewed headlines of each window are attributed"
        ])

    return read


@planner(ProviderMostViewed)
def plan_most_viewed(card: Card, source: ProviderMostViewed, context: RunContext, batches: Batches) -> Reader:
    blocked = _blocked(card, context, [VIEW_EVENT.event])
    if blocked:
        return blocked
    access = _access(context)

    async def read(results: FacetResults) -> CardData:
        top, headlines = await _viewed_headlines(context, access)
        frames = {}
        for frame in card.frames:
            rows = []
            for item in top.get(access.ranges[frame][0], []):
                headline = headlines.get(item.value)
                if headline is None:
                    continue  # views of deleted or unknown content are not ranked
                title = sanitize_language_map(headline.get("title")) or {"en": item.value}
                rows.append(RankedRow(item.value, title, access.corrected(VIEW_EVENT.event, item.count)))
                if len(rows) == RANKED_LIST_SIZE:
                    break
            frames[frame] = rows
        return CardData(frames)

    return read


@planner(ProviderFunnel)
def plan_funnel(card: Card, source: ProviderFunnel, context: RunContext, batches: Batches) -> Reader:
    steps = source.steps + source.asides
    blocked = _blocked(card, context, sorted({step.event for step in steps}))
    if blocked:
        return blocked
    access = _access(context)
    queries = {step.key: EventQuery(step.event, dict(step.parameters)) for step in steps}
    access.window_queries.update(queries.values())

    async def read(results: FacetResults) -> CardData:
        counts = await access.window_counts()
        frames, asides = {}, {}
        for frame in card.frames:
            current = access.ranges[frame][0]
            frames[frame] = [_step_point(access, step, counts[queries[step.key]][current]) for step in source.steps]
            asides[frame] = [_step_point(access, step, counts[queries[step.key]][current]) for step in source.asides]
        return CardData(frames, asides=asides)

    return read


def _step_point(access: ProviderAccess, step, count: int) -> DataPoint:
    return DataPoint(value=access.corrected(step.event, count), label=dict(step.label), key=step.key)
