"""Understanding a citizen's free text: what they want (an intent) and what they gave (slots).

`understand(text)` is pure and fast (no I/O): the router in `bot.core` calls it for every typed
message before deciding which handler answers. The phrasings live in data files per language
(`bot/understanding/phrases/*.toml`), and an office adds the words its citizens use in a folder
of its own (MOTCUA_PHRASES_DIR, `matcher.office_phrase_files`) without touching code;
`bot.understanding.matcher` explains how they are weighed.
"""

from bot.understanding.intents import Intent, Understanding
from bot.understanding.matcher import Matcher, default_matcher, understand

__all__ = ["Intent", "Matcher", "Understanding", "default_matcher", "understand"]
