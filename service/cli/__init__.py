"""The ``cccd`` command line. Sub-commands live in ``cmd_*.py`` modules, found at start."""
