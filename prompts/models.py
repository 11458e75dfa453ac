"""Models of the prompts domain arrive with its issue; the app and its URLs exist from the start."""
