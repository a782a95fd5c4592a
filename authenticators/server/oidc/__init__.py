"""The OpenID Connect provider: Authlib's grants and checks, wired to the emulator's state."""
