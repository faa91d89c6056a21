"""Localized titles and messages for 001's error envelope, keyed by the error's stable code.

A code missing here falls back to the error's own (English) title and message.
"""

from __future__ import annotations

from domain.errors import RoostError

SUPPORTED = ("en", "de")
DEFAULT = "en"

# code -> lang -> (title, message). Messages may use {placeholders} filled from the error's meta.
CATALOG: dict[str, dict[str, tuple[str, str]]] = {
    "route_not_found": {
        "en": ("Not Found", "The requested endpoint does not exist."),
        "de": ("Nicht gefunden", "Der angeforderte Endpunkt existiert nicht."),
    },
    "not_found": {
        "en": ("Not Found", "The requested resource was not found."),
        "de": ("Nicht gefunden", "Die angeforderte Ressource wurde nicht gefunden."),
    },
    "method_not_allowed": {
        "en": ("Method Not Allowed", "This endpoint does not support the request method."),
        "de": ("Methode nicht erlaubt", "Dieser Endpunkt unterstützt die Anfragemethode nicht."),
    },
    "malformed_json": {
        "en": ("Malformed JSON", "The request body is not valid JSON."),
        "de": ("Ungültiges JSON", "Der Anfrageinhalt ist kein gültiges JSON."),
    },
    "bad_request": {
        "en": ("Bad Request", "The request could not be understood."),
        "de": ("Ungültige Anfrage", "Die Anfrage konnte nicht verarbeitet werden."),
    },
    "payload_too_large": {
        "en": ("Payload Too Large", "The request body is too large."),
        "de": ("Inhalt zu groß", "Der Anfrageinhalt ist zu groß."),
    },
    "unsupported_media_type": {
        "en": ("Unsupported Media Type", "The request body must be JSON."),
        "de": ("Nicht unterstützter Inhaltstyp", "Der Anfrageinhalt muss JSON sein."),
    },
    "validation_failed": {
        "en": ("Validation Failed", "The given data was invalid."),
        "de": ("Validierung fehlgeschlagen", "Die übermittelten Daten sind ungültig."),
    },
    "unauthenticated": {
        "en": ("Unauthenticated", "Please sign in to continue."),
        "de": ("Nicht angemeldet", "Bitte melde dich an, um fortzufahren."),
    },
    "forbidden": {
        "en": ("Forbidden", "You are not allowed to do this."),
        "de": ("Keine Berechtigung", "Dazu fehlt dir die Berechtigung."),
    },
    "conflict": {
        "en": ("Conflict", "The resource already exists or was changed."),
        "de": ("Konflikt", "Die Ressource existiert bereits oder wurde geändert."),
    },
    "already_exists": {
        "en": ("Already Exists", "The resource already exists."),
        "de": ("Bereits vorhanden", "Die Ressource existiert bereits."),
    },
    "gone": {
        "en": ("Gone", "This is no longer available."),
        "de": ("Nicht mehr verfügbar", "Dies ist nicht mehr verfügbar."),
    },
    "rate_limited": {
        "en": ("Too Many Requests", "Too many requests. Please try again shortly."),
        "de": ("Zu viele Anfragen", "Zu viele Anfragen. Bitte versuche es gleich noch einmal."),
    },
    "service_unavailable": {
        "en": ("Service Unavailable", "The service is temporarily unavailable."),
        "de": ("Dienst nicht verfügbar", "Der Dienst ist vorübergehend nicht verfügbar."),
    },
    "server_error": {
        "en": ("Server Error", "Something went wrong on our side."),
        "de": ("Serverfehler", "Bei uns ist etwas schiefgelaufen."),
    },
}


def pick_language(accept_language: str | None) -> str:
    """The best supported language from an Accept-Language header (q-values honoured)."""
    if not accept_language:
        return DEFAULT
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in SUPPORTED and q > 0:
            choices.append((-q, index, primary))
    return min(choices)[2] if choices else DEFAULT


def localize(err: RoostError, lang: str) -> tuple[str, str]:
    entry = CATALOG.get(err.code)
    if entry is None:
        return err.title, err.message
    title, message = entry.get(lang) or entry[DEFAULT]
    try:
        return title, message.format(**err.meta)
    except (KeyError, IndexError, ValueError):
        return title, message
