"""shopkit's stories: each module declares `STORIES` (and `ORDER`, its place in the sidebar)."""
