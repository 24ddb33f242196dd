"""`python -m editor_agent` is the `editor-agent` command."""

from .cli import main

raise SystemExit(main())
