"""`editor-agent batch TASKS.yaml`: many tasks at once, each in its own git worktree, merged in file order.

For CI: every task starts from the same snapshot of the working tree (uncommitted changes
included), runs in a private worktree, and comes back as a patch. The patches are applied to the
working tree one at a time in the order of the file; a patch that conflicts with what is already
there is left out whole (its task fails, naming the paths) and kept as a file. All workers share
one rate-limit gate: a 429 holds every worker until its `retry-after`, and `--rpm N` spaces requests.

The command line's side (`editor-agent batch`) is `cli/batch.py`. Library use: `engine.run_batch(BatchSettings(...))`
returns a `report.BatchReport`, the object `--json` prints.

The task file (YAML; the top-level settings are defaults every task inherits):

```yaml
model: claude-opus-4-5        # a task's own value wins, then the command line, then these
max_turns: 30                 # also max_total_tokens, max_cost, timeout, max_output_tokens, thinking,
max_cost: 0.50                #   max_failed_turns, max_repeats, rounds, check_timeout: at the top or on a task
workspace: .                  # relative to the current directory; --workspace overrides it
tasks:
  - name: fix-discount        # letters, digits, . _ -; names the task's transcript and patch files
    job: fix
    path: shop.py
    problem: apply_discount treats the percentage as a fraction
    check: python -m pytest -q tests/test_shop.py
    rounds: 3
  - name: docs-api
    job: doc
    paths: ["api/*.py"]       # globs; optional readme: README.md, changed_since: origin/main
  - name: tests-cart
    job: test
    module: shop/cart.py
    out: tests/test_cart.py   # the check is pytest on this file
  - name: typos
    job: run
    task: Fix the spelling mistakes in docs/guide.md
```

`--shard I/N` runs the tasks whose 0-based position in the list, modulo N, is I-1 (`--shard 1/2`:
tasks 0, 2, 4, ...). Exit codes: 0 every task succeeded (or had nothing to do), 1 some task failed
(its run did not complete, its check failed, an edit was rejected, or its patch conflicted), 2 bad
input (the file, the flags, a workspace outside git, no credential), 130 interrupted.

A GitHub Actions workflow (`.github/workflows/editor-agent.yml`):

```yaml
name: editor-agent batch
on: pull_request
permissions:
  contents: read
jobs:
  batch:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        shard: [1, 2]
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0                  # for changed_since: origin/main in the task file
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install editor-agent     # or the pinned version / URL you install it from
      - name: Run the tasks
        env:
          ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}   # not given to pull requests from forks
        run: >
          editor-agent batch .editor-agent/tasks.yaml --jobs 4 --shard ${{ matrix.shard }}/2
          --rpm 40 --json --report batch.json > /dev/null
      - name: Show the patch
        if: always()
        run: |
          patch=$(jq -r '.patch // empty' batch.json 2>/dev/null || true)
          if [ -n "$patch" ]; then cp "$patch" batch.patch; else : > batch.patch; fi
          git apply --stat batch.patch || true
          {
            echo '### editor-agent batch, shard ${{ matrix.shard }}/2'
            echo '```diff'; cat batch.patch; echo '```'
          } >> "$GITHUB_STEP_SUMMARY"
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: editor-agent-batch-${{ matrix.shard }}
          path: |
            batch.json
            batch.patch
            .editor-agent/batch/
```
"""
