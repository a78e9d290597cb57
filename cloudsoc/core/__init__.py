"""Models, errors, configuration, the registry and the state schema. Imports no AWS SDK."""
