"""Watching: blocking queries that keep the Store equal to Consul's data.

``store`` holds the latest data per dependency; ``policy`` the retry, spacing and health
rules every loop follows; ``watcher`` one blocking query per dependency; ``batch`` many
``service`` queries through three change detectors and targeted reads.
"""
