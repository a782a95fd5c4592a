"""The MitID app step: push the login to the person's app, show the QR frames, wait for the answer.

Choosing the app pushes the login (the core's ``begin``) and opens its login screen: two QR frames
alternating every half second, each with half of a channel-binding value, and a 4-digit code for
people who cannot scan. The page animates the frames with a small script (served here, so the
page's ``script-src 'self'`` allows it) and polls ``/login/{flow}/app/status``; once the app has
answered, the script sends the form and the server completes the login. Without scripts, the
page shows one frame and a link to look again, and the person presses "continue" after approving.

The control API lists pending app logins and approves or rejects them as a phone held to the
screen would (it reads the frames the screen shows, then signs with the app's key), and serves
the phone's side of the exchange over HTTP under ``/emulator/app/`` for an app whose key lives
elsewhere (``mitid-emu app watch --server``).
"""

from __future__ import annotations

from authenticators.server.steps.app.login_step import AppStep, step

__all__ = ["AppStep", "step"]
