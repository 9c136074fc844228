"""Satisfaction surveys (SIPAS-style): definitions, conversation, scoring."""
