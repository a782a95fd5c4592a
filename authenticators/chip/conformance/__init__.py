"""Conformance: python-fido2's own device suite (``tests/device`` of its sdist) against the
simulator over UDP.

:mod:`.plugin` is the pytest plugin that routes python-fido2's HID layer to a UDP token and
answers the suite's power controller; :mod:`.runner` fetches the suite, starts a fresh
``mitid-emu chip serve`` and runs the suite through the plugin (``make conformance``).
"""
