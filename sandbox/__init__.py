"""Where code runs: Docker and local backends, images, exec, test runs and reports."""
