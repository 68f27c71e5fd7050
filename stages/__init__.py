"""The DVC stages, one module each, run as `python -m stages.<name>` from the workspace root.

Run as modules, they import the fer_pipeline of the workspace they run in (the current directory
comes first on sys.path), never that of the checkout an editable install points at: a second clone,
a git worktree or DVC's temporary experiment workspace each run their own code.
"""
