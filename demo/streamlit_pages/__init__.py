"""Pages of the Streamlit app (run by ``st.navigation`` in :mod:`demo.streamlit_app`)."""
