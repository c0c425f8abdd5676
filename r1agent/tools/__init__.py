"""The repository as the agent sees it: symbol index, repo map, localization, edits, git."""
