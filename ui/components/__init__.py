"""Custom Streamlit components shipped with static frontends (no Node at run time)."""
