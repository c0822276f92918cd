"""The tokenizer: delimiters from the ISA header, encodings, and text around the interchange."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.x12 import Delimiters, SegmentTokenizer, decode_chunks, iter_segments, parse_isa_header
from tests.code.x12.x12_builders import interchange, isa_segment, render_interchange, transaction

SIMPLE = interchange([transaction(["BHT*0019*00*R*20240101*1200*CH", "NM1*IL*1*ISAAC*NEWTON****MI*M1"])])


def segments_of(text: str) -> list[list[str]]:
    return list(iter_segments(text))


def decoded_segments(data: bytes) -> list[list[str]]:
    return list(iter_segments(decode_chunks([data])))


def test_isa_header_gives_delimiters() -> None:
    text = render_interchange(SIMPLE, element="|", component="^", terminator="!")
    header = parse_isa_header(text)
    assert header is not None
    assert header[1] == Delimiters(element="|", component="^", segment="!", repetition=None)


def test_repetition_separator_from_5010_isa() -> None:
    header = parse_isa_header(render_interchange(SIMPLE))
    assert header is not None
    assert header[1].repetition == "^"


def test_repetition_separator_absent_for_letter() -> None:
    segments = interchange([transaction(["BHT*0019"])], isa=isa_segment(repetition="U", version="00401"))
    header = parse_isa_header(render_interchange(segments))
    assert header is not None
    assert header[1].repetition is None


def test_repetition_separator_absent_before_00402() -> None:
    segments = interchange([transaction(["BHT*0019"])], isa=isa_segment(repetition="^", version="00401"))
    header = parse_isa_header(render_interchange(segments))
    assert header is not None
    assert header[1].repetition is None


def test_unpadded_isa_is_read() -> None:
    segments = interchange([transaction(["BHT*0019"])], isa=isa_segment(padded=False))
    parsed = segments_of(render_interchange(segments))
    assert parsed[0][6] == "SUBMITTER"
    assert parsed[1][0] == "GS"


def test_odd_delimiters_read_back() -> None:
    parsed = segments_of(render_interchange(SIMPLE, element="~", component="^", terminator="_"))
    assert parsed[3] == ["BHT", "0019", "00", "R", "20240101", "1200", "CH"]


def test_isaac_in_data_is_not_isa() -> None:
    parsed = segments_of(render_interchange(SIMPLE))
    ids = [segment[0] for segment in parsed]
    assert ids.count("ISA") == 1
    assert parsed[4][3] == "ISAAC"


def test_text_before_isa_is_skipped() -> None:
    text = "Business scenario 2: ISA headers follow. DISABLED ISAAC\r\n\r\n" + render_interchange(SIMPLE)
    tokenizer = SegmentTokenizer([text])
    parsed = list(tokenizer)
    assert parsed[0][0] == "ISA"
    assert tokenizer.skipped_characters > 0


def test_terminator_at_line_start() -> None:
    rendered = render_interchange(SIMPLE, terminator="", line_break="\n~")
    parsed = segments_of(rendered.rstrip("~"))
    assert [segment[0] for segment in parsed] == ["ISA", "GS", "ST", "BHT", "NM1", "SE", "GE", "IEA"]


def test_newline_as_terminator() -> None:
    parsed = segments_of(render_interchange(SIMPLE, terminator="\r\n", line_break=""))
    assert [segment[0] for segment in parsed][-1] == "IEA"


def test_newline_terminator_delimiters() -> None:
    tokenizer = SegmentTokenizer([render_interchange(SIMPLE, terminator="\n", line_break="")])
    list(tokenizer)
    assert tokenizer.delimiters is not None
    assert tokenizer.delimiters.segment == "\n"


def test_indented_crlf_lines_are_stripped() -> None:
    text = "".join("    " + line + "\r\n" for line in render_interchange(SIMPLE).splitlines())
    parsed = segments_of(text)
    assert parsed[2] == ["ST", "837", "0001"]


def test_utf8_bom_is_removed() -> None:
    parsed = decoded_segments(b"\xef\xbb\xbf" + render_interchange(SIMPLE).encode())
    assert parsed[0][0] == "ISA"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_are_decoded(encoding: str) -> None:
    parsed = decoded_segments(render_interchange(SIMPLE).encode(encoding))
    assert [segment[0] for segment in parsed][-1] == "IEA"


def test_latin1_bytes_are_kept() -> None:
    data = render_interchange(SIMPLE).replace("ISAAC", "JOS\u00c9").encode("latin-1")
    parsed = decoded_segments(data)
    assert parsed[4][3] == "JOS\u00c9"


def test_chunks_split_anywhere_read_the_same() -> None:
    text = render_interchange(SIMPLE)
    whole = segments_of(text)
    for size in (1, 2, 7, 50):
        chunks = [text[start : start + size] for start in range(0, len(text), size)]
        assert list(iter_segments(chunks)) == whole, f"chunk size {size}"


def test_interchanges_with_different_delimiters() -> None:
    first = render_interchange(SIMPLE)
    second = render_interchange(SIMPLE, element="|", component="!", terminator="\n", line_break="")
    tokenizer = SegmentTokenizer([first + second])
    parsed = list(tokenizer)
    assert [segment[0] for segment in parsed].count("ISA") == 2
    assert parsed[-1] == ["IEA", "1", "000000101"]
    assert tokenizer.delimiters == Delimiters("|", "!", "\n", "^")


def test_segment_index_counts_from_isa() -> None:
    tokenizer = SegmentTokenizer(["junk before\n" + render_interchange(SIMPLE)])
    list(tokenizer)
    assert tokenizer.segment_index == len(SIMPLE)


def test_text_without_isa_finds_nothing() -> None:
    tokenizer = SegmentTokenizer(["GS*HC*A*B~ST*837*1~SE*2*1~"])
    assert list(tokenizer) == []
    assert tokenizer.found_isa is False


DELIMITER_CHOICES = list("*|~^:>!`\\_+")
ELEMENT_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-", min_size=0, max_size=8).map(str.strip)


@st.composite
def delimiter_sets(draw: st.DrawFn) -> tuple[str, str, str, str]:
    chosen = draw(st.lists(st.sampled_from(DELIMITER_CHOICES), min_size=3, max_size=3, unique=True))
    use_newline = draw(st.booleans())
    # ISA11 must differ from the other three; ``*`` and ``:`` are the builder's own marks.
    repetition = draw(st.sampled_from([c for c in DELIMITER_CHOICES if c not in chosen and c not in "*:"]))
    return chosen[0], chosen[1], "\n" if use_newline else chosen[2], repetition


@given(
    delimiters=delimiter_sets(),
    body=st.lists(
        st.tuples(st.sampled_from(["NM1", "REF", "DTP", "CLM", "HI", "SV1"]), st.lists(ELEMENT_TEXT, min_size=1, max_size=6)),
        min_size=1,
        max_size=8,
    ),
    line_break=st.sampled_from(["", "\n", "\r\n"]),
)
@settings(max_examples=200, deadline=None)
def test_any_legal_delimiters_round_trip(
    delimiters: tuple[str, str, str, str], body: list[tuple[str, list[str]]], line_break: str
) -> None:
    element, component, terminator, repetition = delimiters
    if terminator == "\n":
        line_break = ""
    body_segments = ["*".join([segment_id, *values]) for segment_id, values in body]
    segments = interchange([transaction(body_segments)], isa=isa_segment(repetition=repetition))
    text = render_interchange(segments, element=element, component=component, terminator=terminator, line_break=line_break)

    parsed = segments_of(text)

    expected = [segment.split("*") for segment in segments]
    expected[0][-1] = component
    # A segment written as ``ID*`` with empty trailing elements keeps them; whitespace-only
    # segments cannot occur because every segment starts with its id.
    assert parsed == expected


def batches_with_delimiters(text: str, chunk_size: int) -> list[tuple[Delimiters | None, list[tuple[int, list[str]]]]]:
    chunks = [text[start : start + chunk_size] for start in range(0, len(text), chunk_size)]
    tokenizer = SegmentTokenizer(chunks)
    return [(tokenizer.delimiters, batch) for batch in tokenizer.iter_batches()]


@pytest.mark.parametrize("chunk_size", [7, 100, 100_000])
def test_batches_match_segment_iteration(chunk_size: int) -> None:
    first = render_interchange(SIMPLE)
    same = render_interchange(interchange([transaction(["BHT*0019"])], control="000000202"))
    other_separators = render_interchange(interchange([transaction(["BHT*0019"])], control="000000303"), element="|", component="^")
    other_terminator = render_interchange(interchange([transaction(["BHT*0019"])], control="000000404"), terminator="'")
    text = first + same + other_separators + other_terminator
    batches = batches_with_delimiters(text, chunk_size)
    flattened = [segment for _, batch in batches for segment in batch]
    assert [elements for _, elements in flattened] == segments_of(text)
    assert [index for index, _ in flattened] == list(range(1, len(flattened) + 1))


def test_batch_delimiters_apply_to_batch() -> None:
    first = render_interchange(SIMPLE)
    second = render_interchange(interchange([transaction(["BHT*0019"])], control="000000202"), element="|", component="^")
    batches = batches_with_delimiters(first + second, 100_000)
    element_of_control = {
        elements[13]: delimiters.element
        for delimiters, batch in batches
        for _, elements in batch
        if elements[0] == "ISA" and delimiters is not None
    }
    assert element_of_control == {"000000101": "*", "000000202": "|"}
