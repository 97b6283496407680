"""Load, validate, split and tokenize the preference pairs and the SFT corpus."""

from __future__ import annotations

PROMPT_TEMPLATE = "Patient: {prompt}\nAssistant:\n"


def format_prompt(prompt: str) -> str:
    """The exact text every response is appended to (and then EOS), everywhere in the package.

    It ends in a newline so that tokenizing the prompt and the response separately gives the
    same ids as tokenizing their concatenation (no BPE merge crosses the boundary).
    """
    return PROMPT_TEMPLATE.format(prompt=prompt)
