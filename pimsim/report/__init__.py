"""Reports: tables (text, Markdown, CSV, JSON) and plots built from plain result data."""
