"""Sources of telemetry: each yields input objects (files, S3 objects) with a checkpoint identity."""
