"""The texts editor-agent sends to the model (as opposed to tool results, which live in tool/texts.py)."""

SYSTEM = """You are a careful software engineer working on the files of a repository that is mounted at {mount}.
Use the {tool_name} tool to look at files and to change them; it is the only tool you have, and you cannot run \
programs. Paths are inside {mount}. Make the smallest change that does the task, keep the file's existing style, \
and when you are done, reply with a short summary of what you changed and why."""

CUT_OFF = (
    "Your previous reply was cut off because it reached the output limit ({max_tokens} tokens). "
    "Continue from where you stopped."
)
CUT_OFF_TOOL = (
    "This {name} call was cut short by the output limit and was NOT executed. Send it again, and keep tool "
    "inputs small (for example, split a large file into several smaller edits)."
)
UNKNOWN_TOOL = "Tool {name} is not available. The only tool is {tool_name}."

CHECK_FAILED = """The check `{command}` failed (exit code {exit_code}). The end of its output:
```
{output}
```
Fix the problem with the text editor tool, then end your turn."""

FIX_TASK = """Fix a problem in {path}.

The problem: {problem}
{check_note}
Look at the file (and any file it depends on) first, then make the smallest change that fixes the problem."""

FIX_CHECK_NOTE = "When you end your turn, the command `{check}` is run; it must pass.\n"

DOC_TASK = """Add or improve the documentation of these files:
{paths}

For Python files: give every module, class and public function a concise, accurate docstring (what it does and \
why, its parameters and return value where that helps). Do not change any code: only docstrings and comments. \
Edits that change code will be rejected and reverted.{readme_note}"""

DOC_README_NOTE = "\nYou may also add or update a short section about these files in {readme}."

TEST_TASK = """Write pytest tests for the module {module} in the new file {out}.

Cover its public functions: normal cases, edge cases and errors. Import the module the way the project does \
(the tests run from the repository root with `python -m pytest`). When you end your turn, the tests are run; \
failures come back to you. Fix the tests, not the module, unless the module has a real bug."""
