"""Stories as data: declaring them (`Story`, `Call`, `Seed`), loading story packages into the
registry, reading components' signatures, and writing a story's Python (its snippet and a runnable
app). Nothing here renders a page or serves a request."""
