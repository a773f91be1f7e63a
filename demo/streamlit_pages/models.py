"""Model cards: every registered classifier and every shipped in-filler and prior, with the
card the training run wrote (world, metrics, reproducing command, seed, wall time)."""

import streamlit as st

from genlens.demo.model_cards import model_cards

st.title("Model cards")
for card in model_cards():
    kind = card.zoo.kind if card.zoo else "classifier"
    with st.expander(f"{card.name} ({kind})", expanded=False):
        st.write(card.description)
        if card.zoo is None:
            st.caption("built-in: weights from an installed package")
            continue
        details = card.zoo.card
        metrics = {
            key: value
            for key, value in details.get("metrics", {}).items()
            if isinstance(value, int | float)
        }
        if metrics:
            st.dataframe(
                [{"metric": key, "value": value} for key, value in metrics.items()], hide_index=True
            )
        st.json({key: value for key, value in details.items() if key != "metrics"}, expanded=False)
