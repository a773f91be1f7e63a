"""Tabs of the Gradio demo, one module each; every module has ``build(client, my_jobs)``."""
