"""The login pages: server-rendered HTML in Danish and English, usable with keyboard only."""
