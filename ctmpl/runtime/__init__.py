"""The running process: the Runner's render passes and timers, signals, pid file, status,
metrics and systemd notifications."""
