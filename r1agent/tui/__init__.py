"""The Textual app: renders what the agent graph streams; no agent logic of its own."""
