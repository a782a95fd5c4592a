"""The chip step's words on the login pages, in Danish (the default) and English.

Registered in the "authenticators.pages" entry-point group; ``kind_<kind>`` is the name on the
method choice.
"""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "kind_chip": {"da": "MitID chip", "en": "MitID chip"},
    "chip_heading": {"da": "Brug din MitID chip", "en": "Use your MitID chip"},
    "chip_help": {
        "da": "Indtast din adgangskode, sæt chippen i, og tryk på den, når browseren beder om det.",
        "en": "Enter your password, insert the chip and touch it when the browser asks.",
    },
    "chip_no_script": {
        "da": "Din browser skal have JavaScript og WebAuthn for at bruge chippen.",
        "en": "Your browser needs JavaScript and WebAuthn to use the chip.",
    },
    "chip_missing": {
        "da": "Chippen svarede ikke. Sæt den i, tryk på den, og prøv igen.",
        "en": "The chip did not answer. Insert it, touch it and try again.",
    },
    "chip_error": {
        "da": "Browseren kunne ikke bruge chippen (annulleret eller ikke fundet). Prøv igen.",
        "en": "The browser could not use the chip (cancelled or not found). Try again.",
    },
    # After the chip has signed, only the password can be wrong: say so (the key is the
    # reason's, prefixed with the kind; see ``notice_text``).
    "chip:wrong_password": {
        "da": "Adgangskoden er forkert. Indtast den igen, og brug din MitID chip igen.",
        "en": "The password is wrong. Enter it again, and use your MitID chip again.",
    },
}
