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
    "slug_taken": {
        "en": ("Slug Taken", "The slug {slug} is already used by another of your events."),
        "de": ("Kurzname vergeben", "Der Kurzname {slug} wird bereits von einem anderen deiner Events verwendet."),
    },
    "event_limit_reached": {
        "en": ("Event Limit Reached", "Your package allows {limit} active events and {used} are in use. Archive an event or upgrade your package."),
        "de": ("Event-Limit erreicht", "Dein Paket erlaubt {limit} aktive Events, {used} sind belegt. Archiviere ein Event oder wechsle das Paket."),
    },
    "event_archived": {
        "en": ("Event Archived", "This event is archived and cannot be published again."),
        "de": ("Event archiviert", "Dieses Event ist archiviert und kann nicht erneut veröffentlicht werden."),
    },
    "event_not_found": {
        "en": ("Event Not Found", "This event does not exist or is not available."),
        "de": ("Event nicht gefunden", "Dieses Event existiert nicht oder ist nicht verfügbar."),
    },
    "gallery_expired": {
        "en": ("Gallery Expired", "This gallery is no longer available."),
        "de": ("Galerie abgelaufen", "Diese Galerie ist nicht mehr verfügbar."),
    },
    "invalid_cursor": {
        "en": ("Invalid Cursor", "The page cursor is invalid. Please reload the gallery."),
        "de": ("Ungültiger Cursor", "Der Seiten-Cursor ist ungültig. Bitte lade die Galerie neu."),
    },
    "photo_not_found": {
        "en": ("Photo Not Found", "This photo does not exist or is no longer available."),
        "de": ("Foto nicht gefunden", "Dieses Foto existiert nicht oder ist nicht mehr verfügbar."),
    },
    "no_photos": {
        "en": ("No Photos", "This event has no approved photos to export yet."),
        "de": ("Keine Fotos", "Dieses Event hat noch keine freigegebenen Fotos zum Exportieren."),
    },
    "invalid_credentials": {
        "en": ("Invalid Credentials", "The email address or password is incorrect."),
        "de": ("Ungültige Anmeldedaten", "Die E-Mail-Adresse oder das Passwort ist falsch."),
    },
    "not_a_tenant_admin": {
        "en": ("Not a Tenant Admin", "This account does not administer a tenant."),
        "de": ("Kein Mandanten-Admin", "Dieses Konto verwaltet keinen Mandanten."),
    },
    "invalid_code": {
        "en": ("Invalid Code", "This sign-in code is invalid, expired or already used."),
        "de": ("Ungültiger Code", "Dieser Anmeldecode ist ungültig, abgelaufen oder wurde bereits verwendet."),
    },
    "missing_ability": {
        "en": ("Missing Permission", "This token does not have the permission this action requires."),
        "de": ("Fehlende Berechtigung", "Diesem Token fehlt die Berechtigung, die diese Aktion erfordert."),
    },
    "super_admin_required": {
        "en": ("Super Admins Only", "Only super admins may do this."),
        "de": ("Nur für Super-Admins", "Nur Super-Admins dürfen das."),
    },
    "global_emotion_readonly": {
        "en": ("Global Emotion", "Global emotions are shared by everyone and cannot be deleted."),
        "de": ("Globale Emotion", "Globale Emotionen werden von allen genutzt und können nicht gelöscht werden."),
    },
    "not_a_global_task": {
        "en": ("Not a Global Task", "Only global tasks can be restored."),
        "de": ("Keine globale Aufgabe", "Nur globale Aufgaben können wiederhergestellt werden."),
    },
    "event_not_open": {
        "en": ("Event Not Open", "This event no longer accepts photos."),
        "de": ("Event geschlossen", "Diese Veranstaltung nimmt keine Fotos mehr an."),
    },
    "device_id_required": {
        "en": ("Device ID Required", "The X-Device-Id header is required."),
        "de": ("Geräte-ID fehlt", "Der Header X-Device-Id ist erforderlich."),
    },
    "device_id_invalid": {
        "en": ("Invalid Device ID", "The X-Device-Id header must be 8 to 128 letters, digits or . _ : -."),
        "de": ("Ungültige Geräte-ID", "Der Header X-Device-Id muss aus 8 bis 128 Buchstaben, Ziffern oder . _ : - bestehen."),
    },
    "photo_limit_exceeded": {
        "en": ("Upload Limit Reached", "{used} of {limit} photos have been uploaded. Please contact the team to upgrade."),
        "de": ("Upload-Limit erreicht", "Es wurden {used} von {limit} Fotos hochgeladen. Bitte kontaktiere das Team für ein Upgrade."),
    },
    "unsupported_photo_type": {
        "en": ("Unsupported Photo Type", "Only JPEG, PNG and WebP photos can be uploaded."),
        "de": ("Nicht unterstütztes Fotoformat", "Es können nur Fotos im Format JPEG, PNG oder WebP hochgeladen werden."),
    },
    "photo_too_large": {
        "en": ("Photo Too Large", "The photo is too large (at most {max_bytes} bytes)."),
        "de": ("Foto zu groß", "Das Foto ist zu groß (höchstens {max_bytes} Bytes)."),
    },
    "invalid_signature": {
        "en": ("Invalid Upload Link", "The upload link is invalid."),
        "de": ("Ungültiger Upload-Link", "Der Upload-Link ist ungültig."),
    },
    "upload_expired": {
        "en": ("Upload Link Expired", "The upload link has expired. Please start the upload again."),
        "de": ("Upload-Link abgelaufen", "Der Upload-Link ist abgelaufen. Bitte starte den Upload erneut."),
    },
    "upload_already_received": {
        "en": ("Already Uploaded", "This upload has already been received."),
        "de": ("Bereits hochgeladen", "Dieser Upload wurde bereits empfangen."),
    },
    "content_type_mismatch": {
        "en": ("Wrong Content Type", "The Content-Type must be the one declared for this upload ({expected})."),
        "de": ("Falscher Inhaltstyp", "Der Content-Type muss dem für diesen Upload angegebenen entsprechen ({expected})."),
    },
    "upload_incomplete": {
        "en": ("Upload Incomplete", "The upload was interrupted. Please try again."),
        "de": ("Upload unvollständig", "Der Upload wurde unterbrochen. Bitte versuche es erneut."),
    },
    "invalid_image": {
        "en": ("Invalid Image", "The file is not a valid JPEG, PNG or WebP image."),
        "de": ("Ungültiges Bild", "Die Datei ist kein gültiges JPEG-, PNG- oder WebP-Bild."),
    },
    "image_too_large_pixels": {
        "en": ("Image Too Large", "The image has too many pixels (at most {max_pixels})."),
        "de": ("Bild zu groß", "Das Bild hat zu viele Pixel (höchstens {max_pixels})."),
    },
    "invalid_upload": {
        "en": ("Invalid Upload", "The upload is unknown for this event."),
        "de": ("Ungültiger Upload", "Dieser Upload ist für diese Veranstaltung unbekannt."),
    },
    "upload_not_received": {
        "en": ("Upload Not Received", "The photo's bytes have not been uploaded yet."),
        "de": ("Upload nicht empfangen", "Die Fotodaten wurden noch nicht hochgeladen."),
    },
    "upload_already_used": {
        "en": ("Upload Already Used", "This upload has already been used for a photo."),
        "de": ("Upload bereits verwendet", "Dieser Upload wurde bereits für ein Foto verwendet."),
    },
    "photo_failed": {
        "en": ("Photo Failed", "This photo could not be processed."),
        "de": ("Foto fehlerhaft", "Dieses Foto konnte nicht verarbeitet werden."),
    },
    "product_not_found": {
        "en": ("Unknown Product", "This product cannot be bought."),
        "de": ("Unbekanntes Produkt", "Dieses Produkt kann nicht gekauft werden."),
    },
    "idempotency_key_invalid": {
        "en": ("Invalid Idempotency Key", "The Idempotency-Key must be 1 to 255 printable ASCII characters."),
        "de": ("Ungültiger Idempotenzschlüssel", "Der Idempotency-Key muss 1 bis 255 druckbare ASCII-Zeichen haben."),
    },
    "idempotency_key_reused": {
        "en": ("Idempotency Key Reused", "This Idempotency-Key was already used with a different request."),
        "de": (
            "Idempotenzschlüssel wiederverwendet",
            "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet.",
        ),
    },
    "webhook_signature_missing": {
        "en": ("Signature Missing", "The webhook has no X-Signature header."),
        "de": ("Signatur fehlt", "Dem Webhook fehlt der X-Signature-Header."),
    },
    "webhook_signature_invalid": {
        "en": ("Invalid Signature", "The webhook signature is not valid."),
        "de": ("Ungültige Signatur", "Die Signatur des Webhooks ist ungültig."),
    },
    "webhook_signature_expired": {
        "en": ("Signature Expired", "The webhook's signed time is outside the tolerance window."),
        "de": ("Signatur abgelaufen", "Die signierte Zeit des Webhooks liegt außerhalb des Toleranzfensters."),
    },
    "webhook_payload_invalid": {
        "en": ("Invalid Webhook", "The webhook body is not a valid event."),
        "de": ("Ungültiger Webhook", "Der Inhalt des Webhooks ist kein gültiges Ereignis."),
    },
    "webhook_not_configured": {
        "en": ("Webhook Not Configured", "Webhooks from this provider are not configured."),
        "de": ("Webhook nicht eingerichtet", "Webhooks dieses Anbieters sind nicht eingerichtet."),
    },
    "limit_above_package": {
        "en": ("Above The Package Limit", "The {field} may not be greater than the package's {package_limit}."),
        "de": ("Über dem Paketlimit", "{field} darf nicht größer sein als das Paketlimit von {package_limit}."),
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
