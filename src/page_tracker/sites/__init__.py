"""Sites: the tracked domains, their allowed hosts and options."""
