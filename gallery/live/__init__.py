"""What only the running gallery has: per-story sandboxes the canvases' forms talk to, the key and
issuing playgrounds, and hot reload of story packages."""
