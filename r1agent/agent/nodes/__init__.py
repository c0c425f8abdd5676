"""One module per graph node. Each node is a function of (state, runtime) returning an update."""
