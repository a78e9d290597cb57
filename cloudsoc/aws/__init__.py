"""Sessions and clients per account and region."""
