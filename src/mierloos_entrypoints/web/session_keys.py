"""Names shared by the modules that read and write the logged-in user of a session."""

USER_KEY = "user"
"""Session cookie entry: the random id of the server-side login session."""

USER_CACHE_ATTR = "mierloos_user"
"""`request.state` attribute holding the user once looked up in this request."""
