"""The team-lead web page (server-rendered, in French, Dutch and English)."""
