"""KPI card records (time frames day, week, month, year)."""

from __future__ import annotations

from analytics_service.catalogue.model import Card, CardKind, Unit
from analytics_service.catalogue.sources import (
    COMMENT_PRESENT,
    HEADLINE_PUBLISHED,
    LIKE_REACTION,
    REACTION_PRESENT,
    REGISTERED_USER,
    ActiveRewardUsers,
    ProviderActiveUsers,
    ProviderEngagementRate,
    ProviderEvents,
    SnapshotArrayLength,
    SnapshotCount,
    Unavailable,
    WindowCount,
    WindowFieldSum,
    WindowMeanDuration,
)

NO_RESOLUTION_TIME = "reports store no resolution time, so the time to resolve cannot be computed"


def _kpi(card_id: str, en: str, es: str, fr: str, ar: str, source, **options) -> Card:
    return Card(card_id, CardKind.KPI, {"en": en, "es": es, "fr": fr, "ar": ar}, source, **options)


KPI_CARDS: tuple[Card, ...] = (
    _kpi(
        "usersTotalRegistered", "Registered users", "Usuarios registrados", "Utilisateurs inscrits",
        "المستخدمون المسجلون", WindowCount("users", REGISTERED_USER, cumulative=True),
    ),
    _kpi(
        "usersNewRegistrations", "New registrations", "Nuevos registros", "Nouvelles inscriptions",
        "التسجيلات الجديدة", WindowCount("users", REGISTERED_USER),
    ),
    _kpi(
        "usersActiveUsers", "Active users", "Usuarios activos", "Utilisateurs actifs", "المستخدمون النشطون",
        ProviderActiveUsers(),
    ),
    _kpi(
        "contentHeadlinesTotalPublished", "Headlines published", "Titulares publicados", "Titres publiés",
        "العناوين المنشورة", WindowCount("headlines", HEADLINE_PUBLISHED),
    ),
    _kpi(
        "contentHeadlinesTotalViews", "Headline views", "Vistas de titulares", "Vues des titres",
        "مشاهدات العناوين", ProviderEvents("contentViewed"),
    ),
    _kpi(
        "contentHeadlinesTotalLikes", "Headline likes", "Me gusta en titulares", "J'aime sur les titres",
        "الإعجابات بالعناوين", WindowCount("engagements", LIKE_REACTION),
    ),
    _kpi(
        "contentSourcesTotalSources", "Sources", "Fuentes", "Sources", "المصادر",
        WindowCount("sources", cumulative=True),
    ),
    _kpi(
        "contentSourcesNewSources", "New sources", "Fuentes nuevas", "Nouvelles sources", "مصادر جديدة",
        WindowCount("sources"),
    ),
    _kpi(
        "contentSourcesTotalFollowers", "Source follows", "Seguimientos de fuentes", "Abonnements aux sources",
        "متابعات المصادر", SnapshotArrayLength("user_content_preferences", "followedSources"),
    ),
    _kpi(
        "contentTopicsTotalTopics", "Topics", "Temas", "Sujets", "المواضيع", WindowCount("topics", cumulative=True),
    ),
    _kpi(
        "contentTopicsNewTopics", "New topics", "Temas nuevos", "Nouveaux sujets", "مواضيع جديدة",
        WindowCount("topics"),
    ),
    _kpi(
        "contentTopicsTotalFollowers", "Topic follows", "Seguimientos de temas", "Abonnements aux sujets",
        "متابعات المواضيع", SnapshotArrayLength("user_content_preferences", "followedTopics"),
    ),
    _kpi(
        "contentPersonsTotal", "Persons", "Personas", "Personnes", "الأشخاص", WindowCount("persons", cumulative=True),
    ),
    _kpi(
        "contentPersonsTotalFollowers", "Person follows", "Seguimientos de personas",
        "Abonnements aux personnes", "متابعات الأشخاص",
        SnapshotArrayLength("user_content_preferences", "followedPersons"),
    ),
    _kpi(
        "engagementsTotalReactions", "Reactions", "Reacciones", "Réactions", "التفاعلات",
        WindowCount("engagements", REACTION_PRESENT),
    ),
    _kpi(
        "engagementsTotalComments", "Comments", "Comentarios", "Commentaires", "التعليقات",
        WindowCount("engagements", COMMENT_PRESENT),
    ),
    _kpi(
        "engagementsAverageEngagementRate", "Engagement rate", "Tasa de interacción", "Taux d'engagement",
        "معدل التفاعل", ProviderEngagementRate(), unit=Unit.PERCENT,
    ),
    _kpi(
        "engagementsReportsPending", "Reports pending review", "Denuncias pendientes", "Signalements en attente",
        "البلاغات قيد المراجعة", SnapshotCount("reports", {"status": "pendingReview"}), increase_is_bad=True,
    ),
    _kpi(
        "engagementsReportsResolved", "Reports resolved", "Denuncias resueltas", "Signalements traités",
        "البلاغات المحلولة", WindowCount("reports", {"status": "resolved"}),
    ),
    _kpi(
        "engagementsReportsAverageResolutionTime", "Average resolution time", "Tiempo medio de resolución",
        "Délai moyen de traitement", "متوسط وقت الحل", Unavailable(NO_RESOLUTION_TIME),
        unit=Unit.SECONDS, increase_is_bad=True,
    ),
    _kpi(
        "engagementsAppReviewsTotalFeedback", "App feedback", "Opiniones sobre la app", "Avis sur l'application",
        "آراء حول التطبيق", WindowCount("app_reviews"),
    ),
    _kpi(
        "engagementsAppReviewsPositiveFeedback", "Positive feedback", "Opiniones positivas", "Avis positifs",
        "آراء إيجابية", WindowCount("app_reviews", {"feedback": "positive"}),
    ),
    _kpi(
        "engagementsAppReviewsStoreRequests", "Store review requests", "Solicitudes de reseña en tienda",
        "Demandes d'avis en boutique", "طلبات التقييم في المتجر",
        WindowCount("app_reviews", {"wasStoreReviewRequested": True}),
    ),
    _kpi(
        "rewardsAdsWatchedTotal", "Rewarded ads watched", "Anuncios con recompensa vistos",
        "Publicités récompensées vues", "الإعلانات المكافأة المشاهدة", ProviderEvents("adRewardEarned"),
    ),
    _kpi(
        "rewardsGrantedTotal", "Rewards granted", "Recompensas otorgadas", "Récompenses accordées",
        "المكافآت الممنوحة", ProviderEvents("rewardGranted"),
    ),
    _kpi(
        "rewardsActiveUsersCount", "Users with active rewards", "Usuarios con recompensas activas",
        "Utilisateurs avec récompenses actives", "مستخدمون لديهم مكافآت نشطة", ActiveRewardUsers(),
    ),
    _kpi(
        "mediaTotalUploads", "Completed uploads", "Subidas completadas", "Envois terminés", "عمليات الرفع المكتملة",
        WindowCount("media_assets", {"status": "completed"}),
    ),
    _kpi(
        "mediaFailedUploads", "Failed uploads", "Subidas fallidas", "Envois échoués", "عمليات الرفع الفاشلة",
        WindowCount("media_assets", {"status": "failed"}), increase_is_bad=True,
    ),
    _kpi(
        "mediaAverageUploadTime", "Average upload time", "Tiempo medio de subida", "Durée moyenne d'envoi",
        "متوسط وقت الرفع",
        WindowMeanDuration("media_assets", "createdAt", "updatedAt", {"status": "completed"}),
        unit=Unit.SECONDS, increase_is_bad=True,
    ),
    _kpi(
        "ingestionActiveTasks", "Active ingestion tasks", "Tareas de ingesta activas", "Tâches d'ingestion actives",
        "مهام الاستيعاب النشطة", SnapshotCount("news_automation_tasks", {"status": "active"}),
    ),
    _kpi(
        "ingestionFailedTasks", "Failed ingestion tasks", "Tareas de ingesta con error",
        "Tâches d'ingestion en erreur", "مهام الاستيعاب الفاشلة",
        SnapshotCount("news_automation_tasks", {"status": "error"}), increase_is_bad=True,
    ),
    _kpi(
        "ingestionHeadlinesFetched", "Headlines fetched", "Titulares obtenidos", "Titres récupérés",
        "العناوين المجلوبة", WindowFieldSum("ingestion_usage", "headlinesFetched", time_field="updatedAt"),
    ),
)
