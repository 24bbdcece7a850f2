"""The Telegram loyalty bot: the assembly of settings, dispatcher, texts, sender and HTTP side."""

# The one place the version is written: pyproject.toml reads it (`[tool.setuptools.dynamic]`),
# the HTTP API reports it (OpenAPI `info.version`, `/healthz`), `loyalty-bot --version` prints it.
__version__ = "0.1.0"
