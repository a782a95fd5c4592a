"""The local login server: an OIDC provider, login pages and the emulator control API.

``mitid-emu serve`` runs it; :class:`~authenticators.server.runner.ServerThread` runs it inside a
test process; :mod:`authenticators.pytest_plugin` gives it to tests as fixtures.
"""
