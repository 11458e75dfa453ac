"""One test harness for every app: HTTP helpers, credentials, the permission matrix, factories."""
