"""The one grammar of the five commands (``train``, ``prepare``, ``predict``,
``evaluate``, ``export``) and their error handling; see ``docs/cli.md``."""
