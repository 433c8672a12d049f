"""apikeys-platform's `apikeys.db` package path (see `byok.issuing.db.session`)."""
