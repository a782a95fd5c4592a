"""Every text the pages show, in Danish (the default) and English.

The words common to every login are here; each kind brings its own (its name on the method choice,
its step's words) through the "authenticators.pages" entry-point group.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from authenticators import registry

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
    "saml_post_heading": {"da": "Du sendes tilbage", "en": "Taking you back"},
    "saml_post_help": {
        "da": "Du sendes nu tilbage til {service}.",
        "en": "You are now being sent back to {service}.",
    },
    "cancel": {"da": "Afbryd", "en": "Cancel"},
    "methods_heading": {"da": "Vælg hvordan du vil logge på", "en": "Choose how to log in"},
    "methods_legend": {"da": "Dine MitID-identifikationsmidler", "en": "Your MitID authenticators"},
    "other_user": {"da": "Log på som en anden", "en": "Log in as someone else"},
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
    "wrong_pin": {
        "da": "Forkert PIN-kode i appen.",
        "en": "Wrong PIN in the app.",
    },
    # why a step must be done again
    "password_missing": {"da": "Indtast din adgangskode.", "en": "Enter your password."},
    "user_id_missing": {"da": "Indtast dit bruger-ID.", "en": "Enter your user ID."},
    "method_missing": {"da": "Vælg en metode.", "en": "Choose a method."},
    "organisation_missing": {"da": "Vælg en virksomhed.", "en": "Choose a company."},
    "cpr_heading": {"da": "Indtast dit CPR-nummer", "en": "Enter your CPR number"},
    "cpr_help": {
        "da": "Tjenesten har bedt om dit CPR-nummer. Det sammenholdes med dit MitID.",
        "en": "The service asked for your CPR number. It is matched with your MitID.",
    },
    "cpr_label": {"da": "CPR-nummer (10 cifre)", "en": "CPR number (10 digits)"},
    "cpr_mismatch": {
        "da": "CPR-nummeret passer ikke til dit MitID. Prøv igen.",
        "en": "The CPR number does not match your MitID. Try again.",
    },
    "wrong_code": {
        "da": "Koden eller adgangskoden er forkert. Prøv igen med en ny kode.",
        "en": "The code or the password is wrong. Try again with a new code.",
    },
    "wrong_password": {
        "da": "Koden eller adgangskoden er forkert. Prøv igen med en ny kode.",
        "en": "The code or the password is wrong. Try again with a new code.",
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
    "logged_out_heading": {"da": "Du er logget ud", "en": "You are logged out"},
    "logged_out": {
        "da": "Dit MitID-login i denne browser er afsluttet. Du kan lukke vinduet.",
        "en": "Your MitID login in this browser has ended. You may close the window.",
    },
    "bad_form": {
        "da": "Formularen var forældet eller ugyldig. Start forfra.",
        "en": "The form was out of date or invalid. Start again.",
    },
}


@cache
def table() -> dict[str, dict[str, str]]:
    """The common words and every installed kind's, by key (a kind cannot change common words)."""
    merged = dict(STRINGS)
    for kind, strings in registry.facets(registry.PAGES_GROUP).items():
        if not isinstance(strings, Mapping):
            raise TypeError(f"the page strings of {kind!r} are not a mapping")
        for key, entry in strings.items():
            merged.setdefault(key, dict(entry))
    for kind in registry.kinds():
        merged.setdefault(f"kind_{kind}", {DEFAULT_LANGUAGE: kind})
    return merged


def text(key: str, lang: str, **values: object) -> str:
    words = table()
    entry = words.get(key)
    if entry is None:
        entry = words["malformed"]
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template


def notice_text(key: str, kind: str | None, lang: str) -> str:
    """A notice in the words of the kind's step when it has its own (``chip:…``)."""
    if kind is not None and f"{kind}:{key}" in table():
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
