"""Accounts: users with a role (``admin`` | ``user``) and their site memberships."""
