"""Streamlit-only helpers: cached resources and data, widgets."""
