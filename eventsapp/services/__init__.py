"""Plain functions holding the rules. They take and return models and never commit."""
