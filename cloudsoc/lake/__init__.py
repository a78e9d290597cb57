"""The event lake: Parquet partitions per source/account/date and DuckDB views over them."""
