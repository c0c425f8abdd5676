"""Localization and the context pack, on a real git repo indexed with real tree-sitter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import write_repo

from r1agent.settings import Settings
from r1agent.tools.context import build_context_pack
from r1agent.tools.localize import FileHit, localize
from r1agent.tools.tokens import estimate_tokens

FILES = {
    "shop/cart.py": (
        "from shop.pricing import apply_discount\n\n"
        "class Cart:\n    def __init__(self):\n        self.items = []\n\n"
        "    def add_item(self, sku, qty):\n        self.items.append((sku, qty))\n\n"
        "    def total(self):\n        return apply_discount(sum(q for _, q in self.items))\n"
    ),
    "shop/pricing.py": (
        "def apply_discount(amount, code=None):\n    if code == 'HALF':\n        return amount / 2\n    return amount\n\n"
        "def currency_round(value):\n    return round(value, 2)\n"
    ),
    "shop/shipping.py": "class ShippingQuote:\n    def estimate_delivery_days(self, postcode):\n        return 3\n",
    "shop/users.py": "class Account:\n    def change_password(self, old, new):\n        return new\n",
    "shop/inventory.py": "def restock(warehouse, sku, count):\n    return count\n\ndef reserve_stock(sku):\n    return True\n",
    "tests/test_cart.py": "from shop.cart import Cart\n\ndef test_total():\n    assert Cart().total() == 0\n",
    ".env": "STRIPE_KEY=sk_live_do_not_leak\n",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> tuple[Path, Settings]:
    repo = write_repo(tmp_path_factory.mktemp("shop"), FILES)
    return repo, Settings(cache_dir=tmp_path_factory.mktemp("cache"))


def test_words_of_the_issue_find_the_file(shop):
    repo, settings = shop
    result = localize(repo, "Shipping quote estimate of delivery days ignores the postcode", settings, top_k=3)
    assert result.files[0].path == "shop/shipping.py"
    assert any(s.name == "ShippingQuote.estimate_delivery_days" for s in result.symbols)


def test_stack_trace_frames_and_named_identifiers_lead(shop):
    repo, settings = shop
    issue = (
        "Checkout total is wrong\n\nTraceback (most recent call last):\n"
        '  File "/srv/app/shop/cart.py", line 11, in total\n'
        "ZeroDivisionError in `apply_discount`\n"
    )
    result = localize(repo, issue, settings, top_k=5)
    top2 = {h.path for h in result.files[:2]}
    assert top2 == {"shop/cart.py", "shop/pricing.py"}
    cart = next(h for h in result.files if h.path == "shop/cart.py")
    assert "stack frame shop/cart.py:11" in cart.why
    pricing = next(h for h in result.files if h.path == "shop/pricing.py")
    assert "`apply_discount`" in pricing.why
    assert all(isinstance(h, FileHit) and h.score > 0 for h in result.files)


def test_ranking_is_deterministic(shop):
    repo, settings = shop
    issue = "reserve stock for a sku fails after restock"
    assert localize(repo, issue, settings) == localize(repo, issue, settings)


def test_context_pack_holds_top_files_within_budget_and_never_secrets(shop):
    repo, settings = shop
    pack = build_context_pack(repo, "`apply_discount` ignores the HALF code", settings,
                              map_tokens=200, file_tokens=120, pinned=[".env", "shop/users.py"])
    paths = [f.path for f in pack.files]
    assert paths[0] == "shop/users.py"  # pinned first
    assert "shop/pricing.py" in paths and ".env" not in paths
    assert sum(estimate_tokens(f.text) for f in pack.files) <= 120
    assert all(f.text == (repo / f.path).read_text() for f in pack.files)
    assert "sk_live" not in pack.repo_map + "".join(f.text for f in pack.files)
    assert not any(f"{p}:" in pack.repo_map for p in paths)  # files sent whole are not mapped again
    assert pack.localization.files[0].path == "shop/pricing.py"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "r1agent", *args], capture_output=True, text=True)


def test_localize_command_prints_json(shop, tmp_path):
    repo, _ = shop
    issue = tmp_path / "issue.md"
    issue.write_text("Account.change_password accepts an empty new password")
    proc = _cli("localize", "--repo", str(repo), "--issue-file", str(issue), "--top-k", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [f["path"] for f in data["files"]][0] == "shop/users.py"
    assert set(data["files"][0]) == {"path", "score", "why"} and len(data["files"]) <= 2
    assert data["symbols"][0]["name"] == "Account.change_password"


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"  \n\n", "empty"), (b"\x00\x01PNG", "binary")])
def test_unusable_issue_file_exits_2_with_one_line(shop, tmp_path, content, message):
    repo, _ = shop
    issue = tmp_path / "issue.bin"
    issue.write_bytes(content)
    proc = _cli("localize", "--repo", str(repo), "--issue-file", str(issue))
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.strip().count("\n") == 0


def test_localize_outside_a_git_repo_exits_2(tmp_path):
    issue = tmp_path / "issue.md"
    issue.write_text("something breaks")
    proc = _cli("localize", "--repo", str(tmp_path), "--issue-file", str(issue))
    assert proc.returncode == 2 and "not a git repository" in proc.stderr


def test_bm25_from_query_term_counts_scores_as_okapi_over_the_words():
    """Only the query's terms are looked up per document; the scores are Okapi BM25 over the words."""
    import math

    import numpy as np

    from r1agent.tools.terms import bm25, query_counts

    docs = [["parse", "sign", "parse", "number"], ["render", "invoice"], ["parse"], [], ["sign", "sign", "minus"]]
    query = ["parse", "sign", "absent", "sign"]
    lengths = np.array([len(d) for d in docs], dtype=float)
    got = bm25(query_counts(docs, set(query)), lengths, query)

    avg = lengths.mean()
    want = []
    for doc in docs:
        score = 0.0
        for q in query:
            df = sum(q in d for d in docs)
            tf = doc.count(q)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            score += idf * tf * 2.5 / (tf + 1.5 * (0.25 + 0.75 * len(doc) / avg)) if tf else 0.0
        want.append(score)
    assert np.allclose(got, want) and got[0] > 0 and got[1] == got[3] == 0
    # a term in every document still counts for something, and a repeated query term counts twice
    assert bm25(query_counts(docs[:1], {"parse"}), lengths[:1], ["parse"])[0] > 0
    assert np.isclose(bm25(query_counts(docs, {"sign"}), lengths, ["sign", "sign"])[4],
                      2 * bm25(query_counts(docs, {"sign"}), lengths, ["sign"])[4])

