"""`python -m editor_agent` is the `editor-agent` command."""

from .cli.main import main

raise SystemExit(main())
