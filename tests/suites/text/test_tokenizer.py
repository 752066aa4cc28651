"""Kim's (2014) sentence cleaning, the training-fold vocabulary (ids, padding, JSON, fingerprint) and
reading sentence files (non-UTF-8 lines named)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.tokenizer import (
    PAD,
    PAD_ID,
    UNK,
    UNK_ID,
    Vocabulary,
    clean_sentence,
    read_sentence_file,
    tokenize,
)


@pytest.mark.parametrize("text, tokens", [
    ("isn't", ["is", "n't"]),
    ("it's", ["it", "'s"]),
    ("we've they're i'd you'll", ["we", "'ve", "they", "'re", "i", "'d", "you", "'ll"]),
    ("DON'T", ["do", "n't"]),
    ("good, bad!", ["good", ",", "bad", "!"]),
    ("(really)?", ["(", "really", ")", "?"]),
    ("a;b:c.d-e\"f\"", ["a", "b", "c", "d", "e", "f"]),
    ("3.5 stars & 10/10", ["3", "5", "stars", "10", "10"]),
    ("`quoted' word", ["`quoted'", "word"]),
    ("café", ["caf"]),
    ("  many \t spaces\n here  ", ["many", "spaces", "here"]),
])
def test_tokenize_follows_kims_cleaning_rules(text, tokens):
    assert tokenize(text) == tokens


def test_clean_sentence_joins_tokens_by_single_spaces():
    assert clean_sentence("  It's a  SHAME...isn't it?! ") == "it 's a shame is n't it ? !"


def test_lowercase_false_keeps_the_case_as_kim_did_for_trec():
    assert tokenize("What's the capital of France?", lowercase=False) == [
        "What", "'s", "the", "capital", "of", "France", "?"]
    assert tokenize("What's the capital of France?")[0] == "what"


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "...;:", "€ — ©"])
def test_empty_blank_or_all_removed_text_gives_no_tokens(text):
    assert tokenize(text) == []
    assert clean_sentence(text) == ""


def test_clean_sentence_refuses_bytes_with_a_clear_error():
    with pytest.raises(ConvsuiteError, match="decode"):
        clean_sentence(b"bytes")


TRAIN = [["the", "film", "is", "good"], ["the", "film", "is", "bad"], ["a", "good", "good", "plot"]]


def test_vocabulary_reserves_padding_and_unknown_then_ranks_by_count_then_alphabet():
    vocabulary = Vocabulary.build(TRAIN)
    assert vocabulary.words == [PAD, UNK, "good", "film", "is", "the", "a", "bad", "plot"]
    assert (vocabulary.index(PAD), vocabulary.index(UNK)) == (PAD_ID, UNK_ID) == (0, 1)
    assert len(vocabulary) == 9


def test_vocabulary_does_not_depend_on_sentence_order():
    shuffled = [TRAIN[2], TRAIN[0], list(reversed(TRAIN[1]))]
    assert Vocabulary.build(shuffled).words == Vocabulary.build(TRAIN).words


def test_vocabulary_min_count_and_max_size():
    assert Vocabulary.build(TRAIN, min_count=2).words == [PAD, UNK, "good", "film", "is", "the"]
    assert Vocabulary.build(TRAIN, max_size=2).words == [PAD, UNK, "good", "film"]
    with pytest.raises(ConvsuiteError, match="min_count"):
        Vocabulary.build(TRAIN, min_count=0)


def test_a_word_only_in_test_data_is_unknown():
    vocabulary = Vocabulary.build(TRAIN)
    test_sentence = ["the", "film", "is", "dreadful"]
    assert "dreadful" not in vocabulary
    assert vocabulary.index("dreadful") == UNK_ID
    np.testing.assert_array_equal(vocabulary.encode(test_sentence),
                                  [vocabulary.index("the"), vocabulary.index("film"), vocabulary.index("is"), UNK_ID])
    assert vocabulary.coverage([test_sentence]) == pytest.approx(0.75)
    assert vocabulary.coverage(TRAIN) == 1.0


def test_sentence_of_unknown_words_only_encodes_to_unknown_ids():
    vocabulary = Vocabulary.build(TRAIN)
    ids = vocabulary.encode(["zzz", "qqq", "xxx"])
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, [UNK_ID] * 3)
    batch = vocabulary.encode_batch([["zzz", "qqq"]])
    np.testing.assert_array_equal(batch, [[UNK_ID, UNK_ID, PAD_ID, PAD_ID, PAD_ID]])
    assert vocabulary.coverage([["zzz"]]) == 0.0


def test_encode_batch_pads_to_the_longest_sentence_but_at_least_min_length():
    vocabulary = Vocabulary.build(TRAIN)
    long_sentence = ["the", "film", "is", "good", "the", "plot", "is", "bad"]
    batch = vocabulary.encode_batch([["good"], long_sentence])
    assert batch.shape == (2, 8) and batch.dtype == np.int32
    np.testing.assert_array_equal(batch[0], [vocabulary.index("good")] + [PAD_ID] * 7)
    np.testing.assert_array_equal(batch[1], vocabulary.encode(long_sentence))
    assert vocabulary.encode_batch([["good"], ["bad"]]).shape == (2, 5)
    assert vocabulary.encode_batch([["good"]], min_length=3).shape == (1, 3)
    assert vocabulary.encode_batch([[]]).tolist() == [[PAD_ID] * 5]
    assert vocabulary.encode_batch([]).shape == (0, 5)


def test_encode_batch_given_length_cuts_or_pads_and_bucket_rounds_up():
    vocabulary = Vocabulary.build(TRAIN)
    long_sentence = ["the", "film", "is", "good", "the", "plot", "is", "bad"]
    cut = vocabulary.encode_batch([long_sentence], length=6)
    np.testing.assert_array_equal(cut[0], vocabulary.encode(long_sentence)[:6])
    assert vocabulary.encode_batch([["good"]], length=12).shape == (1, 12)
    assert vocabulary.encode_batch([["good"]], length=2).shape == (1, 5)  # the widest window still fits
    assert vocabulary.encode_batch([long_sentence], bucket=16).shape == (1, 16)
    assert vocabulary.encode_batch([long_sentence, ["a"] * 17], bucket=16).shape == (2, 32)
    with pytest.raises(ConvsuiteError, match="bucket"):
        vocabulary.encode_batch([long_sentence], bucket=0)


def test_decode_inverts_encode_and_skips_padding():
    vocabulary = Vocabulary.build(TRAIN)
    batch = vocabulary.encode_batch([["the", "plot", "is", "awful"]])
    assert vocabulary.decode(batch[0]) == ["the", "plot", "is", UNK]
    assert vocabulary.decode(batch[0], skip_padding=False)[-1] == PAD
    with pytest.raises(ConvsuiteError, match="outside"):
        vocabulary.decode([len(vocabulary)])


def test_json_round_trip_restores_the_same_ids_and_fingerprint():
    vocabulary = Vocabulary.build([tokenize("Naïve? It's the film's best, isn't it!")] + TRAIN, lowercase=False)
    restored = Vocabulary.from_json(vocabulary.to_json())
    assert restored == vocabulary
    assert restored.words == vocabulary.words and restored.lowercase is False
    assert restored.fingerprint() == vocabulary.fingerprint()
    sentences = [["the", "film", "is", "unseen"], ["it", "'s"]]
    np.testing.assert_array_equal(restored.encode_batch(sentences), vocabulary.encode_batch(sentences))


def test_fingerprint_differs_when_the_words_or_their_order_differ():
    vocabulary = Vocabulary.build(TRAIN)
    assert Vocabulary.build(TRAIN).fingerprint() == vocabulary.fingerprint()
    assert Vocabulary.build(TRAIN + [["new"]]).fingerprint() != vocabulary.fingerprint()
    swapped = Vocabulary([PAD, UNK, "film", "good", *vocabulary.words[4:]])
    assert sorted(swapped.words) == sorted(vocabulary.words)
    assert swapped.fingerprint() != vocabulary.fingerprint()


def test_from_json_refuses_edited_or_broken_vocabularies():
    data = json.loads(Vocabulary.build(TRAIN).to_json())
    data["words"][2], data["words"][3] = data["words"][3], data["words"][2]
    with pytest.raises(ConvsuiteError, match="fingerprint"):
        Vocabulary.from_json(json.dumps(data))
    with pytest.raises(ConvsuiteError, match="not valid JSON"):
        Vocabulary.from_json("{not json")
    with pytest.raises(ConvsuiteError, match="starts with"):
        Vocabulary.from_json(json.dumps({"format": 1, "words": ["good", "bad"]}))


def test_read_sentence_file_gives_one_sentence_per_line(tmp_path):
    path = tmp_path / "sentences.txt"
    path.write_bytes("first one\r\n\nthird, with ünïcode\n".encode("utf-8"))
    assert read_sentence_file(path) == ["first one", "", "third, with ünïcode"]


def test_non_utf8_line_is_named_and_latin1_reads_it(tmp_path):
    path = tmp_path / "rt-polarity.neg"
    path.write_bytes(b"a fine film\nanother one\nthe caf\xe9 scene is dull\nlast\n")
    with pytest.raises(ConvsuiteError) as error:
        read_sentence_file(path)
    message = str(error.value)
    assert "line 3" in message and str(path) in message and 'encoding="latin-1"' in message
    assert read_sentence_file(path, encoding="latin-1")[2] == "the caf\xe9 scene is dull"
    assert tokenize(read_sentence_file(path, encoding="latin-1")[2]) == ["the", "caf", "scene", "is", "dull"]


def test_read_sentence_file_missing_file_or_unknown_encoding(tmp_path):
    with pytest.raises(ConvsuiteError, match="does not exist"):
        read_sentence_file(tmp_path / "missing.txt")
    (tmp_path / "s.txt").write_text("x\n")
    with pytest.raises(ConvsuiteError, match="unknown"):
        read_sentence_file(tmp_path / "s.txt", encoding="no-such-encoding")


def test_module_imports_neither_keras_nor_tensorflow():
    code = ("import sys, convsuite.suites.text.tokenizer; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
