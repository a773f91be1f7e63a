"""Pages of the Streamlit app (run by ``st.navigation`` in :mod:`genlens.demo.streamlit_app`)."""
