"""Every text the pages show, in Danish (the default) and English."""

from __future__ import annotations

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"

STRINGS: dict[str, dict[str, str]] = {
    "title": {"da": "Log på med MitID (emulator)", "en": "Log in with MitID (emulator)"},
    "emulator_notice": {
        "da": "Dette er en emulator til test. Brug aldrig rigtige oplysninger her.",
        "en": "This is an emulator for testing. Never use real credentials here.",
    },
    "skip": {"da": "Gå til indhold", "en": "Skip to content"},
    "other_language": {"da": "English", "en": "Dansk"},
    "service_provider": {"da": "Tjenesteudbyder", "en": "Service provider"},
    "reference_text": {"da": "Referencetekst", "en": "Reference text"},
    "level": {"da": "Sikringsniveau", "en": "Level of assurance"},
    "level_low": {"da": "Lav", "en": "Low"},
    "level_substantial": {"da": "Betydelig", "en": "Substantial"},
    "level_high": {"da": "Høj", "en": "High"},
    "level_business": {"da": "Erhverv (betydelig)", "en": "Business (substantial)"},
    "user_id_heading": {"da": "Log på", "en": "Log in"},
    "user_id_label": {"da": "Bruger-ID", "en": "User ID"},
    "user_id_help": {
        "da": "Det bruger-ID, du har valgt i MitID.",
        "en": "The user ID you chose in MitID.",
    },
    "continue": {"da": "Fortsæt", "en": "Continue"},
    "cancel": {"da": "Afbryd", "en": "Cancel"},
    "methods_heading": {"da": "Vælg hvordan du vil logge på", "en": "Choose how to log in"},
    "methods_legend": {"da": "Dine MitID-identifikationsmidler", "en": "Your MitID authenticators"},
    "kind_codeviser": {"da": "Kodeviser", "en": "Code display"},
    "kind_kodeoplaeser": {"da": "Kodeoplæser", "en": "Audio code reader"},
    "kind_chip": {"da": "MitID chip", "en": "MitID chip"},
    "kind_app": {"da": "MitID app", "en": "MitID app"},
    "other_user": {"da": "Log på som en anden", "en": "Log in as someone else"},
    "code_heading_codeviser": {
        "da": "Indtast kode fra kodeviser",
        "en": "Enter the code from your code display",
    },
    "code_heading_kodeoplaeser": {
        "da": "Indtast kode fra kodeoplæser",
        "en": "Enter the code from your audio code reader",
    },
    "code_label": {"da": "Kode ({digits} cifre)", "en": "Code ({digits} digits)"},
    "code_help_codeviser": {
        "da": "Tryk på knappen på kodeviseren ({serial}) og indtast koden.",
        "en": "Press the button on your code display ({serial}) and type the code.",
    },
    "code_help_kodeoplaeser": {
        "da": "Tænd kodeoplæseren ({serial}) med den røde knap, lyt og indtast koden.",
        "en": "Turn on the audio code reader ({serial}) with the red button, listen, "
        "and type the code.",
    },
    "password_label": {"da": "Adgangskode", "en": "Password"},
    "log_in": {"da": "Log på", "en": "Log in"},
    "choose_method": {"da": "Vælg en anden metode", "en": "Choose another method"},
    "organisation_heading": {
        "da": "Vælg hvilken virksomhed du logger på for",
        "en": "Choose the company you log in for",
    },
    "organisation_legend": {"da": "Virksomheder", "en": "Companies"},
    "cvr": {"da": "CVR", "en": "CVR"},
    "failed_heading": {"da": "Login lykkedes ikke", "en": "The login did not succeed"},
    "try_again": {"da": "Prøv igen", "en": "Try again"},
    "back_to_service": {"da": "Tilbage til tjenesten", "en": "Back to the service"},
    "error_heading": {"da": "Forespørgslen kan ikke bruges", "en": "The request cannot be used"},
    "error_intro": {
        "da": "Tjenesten sendte en forespørgsel, som MitID ikke kan bruge:",
        "en": "The service sent a request MitID cannot use:",
    },
    "error_code": {"da": "Fejlkode", "en": "Error code"},
    "notice_heading": {"da": "Bemærk", "en": "Please note"},
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
    "wrong_pin": {
        "da": "Forkert PIN-kode i appen.",
        "en": "Wrong PIN in the app.",
    },
    # why a step must be done again
    "code_format": {
        "da": "Koden skal være de cifre, kodeviseren viser, og intet andet.",
        "en": "The code is the digits the token shows, and nothing else.",
    },
    "password_missing": {"da": "Indtast din adgangskode.", "en": "Enter your password."},
    "user_id_missing": {"da": "Indtast dit bruger-ID.", "en": "Enter your user ID."},
    "method_missing": {"da": "Vælg en metode.", "en": "Choose a method."},
    "organisation_missing": {"da": "Vælg en virksomhed.", "en": "Choose a company."},
    "wrong_code": {
        "da": "Koden eller adgangskoden er forkert. Prøv igen med en ny kode.",
        "en": "The code or the password is wrong. Try again with a new code.",
    },
    "wrong_password": {
        "da": "Koden eller adgangskoden er forkert. Prøv igen med en ny kode.",
        "en": "The code or the password is wrong. Try again with a new code.",
    },
    # After the chip has signed, only the password can be wrong: say so (the key is the
    # reason's, prefixed with the kind; see ``notice_text``).
    "chip:wrong_password": {
        "da": "Adgangskoden er forkert. Indtast den igen, og brug din MitID chip igen.",
        "en": "The password is wrong. Enter it again, and use your MitID chip again.",
    },
    "replayed": {
        "da": "Koden er allerede brugt. Vent på næste kode, og prøv igen.",
        "en": "That code has been used. Wait for the next code and try again.",
    },
    "malformed": {
        "da": "Svaret kunne ikke læses. Prøv igen.",
        "en": "The answer could not be read. Try again.",
    },
    # why a login failed
    "unknown_user": {
        "da": "Der findes ingen MitID med det bruger-ID.",
        "en": "There is no MitID with that user ID.",
    },
    "hint_mismatch": {
        "da": "Tjenesten bad om en anden person end det bruger-ID.",
        "en": "The service asked for another person than that user ID.",
    },
    "no_methods": {
        "da": "Du har ingen identifikationsmidler, der når det sikringsniveau, tjenesten kræver.",
        "en": "You have no authenticator that reaches the level of assurance the service requires.",
    },
    "method_not_available": {
        "da": "Den valgte metode kan ikke bruges til dette login.",
        "en": "The chosen method cannot be used for this login.",
    },
    "insufficient_level": {
        "da": "Metoden når ikke det sikringsniveau, tjenesten kræver.",
        "en": "The method does not reach the level of assurance the service requires.",
    },
    "no_password": {
        "da": "Der er ingen adgangskode på din MitID, og metoden kræver en.",
        "en": "Your MitID has no password, and this method needs one.",
    },
    "locked": {
        "da": "Dit identifikationsmiddel er spærret efter for mange forkerte koder. "
        "Vent og prøv igen.",
        "en": "Your authenticator is blocked after too many wrong codes. Wait and try again.",
    },
    "expired": {
        "da": "Login-forsøget er udløbet. Start forfra.",
        "en": "The login attempt has expired. Start again.",
    },
    "too_many_attempts": {
        "da": "For mange forsøg. Start forfra.",
        "en": "Too many attempts. Start again.",
    },
    "unknown_authenticator": {
        "da": "Identifikationsmidlet findes ikke længere.",
        "en": "The authenticator no longer exists.",
    },
    "no_organisation": {
        "da": "Du kan ikke logge på for en virksomhed: du er ikke tilknyttet nogen.",
        "en": "You cannot log in for a company: you are not linked to any.",
    },
    "organisation_not_member": {
        "da": "Du er ikke tilknyttet den virksomhed, tjenesten bad om.",
        "en": "You are not linked to the company the service asked for.",
    },
    "rejected_by_user": {"da": "Du afviste login.", "en": "You rejected the login."},
    "not_approved": {"da": "Login blev ikke godkendt.", "en": "The login was not approved."},
    "parallel_session": {
        "da": "Der er allerede et login i gang. Afslut det først.",
        "en": "Another login is in progress. Finish it first.",
    },
    "bad_signature": {"da": "Svaret var ikke gyldigt.", "en": "The answer was not valid."},
    "bad_binding": {
        "da": "Svaret hørte til et andet login.",
        "en": "The answer belonged to another login.",
    },
    "counter_regression": {
        "da": "Identifikationsmidlet ser ud til at være kopieret.",
        "en": "The authenticator seems to have been cloned.",
    },
    "session_lost": {
        "da": "Login-forløbet findes ikke (længere) i denne browser. Start forfra fra tjenesten.",
        "en": "This login is not (or no longer) known in this browser. "
        "Start again from the service.",
    },
    "bad_form": {
        "da": "Formularen var forældet eller ugyldig. Start forfra.",
        "en": "The form was out of date or invalid. Start again.",
    },
}


def text(key: str, lang: str, **values: object) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        entry = STRINGS["malformed"]
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template


def notice_text(key: str, kind: str | None, lang: str) -> str:
    """A notice in the words of the kind's step when it has its own (``chip:…``)."""
    if kind is not None and f"{kind}:{key}" in STRINGS:
        return text(f"{kind}:{key}", lang)
    return text(key, lang)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among ``ui_locales``-style candidates, else Danish."""
    for candidate in candidates:
        if not candidate:
            continue
        for part in candidate.replace(",", " ").split():
            code = part.split(";")[0].split("-")[0].strip().lower()
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE
