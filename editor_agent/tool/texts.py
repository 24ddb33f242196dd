"""Every text the editor shows the model, in one place.

Wording follows Anthropic's reference implementation of the text editor tool wherever it is
right, because the models were trained on it; where the reference is wrong or unhelpful the
text says more (each such place is marked "better than the reference").
"""

# --- input validation ---------------------------------------------------------------
INPUT_NOT_OBJECT = "The tool input must be a JSON object with a `command` and a `path`, got {got}."
COMMAND_MISSING = "Parameter `command` is required. The allowed commands for the {name} tool are: {allowed}"
COMMAND_UNKNOWN = "Unrecognized command {command}. The allowed commands for the {name} tool are: {allowed}"
# better than the reference: say why undo_edit is missing
NO_UNDO_IN_VERSION = ". ({type} has no undo_edit: to revert an edit, use str_replace with the previous text.)"
PARAM_REQUIRED = "Parameter `{param}` is required for command: {command}"
PARAM_UNKNOWN = "Parameter `{param}` is not accepted by command: {command}. Remove it and try again."
PARAM_TYPE = "Parameter `{param}` of command {command} must be {expected}, got {got}."
INSERT_BOTH = "Give the text to insert once, as `insert_text` (or `new_str`), not as both with different values."

# --- paths and the workspace --------------------------------------------------------
PATH_EMPTY = "Parameter `path` is empty. Give a path inside {mount}, e.g. {mount}/file.py"
PATH_OUTSIDE = (
    "The path {path} is outside the workspace. Paths must be inside {mount} (e.g. {mount}/file.py) or relative to it."
)
# better than the reference: `C:\foo` would otherwise become a file literally named so
PATH_FOREIGN = (
    "The path {path} is a Windows path; paths here use forward slashes and start at {mount} (e.g. {mount}/file.py) "
    "or are relative to it."
)
PATH_ESCAPES = "The path {path} escapes the workspace through a symbolic link; it cannot be used."
PATH_CHANGED = (
    "The path {path} changed while it was being used (a directory or file on it was replaced by a link); "
    "nothing was read or written. Try again."
)
PATH_NOT_FOUND = "The path {path} does not exist. Please provide a valid path."
PATH_NOT_FOUND_HINT = " Did you mean {suggestion}?"
PATH_HIDDEN = "The path {path} is hidden by the workspace policy (pattern `{pattern}`) and cannot be used."
PATH_READ_ONLY = "The path {path} is protected by the workspace policy (pattern `{pattern}`) and cannot be changed."
PATH_SPECIAL = "The path {path} is a {kind}, not a regular file; only regular files and directories can be used."
PATH_IS_DIRECTORY = "The path {path} is a directory and only the `view` command can be used on directories"
PATH_EXISTS = "File already exists at: {path}. Cannot overwrite files using command `create`."
PARENT_NOT_DIRECTORY = "Cannot create {path}: {parent} is a file, not a directory."
FILE_TOO_LARGE = "The file {path} is too large ({size}; the limit is {limit})."
FILE_TOO_LARGE_RANGE = (
    " It cannot be edited or viewed whole, but parts of it can be viewed with `view_range`, e.g. [1, 200]."
)
FILE_TOO_LARGE_NONE = " It cannot be viewed or edited with this tool."
FILE_NOT_TEXT = "The file {path} is not a text file ({kind}, {size}); the text editor can only view and edit text."
IMAGE_VIEW = "The file {path} is a {kind} image, {width}x{height} pixels ({size}). Here it is:"
IMAGE_TOO_LARGE = (
    "The file {path} is a {kind} image, {width}x{height} pixels ({size}), too large to show: images are shown "
    "up to {side} pixels a side and {limit}."
)
IMAGE_REFUSED = "The file {path} is a {kind} image, {width}x{height} pixels ({size}), but it cannot be shown: {reason}."
FILE_READ_ONLY = "The file {path} is read-only (mode {mode}); it cannot be changed."
FILE_CHANGED = (
    "The file {path} changed on disk while this edit was being made; nothing was written. "
    "View the file again and retry."
)
CANNOT_ENCODE = (
    "No change was made: the file {path} is encoded as {encoding}, which cannot hold the character {char!r}."
)
# better than the reference: a legacy encoding that is only a guess is never used to write new non-ASCII text
ENCODING_GUESS_VIEW = (
    "NOTE: {path} is not UTF-8 and its encoding could not be told for sure; it was read as {encoding}, a guess. "
    "Edits that add only ASCII text are safe; new non-ASCII text is refused until the user confirms the encoding "
    "(`--encoding '{glob}={encoding}'`, or the right one if the text above looks wrong).\n"
)
ENCODING_GUESS_NEW_TEXT = (
    "No change was made: {path} was read as {encoding}, a guess, so new non-ASCII text such as {char!r} could be "
    "written as bytes that mean something else."
)
ENCODING_GUESS_CANNOT_HOLD = (
    "No change was made: {path} was read as {encoding}, a guess, which cannot hold the character {char!r}."
)
ENCODING_CONFIRM = (
    " Edits that add only ASCII text are fine. To add non-ASCII text, the user must confirm the file's encoding "
    "with `--encoding '{glob}={encoding}'` (or the right encoding if {encoding} is wrong)."
)
IO_READ = "Could not read {path}: {reason}."
IO_WRITE = "Could not write {path}: {reason}. The file was left as it was."
UNEXPECTED = "The {command} command failed unexpectedly: {reason}. No file was changed by this call."

# --- view -----------------------------------------------------------------------------
VIEW_FILE = "Here's the result of running `cat -n` on {path}:\n{body}\n"
VIEW_EMPTY_FILE = "The file {path} is empty."
VIEW_DIRECTORY = "Here's the files and directories up to 2 levels deep in {path}, excluding hidden items:\n{body}\n"
VIEW_HIDDEN_COUNT = "\n{count} hidden items in {path} are excluded (names starting with a dot, or hidden by policy)."
VIEW_DIRECTORY_UNREADABLE = " (cannot be read: {reason})"
VIEW_DIRECTORY_CAPPED = "\n(listing stopped after {count} entries; view a subdirectory to see more)"
VIEW_RANGE_SHAPE = "Invalid `view_range`. It should be a list of two integers."
VIEW_RANGE_ON_DIRECTORY = "The `view_range` parameter is not allowed when `path` points to a directory."
VIEW_RANGE_FIRST = (
    "Invalid `view_range`: {view_range}. Its first element `{first}` should be within the range of lines "
    "of the file: {valid}"
)
VIEW_RANGE_ORDER = (
    "Invalid `view_range`: {view_range}. Its second element `{last}` should be larger or equal than its first `{first}`"
)
# better than the reference: a range past the end is clamped instead of refused
VIEW_RANGE_CLAMPED = "NOTE: The file has only {lines} lines, so lines {first}-{lines} are shown."
# better than the reference: the note says which lines were shown and how to page on
CLIPPED = (
    "<response clipped><NOTE>To save on context only part of this file has been shown to you: {lines} "
    "of {total}. Call `view` with `view_range` (e.g. [{next_first}, {next_last}]) to see more.</NOTE>"
)
CLIPPED_LINE = (
    "<response clipped><NOTE>Line {line} has {length} characters; only the first {shown} are shown. To change "
    "it, use `str_replace` with a unique piece of the text shown.</NOTE>"
)
CLIPPED_OUTPUT = "<response clipped><NOTE>To save on context only part of this output has been shown to you.</NOTE>"

# --- create ---------------------------------------------------------------------------
CREATED = "File created successfully at: {path}"
CREATED_DIRECTORIES = " (created the missing directories {directories})"

# --- str_replace ----------------------------------------------------------------------
EDITED = (
    "The file {path} has been edited. Here's the result of running `cat -n` on a snippet of {path}:\n{snippet}\n"
    "Review the changes and make sure they are as expected. Edit the file again if necessary."
)
OLD_STR_EMPTY = (
    "No replacement was performed: `old_str` is empty. To add text, use the `insert` command with a line "
    "number, or `create` for a new file."
)
OLD_STR_BLANK = (
    "No replacement was performed: `old_str` contains only whitespace, which is ambiguous. Include the text "
    "around it so that it matches exactly one place."
)
OLD_EQUALS_NEW = (
    "No replacement was performed: `old_str` and `new_str` are identical, so the edit would change nothing."
)
NOT_FOUND = "No replacement was performed, old_str `{old_str}` did not appear verbatim in {path}."
# better than the reference: real line numbers for multi-line old_str, and one line of context each
MULTIPLE = (
    "No replacement was performed. Multiple occurrences of old_str `{old_str}` in lines {lines}. "
    "Please ensure it is unique"
)
MULTIPLE_CONTEXT = "\n  line {line}: {text}"
MULTIPLE_MORE = "\n  ...and {count} more"
MULTIPLE_ADVICE = "\nAdd surrounding lines to `old_str` so that it matches exactly one place."
HINT_LINE_NUMBERS = (
    "\nHint: `old_str` starts its lines with line numbers copied from `view` output (like `{prefix}`). "
    "Send only the file's text, without the number and the tab."
)
HINT_ESCAPED_NEWLINES = (
    "\nHint: `old_str` contains the two characters `\\n` but no real line break; the file has real line "
    "breaks (and tabs) there. Send real newlines and tabs, not escaped ones."
)
HINT_TABS = (
    "\nHint: the file indents with tabs where `old_str` has spaces (near line {line}). Copy the whitespace "
    "exactly as in the file."
)
HINT_SPACES = (
    "\nHint: the file indents with spaces where `old_str` has tabs (near line {line}). Copy the whitespace "
    "exactly as in the file."
)
HINT_ALREADY_PRESENT = (
    "\nNote: `new_str` already appears in the file at line {line}; the edit may have been applied already."
)
HINT_CLOSEST = "\nDid you mean lines {first}-{last}? They are the closest match ({score}% similar):\n{snippet}"
HINT_CRLF = "\nNote: the file has CRLF line endings; they match the `\\n` you send, so they are not the problem."
TIER_NOTE = "\nNote: `old_str` did not match exactly; it matched {lines} once {tier}. Those lines were replaced."
TIER_TRAILING = "after ignoring trailing whitespace"
TIER_UNICODE = "after treating typographic quotes, dashes and special spaces as plain ones"
TIER_INDENT = "with a different indentation (the file has {delta}); `new_str` was re-indented to match"
HARDLINK_NOTE = (
    "\nNote: this file had {count} hard links; the edit replaced {path} only, the other links keep the old text."
)

# --- insert ---------------------------------------------------------------------------
INSERTED = (
    "The file {path} has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n"
    "{snippet}\nReview the changes and make sure they are as expected (correct indentation, no duplicate "
    "lines, etc). Edit the file again if necessary."
)
INSERT_LINE_RANGE = (
    "Invalid `insert_line` parameter: {line}. It should be within the range of lines of the file: [0, {lines}]"
)
INSERT_LINE_APPEND = ". Use {lines} to insert after the last line."

# --- undo_edit ------------------------------------------------------------------------
UNDO_NONE = "No edit history found for {path}."
UNDONE = "Last edit to {path} undone successfully. Here's the result of running `cat -n` on {path}:\n{body}\n"
UNDONE_CREATE = "Last edit to {path} undone successfully: the edit created the file, so it has been removed."
UNDO_CONFLICT = (
    "Cannot undo the last edit to {path}: the file was changed by someone else after that edit, and undoing "
    "would overwrite those changes. View the file and edit it instead."
)

# --- changes by others ----------------------------------------------------------------
OUTSIDE_CHANGED = "\nNote: {path} was changed outside the agent since you last saw it:\n{diff}"
OUTSIDE_DELETED = "\nNote: {path} was deleted outside the agent since you last saw it."
STALE_REBASED = (
    "\nNote: {path} had been changed by someone else since you last saw it; `old_str` still matched exactly "
    "once, so the edit was applied to the current file. What changed before your edit:\n{diff}"
)
STALE_NOT_FOUND = "\nNote: {path} was changed by someone else since you last saw it. What changed:\n{diff}"
STALE_INSERT = (
    "No insertion was performed: {path} was changed by someone else since you last saw it, so line {line} may "
    "no longer be where you expect. What changed:\n{diff}View the file again, then retry."
)

# --- large files, repeated failures, read-only and approval -----------------------------
OUTLINE = "\nThe file's definitions, to pick a `view_range` from:\n{outline}"
ESCALATE_SMALL = (
    "\nThis is failed attempt {count} in a row on {path}. Here is the whole file as it is now; copy `old_str` "
    "from it exactly (without the line numbers), or replace a smaller unique piece:\n{body}"
)
ESCALATE_LARGE = (
    "\nThis is failed attempt {count} in a row on {path}. View the exact lines first with `view_range`, then "
    "copy `old_str` from that output (without the line numbers), or replace a smaller unique piece.{outline}"
)
WORKSPACE_READ_ONLY = "The workspace is read-only: {command} on {path} was not performed. Only `view` can be used."
NOT_APPROVED = "The {command} on {path} was not approved, so nothing was written: {reason}"
WRITE_TOO_LARGE = "No change was made: the new content of {path} would be {size}, over the limit of {limit}."
