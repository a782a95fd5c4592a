"""The MitID app: device keys, PIN, push inbox, approve/reject and channel binding (QR / 4 digits).

The package is both halves of the app emulation: the phone (:mod:`.device`) and what the verifier
keeps and checks (:mod:`.apps`, :mod:`.verifier`). They meet only through the state
(:mod:`.inbox`), the login screen (:mod:`.screen`) and the signed answer (:mod:`.answer`).
"""
