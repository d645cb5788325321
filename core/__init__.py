"""AffectLab core library: label store, ingestion, face pipeline, models, inference, metrics."""
