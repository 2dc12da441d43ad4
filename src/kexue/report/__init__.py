"""Reports: verdicts computed from stored metrics, rendered to self-contained HTML + Markdown."""
