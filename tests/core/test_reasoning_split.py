"""The reasoning/answer splitter gives one split for every wire form and every chunking."""

from __future__ import annotations

import pytest

from r1agent.reasoning import ReasoningSplitter, split_message

REASONING = "The test fails because parse() drops the sign.\nSo keep it."
ANSWER = "Edit parse.py: keep the minus sign."

INLINE_FORMS = {
    "with opener": f"<think>\n{REASONING}\n</think>\n\n{ANSWER}",
    "without opener": f"\n{REASONING}\n</think>\n\n{ANSWER}",
    "opener after blank line": f"\n\n<think>{REASONING}</think>{ANSWER}",
}


@pytest.mark.parametrize("form", INLINE_FORMS)
def test_inline_forms_split_alike_at_every_chunk_boundary(form):
    text = INLINE_FORMS[form]
    for cut in range(len(text) + 1):
        for cut2 in (cut, min(len(text), cut + 3)):
            splitter = ReasoningSplitter()
            streamed = []
            for part in (text[:cut], text[cut:cut2], text[cut2:]):
                streamed += splitter.feed_content(part)
            streamed += splitter.finish()
            assert (splitter.reasoning, splitter.answer) == (REASONING, ANSWER), (form, cut, cut2)
            # The deltas say the same as the final split: nothing shown twice, nothing lost.
            assert "".join(p.text for p in streamed if p.kind == "reasoning").strip() == REASONING
            assert "".join(p.text for p in streamed if p.kind == "answer").strip() == ANSWER


@pytest.mark.parametrize("field_name", ["reasoning", "reasoning_content"])
def test_reasoning_field_and_content_split_like_inline(field_name):
    # The field's name does not matter to the splitter: the client reads either field.
    splitter = ReasoningSplitter()
    splitter.feed_content("")  # vLLM's first chunk: role and empty content
    for word in REASONING.split(" "):
        splitter.feed_reasoning(word + " ")
    splitter.feed_content("\n\n" + ANSWER)
    splitter.finish()
    assert (splitter.reasoning, splitter.answer) == (REASONING, ANSWER)
    assert split_message(ANSWER, REASONING) == (REASONING, ANSWER)
    assert split_message(INLINE_FORMS["without opener"]) == (REASONING, ANSWER)


def test_content_without_tags_is_all_answer():
    assert split_message("Just an answer.") == ("", "Just an answer.")


def test_unterminated_think_is_all_reasoning():
    # Cut off by max_tokens while still thinking: there is no answer yet.
    assert split_message("<think>\nstill thinking about") == ("still thinking about", "")


def test_text_without_opener_is_held_back_until_the_closing_tag():
    splitter = ReasoningSplitter()
    assert splitter.feed_content("thinking quietly") == []
    pieces = splitter.feed_content(" more</think>answer")
    assert [(p.kind, p.text) for p in pieces] == [("reasoning", "thinking quietly more"), ("answer", "answer")]
