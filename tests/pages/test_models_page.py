"""AppTest of the Models page: the default model's card with prior heads, export with parity, download."""
from __future__ import annotations


def test_default_model_card_and_onnx_export(app):
    at = app("models")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["model"][0].startswith("Pretrained FER mini-Xception")
    text = " ".join(m.value for m in at.markdown)
    assert "mini_xception" in text and "va **prior**" in text and "emotion **trained**" in text
    assert "prior" in at.info[0].value
    at.button(key="models_export").click().run()
    assert not at.exception and not at.error, at.error
    assert at.success[0].value.startswith("fer_mini_xception") and "max |diff|" in at.success[0].value
    assert len(at.get("download_button")) == 2
