"""Story modules, one per component family. Each declares `STORIES` (a list of `Story`) and
`ORDER` (its place in the sidebar); the registry imports every module here."""
