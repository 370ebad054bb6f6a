"""The always-on process: the Slack actions HTTP server and the metrics/health server."""
