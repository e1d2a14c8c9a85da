"""Chart card records (time frames week, month, year)."""

from __future__ import annotations

from analytics_service.catalogue.kpis import NO_RESOLUTION_TIME
from analytics_service.catalogue.model import Card, CardKind, ChartType
from analytics_service.catalogue.sources import (
    COMMENT_PRESENT,
    HEADLINE_PUBLISHED,
    LIKE_REACTION,
    REACTION_PRESENT,
    REGISTERED_USER,
    ActiveRewardsByType,
    DailyCount,
    FunnelStep,
    GroupCount,
    HeadlineEngagement,
    ProviderDailyActiveUsers,
    ProviderDailyEvents,
    ProviderFunnel,
    ProviderViewsBy,
    Unavailable,
)

LINE = ChartType.LINE
BAR = ChartType.BAR

SOURCE_TYPES = (
    "newsAgency", "localNewsOutlet", "nationalNewsOutlet", "internationalNewsOutlet", "specializedPublisher",
    "blog", "governmentSource", "aggregator", "other",
)
REACTION_TYPES = ("like", "insightful", "amusing", "sad", "angry", "skeptical")
MEDIA_PURPOSES = ("userProfilePhoto", "headlineImage", "topicImage", "sourceImage", "personPhoto")


def _step(key: str, event: str, en: str, es: str, fr: str, ar: str, **parameters) -> FunnelStep:
    return FunnelStep(key, event, {"en": en, "es": es, "fr": fr, "ar": ar}, parameters)


APP_TOUR_FUNNEL = ProviderFunnel(
    steps=(
        _step("started", "appTourStarted", "Tour started", "Recorrido iniciado", "Visite commencée", "بدء الجولة"),
        _step("step0", "appTourStepViewed", "Step 1 viewed", "Paso 1 visto", "Étape 1 vue", "عرض الخطوة 1",
              step_index=0),
        _step("step1", "appTourStepViewed", "Step 2 viewed", "Paso 2 visto", "Étape 2 vue", "عرض الخطوة 2",
              step_index=1),
        _step("step2", "appTourStepViewed", "Step 3 viewed", "Paso 3 visto", "Étape 3 vue", "عرض الخطوة 3",
              step_index=2),
        _step("completed", "appTourCompleted", "Tour completed", "Recorrido completado", "Visite terminée",
              "اكتمال الجولة"),
    ),
    asides=(
        _step("skipped", "appTourSkipped", "Tour skipped", "Recorrido omitido", "Visite ignorée", "تخطي الجولة"),
    ),
)
PERSONALIZATION_FUNNEL = ProviderFunnel(
    steps=(
        _step("started", "initialPersonalizationStarted", "Personalization started", "Personalización iniciada",
              "Personnalisation commencée", "بدء التخصيص"),
        _step("completed", "initialPersonalizationCompleted", "Personalization completed",
              "Personalización completada", "Personnalisation terminée", "اكتمال التخصيص"),
    ),
    asides=(
        _step("skipped", "initialPersonalizationSkipped", "Personalization skipped", "Personalización omitida",
              "Personnalisation ignorée", "تخطي التخصيص"),
    ),
)


def _chart(card_id: str, chart_type: ChartType, en: str, es: str, fr: str, ar: str, source, **options) -> Card:
    labels = {"en": en, "es": es, "fr": fr, "ar": ar}
    return Card(card_id, CardKind.CHART, labels, source, chart_type=chart_type, **options)


