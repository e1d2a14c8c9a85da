"""Display labels of enum values that appear as bar-chart categories.

Labels are language maps over the dashboard's ten language codes. ``en`` is always
present, and a missing language falls back to ``en`` when a label is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "ar", "pt", "de", "it", "zh", "hi", "ja")

LabelMap = Mapping[str, str]

# value -> (en, es, fr, ar)
_VALUE_LABELS: dict[str, tuple[str, str, str, str]] = {
    # user tiers
    "guest": ("Guest", "Invitado", "Invité", "ضيف"),
    "standard": ("Standard", "Estándar", "Standard", "عادي"),
    # entity and task statuses
    "active": ("Active", "Activo", "Actif", "نشط"),
    "draft": ("Draft", "Borrador", "Brouillon", "مسودة"),
    "archived": ("Archived", "Archivado", "Archivé", "مؤرشف"),
    "paused": ("Paused", "En pausa", "En pause", "متوقف مؤقتًا"),
    "error": ("Error", "Error", "Erreur", "خطأ"),
    # source types
    "newsAgency": ("News agency", "Agencia de noticias", "Agence de presse", "وكالة أنباء"),
    "localNewsOutlet": ("Local news outlet", "Medio local", "Média local", "وسيلة إخبارية محلية"),
    "nationalNewsOutlet": ("National news outlet", "Medio nacional", "Média national", "وسيلة إخبارية وطنية"),
    "internationalNewsOutlet": (
        "International news outlet",
        "Medio internacional",
        "Média international",
        "وسيلة إخبارية دولية",
    ),
    "specializedPublisher": ("Specialized publisher", "Editor especializado", "Éditeur spécialisé", "ناشر متخصص"),
    "blog": ("Blog", "Blog", "Blog", "مدونة"),
    "governmentSource": ("Government source", "Fuente gubernamental", "Source gouvernementale", "مصدر حكومي"),
    "aggregator": ("Aggregator", "Agregador", "Agrégateur", "مجمّع أخبار"),
    "other": ("Other", "Otro", "Autre", "أخرى"),
    # reactions
    "like": ("Like", "Me gusta", "J'aime", "إعجاب"),
    "insightful": ("Insightful", "Revelador", "Instructif", "مفيد"),
    "amusing": ("Amusing", "Divertido", "Amusant", "مضحك"),
    "sad": ("Sad", "Triste", "Triste", "حزين"),
    "angry": ("Angry", "Enfadado", "En colère", "غاضب"),
    "skeptical": ("Skeptical", "Escéptico", "Sceptique", "متشكك"),
    # report reasons
    "misinformationOrFakeNews": (
        "Misinformation or fake news",
        "Desinformación o noticias falsas",
        "Désinformation ou fausses nouvelles",
        "معلومات مضللة أو أخبار كاذبة",
    ),
    "lowQualityJournalism": (
        "Low-quality journalism",
        "Periodismo de baja calidad",
        "Journalisme de faible qualité",
        "صحافة منخفضة الجودة",
    ),
    "spamOrAdvertising": ("Spam or advertising", "Spam o publicidad", "Spam ou publicité", "رسائل مزعجة أو إعلانات"),
    # app review feedback
    "positive": ("Positive", "Positiva", "Positif", "إيجابي"),
    "negative": ("Negative", "Negativa", "Négatif", "سلبي"),
    # media
    "completed": ("Completed", "Completada", "Terminé", "مكتمل"),
    "failed": ("Failed", "Fallida", "Échoué", "فشل"),
    "pendingUpload": ("Pending upload", "Subida pendiente", "Envoi en attente", "بانتظار الرفع"),
    "userProfilePhoto": ("Profile photo", "Foto de perfil", "Photo de profil", "صورة الملف الشخصي"),
    "headlineImage": ("Headline image", "Imagen de titular", "Image de titre", "صورة العنوان"),
    "topicImage": ("Topic image", "Imagen de tema", "Image de sujet", "صورة الموضوع"),
    "sourceImage": ("Source image", "Imagen de fuente", "Image de source", "صورة المصدر"),
    "personPhoto": ("Person photo", "Foto de persona", "Photo de personne", "صورة الشخص"),
    # breaking news split
    "breaking": ("Breaking", "Última hora", "Dernière minute", "عاجل"),
    "notBreaking": ("Not breaking", "No urgente", "Non urgent", "غير عاجل"),
    # rewards
    "adFree": ("Ad-free", "Sin anuncios", "Sans publicité", "بدون إعلانات"),
    # unknown or missing values in source documents
    "unknown": ("Unknown", "Desconocido", "Inconnu", "غير معروف"),
}


def value_label(value: str) -> dict[str, str]:
    """Return the language map of an enum value; an unknown camelCase value is spelled out in English."""
    labels = _VALUE_LABELS.get(value)
    if labels is None:
        return {"en": humanize(value)}
    return dict(zip(("en", "es", "fr", "ar"), labels, strict=True))


def humanize(value: str) -> str:
    """Turn an enum name such as ``clickbaitTitle`` into ``Clickbait title``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", value).split()
    if not words:
        return value
    text = " ".join(word if word.isupper() else word.lower() for word in words)
    return text[0].upper() + text[1:]


def sanitize_language_map(value: object) -> dict[str, str] | None:
    """Reduce a stored name or title to a language map the dashboard accepts.

    Older documents hold a plain string, read as English. Unknown language codes and
    non-string entries are dropped. Without ``en``, the first remaining entry is used as English.
    Returns None when nothing usable is left.
    """
    if isinstance(value, str):
        return {"en": value} if value.strip() else None
    if not isinstance(value, Mapping):
        return None
    cleaned = {code: text for code, text in value.items() if code in LANGUAGES and isinstance(text, str) and text}
    if not cleaned:
        return None
    if "en" not in cleaned:
        cleaned = {"en": next(iter(cleaned.values())), **cleaned}
    return cleaned


def pick_label(labels: Mapping[str, str], language: str) -> str:
    return labels.get(language) or labels["en"]
