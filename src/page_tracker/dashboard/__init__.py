"""The dashboard at ``/dashboard/``: server-rendered pages for site owners on top of the
auth services (session, CSRF, sign-in limits) and the stats API."""
