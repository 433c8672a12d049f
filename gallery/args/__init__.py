"""Args: a story's arguments as edited in the Controls panel. The form built from a component's
signature, and the parsing of its answers (query strings, form fields) back into arguments, with
typed errors for bad input."""
