"""motcua: a chatbot for Vietnam's one-stop-shop offices (Bộ phận Một cửa)."""

__version__ = "0.1.0"
