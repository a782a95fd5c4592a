"""The code tokens' words on the login pages, in Danish (the default) and English.

Registered in the "authenticators.pages" entry-point group; ``kind_<kind>`` is the name on the
method choice.
"""

from __future__ import annotations

_SHARED: dict[str, dict[str, str]] = {
    "code_label": {"da": "Kode ({digits} cifre)", "en": "Code ({digits} digits)"},
    "code_format": {
        "da": "Koden skal være de cifre, kodeviseren viser, og intet andet.",
        "en": "The code is the digits the token shows, and nothing else.",
    },
}

CODEVISER: dict[str, dict[str, str]] = {
    "kind_codeviser": {"da": "Kodeviser", "en": "Code display"},
    "code_heading_codeviser": {
        "da": "Indtast kode fra kodeviser",
        "en": "Enter the code from your code display",
    },
    "code_help_codeviser": {
        "da": "Tryk på knappen på kodeviseren ({serial}) og indtast koden.",
        "en": "Press the button on your code display ({serial}) and type the code.",
    },
    **_SHARED,
}

KODEOPLAESER: dict[str, dict[str, str]] = {
    "kind_kodeoplaeser": {"da": "Kodeoplæser", "en": "Audio code reader"},
    "code_heading_kodeoplaeser": {
        "da": "Indtast kode fra kodeoplæser",
        "en": "Enter the code from your audio code reader",
    },
    "code_help_kodeoplaeser": {
        "da": "Tænd kodeoplæseren ({serial}) med den røde knap, lyt og indtast koden.",
        "en": "Turn on the audio code reader ({serial}) with the red button, listen, "
        "and type the code.",
    },
    **_SHARED,
}
