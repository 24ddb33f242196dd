"""A local Messages API for tests and offline runs: scripted replies, strict validation, faults, usage.

```python
from editor_agent.testing import MessagesServer, Script

script = Script.model_validate({"turns": [{"content": [{"type": "text", "text": "Done."}]}]})
with MessagesServer(script, api_key="test-key") as server:
    client = anthropic.Anthropic(api_key="test-key", base_url=server.url)
    ...
    assert server.violations == []
```

For many conversations at once (a batch), pass `responder=` instead of a script: a function of the
request body that returns the `Turn` (or `Fault`) answering it.
"""

from .script import Fault, Script, Turn
from .server import MessagesServer, RecordedRequest, Responder
from .usage import UsageTotals

__all__ = ["Fault", "MessagesServer", "RecordedRequest", "Responder", "Script", "Turn", "UsageTotals"]
