"""The texts editor-agent sends to the model (as opposed to tool results, which live in messages.py)."""

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
