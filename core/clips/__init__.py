"""Video clips as samples: frame sampling, one tracked face per clip, per-frame embeddings."""
