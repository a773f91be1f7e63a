"""Front ends: the ``genlens`` command line (and, later, the Gradio and Streamlit apps)."""
