"""motcua: a chatbot for Vietnam's one-stop-shop offices (bộ phận một cửa)."""

__version__ = "0.1.0"
