"""A developer's story package whose one play fails on purpose (tests/browser/test_plays.py): the
Interactions panel and `assert_play_passes` must show which step failed and why."""
