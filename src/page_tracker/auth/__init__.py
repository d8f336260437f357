"""Who is asking: API tokens, browser sessions, login limits and the audit log."""
