"""The Streamlit app for batch jobs and evaluation: submit a batch, monitor batches, browse
results per image, the leaderboard and the model cards. Run with ``genlens ui streamlit``.

Like the Gradio demo it is a client of the job service (:class:`genlens.worker.client.JobClient` and
the database); models run in worker processes only.
"""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "streamlit_pages"

st.set_page_config(page_title="genlens batches", layout="wide")
st.navigation(
    [
        st.Page(PAGES / "submit_batch.py", title="Submit a batch", default=True),
        st.Page(PAGES / "monitor.py", title="Monitor batches"),
        st.Page(PAGES / "results.py", title="Results per image"),
        st.Page(PAGES / "leaderboard.py", title="Leaderboard"),
        st.Page(PAGES / "models.py", title="Model cards"),
    ]
).run()
