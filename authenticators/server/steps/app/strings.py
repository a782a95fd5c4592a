"""The app step's words on the login pages, in Danish (the default) and English.

Registered in the "authenticators.pages" entry-point group; ``kind_<kind>`` is the name on the
method choice.
"""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "kind_app": {"da": "MitID app", "en": "MitID app"},
    "app_heading": {"da": "Åbn MitID app", "en": "Open your MitID app"},
    "app_help": {
        "da": "Vi har sendt en anmodning til din MitID app. Åbn appen, tjek anmodningen, "
        "og godkend den.",
        "en": "We have sent a request to your MitID app. Open the app, check the request "
        "and approve it.",
    },
    "app_qr_help": {
        "da": "Scan QR-koden med din MitID app.",
        "en": "Scan the QR code with your MitID app.",
    },
    "app_qr_alt": {
        "da": "QR-kode til MitID app (skifter mellem to billeder)",
        "en": "QR code for the MitID app (alternates between two images)",
    },
    "app_code_help": {
        "da": "Kan du ikke scanne? Indtast denne kode i din MitID app:",
        "en": "Cannot scan? Type this code in your MitID app:",
    },
    "app_code_label": {"da": "Kode til MitID app", "en": "Code for the MitID app"},
    "app_show_code": {"da": "Jeg kan ikke scanne", "en": "I cannot scan"},
    "app_show_qr": {"da": "Vis QR-kode", "en": "Show the QR code"},
    "app_scanned": {
        "da": "QR-koden er scannet. Godkend i din MitID app.",
        "en": "The QR code has been scanned. Approve in your MitID app.",
    },
    "app_answered": {
        "da": "Din MitID app har svaret. Fortsæt.",
        "en": "Your MitID app has answered. Continue.",
    },
    "app_pin_needed": {
        "da": "Dette login kræver din PIN-kode i appen.",
        "en": "This login needs your PIN in the app.",
    },
    "app_no_script": {
        "da": "QR-koden skifter hvert halve sekund. Uden JavaScript: se igen, når appen "
        "beder om næste billede.",
        "en": "The QR code changes every half second. Without JavaScript: look again when "
        "the app asks for the next image.",
    },
    "app_refresh": {"da": "Opdater", "en": "Refresh"},
    "app_continue": {"da": "Fortsæt, jeg har godkendt", "en": "Continue, I have approved"},
    "app_waiting": {
        "da": "Din MitID app har ikke svaret endnu. Godkend i appen, og prøv igen.",
        "en": "Your MitID app has not answered yet. Approve in the app and try again.",
    },
}
