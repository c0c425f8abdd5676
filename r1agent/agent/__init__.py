"""The LangGraph fix loop: state, nodes, routing and prompt templates."""
