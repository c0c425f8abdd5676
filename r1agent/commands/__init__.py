"""One module per CLI subcommand; each stays thin and calls into the packages."""