CHART_CARDS: tuple[Card, ...] = (
    _chart(
        "usersRegistrationsOverTime", LINE, "Registrations over time", "Registros en el tiempo",
        "Inscriptions dans le temps", "التسجيلات عبر الزمن", DailyCount("users", REGISTERED_USER),
    ),
    _chart(
        "usersActiveUsersOverTime", LINE, "Active users over time", "Usuarios activos en el tiempo",
        "Utilisateurs actifs dans le temps", "المستخدمون النشطون عبر الزمن",
        ProviderDailyActiveUsers(),
    ),
    _chart(
        "usersTierDistribution", BAR, "Users by tier", "Usuarios por nivel", "Utilisateurs par niveau",
        "المستخدمون حسب الفئة",
        GroupCount(
            "users", "tier", ("guest", "standard"), snapshot=True, fallback_field="appRole",
            aliases={"guestUser": "guest", "standardUser": "standard", "premiumUser": "standard"},
        ),
    ),
    _chart(
        "contentHeadlinesViewsOverTime", LINE, "Headline views over time", "Vistas de titulares en el tiempo",
        "Vues des titres dans le temps", "مشاهدات العناوين عبر الزمن", ProviderDailyEvents("contentViewed"),
    ),
    _chart(
        "contentHeadlinesLikesOverTime", LINE, "Likes over time", "Me gusta en el tiempo", "J'aime dans le temps",
        "الإعجابات عبر الزمن", DailyCount("engagements", LIKE_REACTION),
    ),
    _chart(
        "contentHeadlinesViewsByTopic", BAR, "Views by topic", "Vistas por tema", "Vues par sujet",
        "المشاهدات حسب الموضوع", ProviderViewsBy("topic"),
    ),
    _chart(
        "contentHeadlinesViewsByPerson", BAR, "Views by person", "Vistas por persona", "Vues par personne",
        "المشاهدات حسب الشخص", ProviderViewsBy("person"),
    ),
    _chart(
        "contentHeadlinesBreakingNewsDistribution", BAR, "Breaking news share", "Proporción de última hora",
        "Part des dernières minutes", "نسبة الأخبار العاجلة",
        GroupCount("headlines", "isBreaking", ("breaking", "notBreaking"), aliases={"True": "breaking", "False": "notBreaking"}),
    ),
    _chart(
        "contentSourcesHeadlinesPublishedOverTime", BAR, "Headlines published per source",
        "Titulares publicados por fuente", "Titres publiés par source", "العناوين المنشورة لكل مصدر",
        GroupCount("headlines", "source.id", match=HEADLINE_PUBLISHED, label_field="source.name"),
    ),
    _chart(
        "contentSourcesStatusDistribution", BAR, "Sources by status", "Fuentes por estado", "Sources par statut",
        "المصادر حسب الحالة", GroupCount("sources", "status", ("active", "draft", "archived"), snapshot=True),
    ),
    _chart(
        "contentSourcesEngagementByType", BAR, "Engagement by source type", "Interacción por tipo de fuente",
        "Engagement par type de source", "التفاعل حسب نوع المصدر", HeadlineEngagement("sourceType"),
    ),
    _chart(
        "contentTopicsHeadlinesPublishedOverTime", BAR, "Headlines published per topic",
        "Titulares publicados por tema", "Titres publiés par sujet", "العناوين المنشورة لكل موضوع",
        GroupCount("headlines", "topic.id", match=HEADLINE_PUBLISHED, label_field="topic.name"),
    ),
    _chart(
        "contentTopicsEngagementByTopic", BAR, "Engagement by topic", "Interacción por tema",
        "Engagement par sujet", "التفاعل حسب الموضوع", HeadlineEngagement("topic"),
    ),
    _chart(
        "contentPersonsMentionsOverTime", LINE, "Headlines mentioning persons", "Titulares que mencionan personas",
        "Titres citant des personnes", "العناوين التي تذكر أشخاصًا",
        DailyCount("headlines", {"mentionedPersons.0": {"$exists": True}}),
    ),
    _chart(
        "contentPersonsEngagementByEntity", BAR, "Engagement by person", "Interacción por persona",
        "Engagement par personne", "التفاعل حسب الشخص", HeadlineEngagement("person"),
    ),
    _chart(
        "engagementsReactionsOverTime", LINE, "Reactions over time", "Reacciones en el tiempo",
        "Réactions dans le temps", "التفاعلات عبر الزمن", DailyCount("engagements", REACTION_PRESENT),
    ),
    _chart(
        "engagementsCommentsOverTime", LINE, "Comments over time", "Comentarios en el tiempo",
        "Commentaires dans le temps", "التعليقات عبر الزمن", DailyCount("engagements", COMMENT_PRESENT),
    ),
    _chart(
        "engagementsReactionsByType", BAR, "Reactions by type", "Reacciones por tipo", "Réactions par type",
        "التفاعلات حسب النوع", GroupCount("engagements", "reaction.reactionType", REACTION_TYPES, match=REACTION_PRESENT),
    ),
    _chart(
        "engagementsReportsSubmittedOverTime", LINE, "Reports submitted over time", "Denuncias en el tiempo",
        "Signalements dans le temps", "البلاغات المقدمة عبر الزمن", DailyCount("reports"),
        increase_is_bad=True,
    ),
    _chart(
        "engagementsReportsResolutionTimeOverTime", LINE, "Resolution time over time",
        "Tiempo de resolución en el tiempo", "Délai de traitement dans le temps", "وقت الحل عبر الزمن",
        Unavailable(NO_RESOLUTION_TIME), increase_is_bad=True,
    ),
    _chart(
        "engagementsReportsByReason", BAR, "Reports by reason", "Denuncias por motivo", "Signalements par motif",
        "البلاغات حسب السبب",
        GroupCount("reports", "reason", ("misinformationOrFakeNews", "lowQualityJournalism", "spamOrAdvertising")),
        increase_is_bad=True,
    ),
    _chart(
        "engagementsAppReviewsFeedbackOverTime", LINE, "App feedback over time", "Opiniones en el tiempo",
        "Avis dans le temps", "الآراء عبر الزمن", DailyCount("app_reviews"),
    ),
    _chart(
        "engagementsAppReviewsStoreRequestsOverTime", LINE, "Store review requests over time",
        "Solicitudes de reseña en el tiempo", "Demandes d'avis dans le temps", "طلبات التقييم عبر الزمن",
        DailyCount("app_reviews", {"wasStoreReviewRequested": True}),
    ),
    _chart(
        "engagementsAppReviewsPositiveVsNegative", BAR, "Positive vs negative feedback",
        "Opiniones positivas y negativas", "Avis positifs et négatifs", "الآراء الإيجابية مقابل السلبية",
        GroupCount("app_reviews", "feedback", ("positive", "negative")),
    ),
    _chart(
        "rewardsAdsWatchedOverTime", LINE, "Rewarded ads over time", "Anuncios con recompensa en el tiempo",
        "Publicités récompensées dans le temps", "الإعلانات المكافأة عبر الزمن",
        ProviderDailyEvents("adRewardEarned"),
    ),
    _chart(
        "rewardsGrantedOverTime", LINE, "Rewards granted over time", "Recompensas en el tiempo",
        "Récompenses dans le temps", "المكافآت الممنوحة عبر الزمن", ProviderDailyEvents("rewardGranted"),
    ),
    _chart(
        "rewardsActiveByType", BAR, "Active rewards by type", "Recompensas activas por tipo",
        "Récompenses actives par type", "المكافآت النشطة حسب النوع", ActiveRewardsByType(),
    ),
    _chart(
        "mediaUploadsOverTime", LINE, "Uploads over time", "Subidas en el tiempo", "Envois dans le temps",
        "عمليات الرفع عبر الزمن", DailyCount("media_assets", {"status": "completed"}),
    ),
    _chart(
        "mediaUploadsByPurpose", BAR, "Uploads by purpose", "Subidas por finalidad", "Envois par usage",
        "عمليات الرفع حسب الغرض", GroupCount("media_assets", "purpose", MEDIA_PURPOSES),
    ),
    _chart(
        "mediaUploadsSuccessVsFailure", BAR, "Upload outcomes", "Resultado de las subidas", "Résultat des envois",
        "نتائج الرفع", GroupCount("media_assets", "status", ("completed", "failed", "pendingUpload")),
    ),
    _chart(
        "ingestionHeadlinesOverTime", LINE, "Ingested headlines over time", "Titulares ingeridos en el tiempo",
        "Titres ingérés dans le temps", "العناوين المستوعبة عبر الزمن", DailyCount("headlines", {"status": "ingested"}),
    ),
    _chart(
        "ingestionTaskStatusDistribution", BAR, "Ingestion tasks by status", "Tareas de ingesta por estado",
        "Tâches d'ingestion par statut", "مهام الاستيعاب حسب الحالة",
        GroupCount("news_automation_tasks", "status", ("active", "paused", "error"), snapshot=True),
    ),
    _chart(
        "overviewAppTourFunnel", BAR, "App tour funnel", "Embudo del recorrido", "Entonnoir de la visite guidée",
        "مسار جولة التطبيق", APP_TOUR_FUNNEL,
    ),
    _chart(
        "overviewInitialPersonalizationFunnel", BAR, "Personalization funnel", "Embudo de personalización",
        "Entonnoir de personnalisation", "مسار التخصيص الأولي", PERSONALIZATION_FUNNEL,
    ),
)
