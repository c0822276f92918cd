"""Split X12 text into segments, taking the delimiters from each ISA header.

The tokenizer streams: it takes text chunks and keeps only the unfinished tail of the last
chunk, so a file of hundreds of MB never sits in memory whole. Each interchange declares its own
delimiters in its ISA header, so the tokenizer reads them again at every ISA.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "Delimiters",
    "SegmentTokenizer",
    "decode_chunks",
    "iter_segments",
    "parse_isa_header",
]

logger = logging.getLogger(__name__)

ISA_ELEMENT_COUNT = 16
"""ISA01 to ISA16: an ISA header always has exactly 16 elements after the segment id."""

MAX_ISA_LENGTH = 1000
"""Maximum number of characters scanned for one ISA header before the candidate is rejected.

A padded ISA is 106 characters, so this leaves ample room for headers with overlong ids.
"""

_WHITESPACE = " \t\r\n"

BATCH_SIZE = 256
"""Pieces of text split into segments per batch that ``SegmentTokenizer.iter_batches`` yields."""

_LATIN1_FALLBACK = "x12_latin1_fallback"


def _decode_as_latin1(error: UnicodeError) -> tuple[str, int]:
    # Bytes that are not valid UTF-8 are almost always Latin-1 or cp1252 text in a name or an
    # address. Decoding them one by one as Latin-1 keeps the valid UTF-8 around them intact.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_LATIN1_FALLBACK, _decode_as_latin1)


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators one interchange uses, as declared in its ISA header.

    ``repetition`` is None before version 00402 or when ISA11 is a letter or digit (the 4010
    interchange control standards id ``U``).
    """

    element: str
    component: str
    segment: str
    repetition: str | None = None


def parse_isa_header(text: str, start: int = 0) -> tuple[list[str], Delimiters, int] | None:
    """Parse the ISA header that begins at ``text[start]``.

    The fields are found by splitting on the element separator, so headers whose fields are not
    padded to fixed width are read too. Returns the 17 elements (``ISA`` first), the delimiters
    and the position right after the segment terminator, or None when the text there is not a
    complete ISA header.
    """
    if text[start : start + 3] != "ISA" or len(text) < start + 4:
        return None
    element = text[start + 3]
    if element.isalnum() or element in _WHITESPACE:
        return None

    # Find the 16th element separator (the first is right after ``ISA``): ISA16 is the single
    # character after it.
    position = start + 3
    limit = min(len(text), start + MAX_ISA_LENGTH)
    for _ in range(ISA_ELEMENT_COUNT - 1):
        position = text.find(element, position + 1, limit)
        if position < 0:
            return None
    component_position = position + 1
    if component_position >= len(text):
        return None
    component = text[component_position]
    if component.isalnum() or component in _WHITESPACE or component == element:
        return None

    segment, end = _find_isa_terminator(text, component_position + 1)
    if segment is None or segment in (element, component):
        return None

    elements = text[start : component_position - 1].split(element)
    elements.append(component)
    if not _plausible_isa(elements):
        return None
    repetition = _repetition_separator(elements, element, component, segment)
    return elements, Delimiters(element, component, segment, repetition), end


def _plausible_isa(elements: list[str]) -> bool:
    """Tell whether ISA fields look like an interchange header, not prose that happens to say "ISA".

    Only fields with a fixed numeric shape are checked, after trimming, so headers whose fields are
    not padded still pass: ISA09 date (6 digits), ISA10 time (4 digits) and ISA12 version (5 digits).
    """
    if len(elements) != ISA_ELEMENT_COUNT + 1:
        return False
    date, time, version = (elements[index].strip() for index in (9, 10, 12))
    return (len(date) == 6 and date.isdigit() and len(time) == 4 and time.isdigit()
            and len(version) == 5 and version.isdigit())


def _find_isa_terminator(text: str, position: int) -> tuple[str | None, int]:
    # The terminator is the character right after ISA16. When that is a line break or a space,
    # either the line break itself ends segments (the next text starts a segment id) or the
    # real terminator was written at the start of the next line (``~GS*...``).
    if position >= len(text):
        return None, position
    first = text[position]
    if first not in _WHITESPACE:
        return first, position + 1

    following = position
    while following < len(text) and text[following] in _WHITESPACE:
        following += 1
    if following >= len(text) or text[following].isalnum():
        line_break = "\n" if first == " " else first
        return line_break, position + 1
    return text[following], following + 1


def _repetition_separator(elements: list[str], element: str, component: str, segment: str) -> str | None:
    version = elements[12].strip()
    marker = elements[11].strip()
    if len(marker) != 1 or marker.isalnum() or not version.isdigit() or version < "00402":
        return None
    if marker in (element, component, segment):
        return None
    return marker


class SegmentTokenizer:
    """Iterate the segments of X12 text as lists of elements, the segment id first.

    ``delimiters`` are those of the interchange the last segment belongs to, and
    ``segment_index`` counts segments from 1 at the first ISA of the text. Text before the first
    ISA and between interchanges that is not a segment is skipped; ``found_isa`` tells whether
    any ISA header was found at all.
    """

    def __init__(self, chunks: Iterable[str]) -> None:
        self._chunks = iter(chunks)
        self.delimiters: Delimiters | None = None
        self.segment_index = 0
        self.found_isa = False
        self.skipped_characters = 0

    def __iter__(self) -> Iterator[list[str]]:
        for batch in self.iter_batches():
            for index, elements in batch:
                self.segment_index = index
                yield elements

    def iter_batches(self) -> Iterator[list[tuple[int, list[str]]]]:
        """Yield the segments in lists of (segment index, elements), one list per chunk of text.

        This is the fast path for readers: it avoids one generator step per segment. Every ISA
        starts a new list, so ``delimiters`` apply to every segment of the list just yielded.
        ``segment_index`` is that of the last segment of the list.
        """
        buffer = ""
        exhausted = False
        while True:
            if self.delimiters is None:
                buffer, exhausted = yield from self._seek_isa(buffer, exhausted)
                if self.delimiters is None:
                    return
            buffer, exhausted = yield from self._split_segments(buffer, exhausted)
            if exhausted and self.delimiters is not None:
                return

    def _read_chunk(self) -> str | None:
        for chunk in self._chunks:
            if chunk:
                return chunk
        return None

    def _seek_isa(self, buffer: str, exhausted: bool):  # noqa: ANN202 - a sub-generator
        """Find the next ISA header, set the delimiters and yield the ISA segment."""
        search_from = 0
        while True:
            position = _find_isa_candidate(buffer, search_from)
            if position < 0:
                if exhausted:
                    self.skipped_characters += len(buffer.strip())
                    return "", True
                # Keep two characters: an ``IS`` at the end may be the start of ``ISA``.
                self.skipped_characters += len(buffer[:-2].strip())
                buffer = buffer[-2:]
                search_from = 0
                chunk = self._read_chunk()
                if chunk is None:
                    exhausted = True
                else:
                    buffer += chunk
                continue

            # Read on until the whole header is buffered: a line break after ISA16 at the end of
            # the buffer could be followed by the real terminator in the next chunk.
            if not exhausted and len(buffer) - position < MAX_ISA_LENGTH:
                chunk = self._read_chunk()
                if chunk is None:
                    exhausted = True
                else:
                    buffer += chunk
                continue

            header = parse_isa_header(buffer, position)
            if header is None:
                search_from = position + 3
                continue

            elements, delimiters, end = header
            self.skipped_characters += len(buffer[:position].strip())
            self.delimiters = delimiters
            self.found_isa = True
            self.segment_index += 1
            yield [(self.segment_index, elements)]
            return buffer[end:], exhausted

    def _split_segments(self, buffer: str, exhausted: bool):  # noqa: ANN202 - a sub-generator
        """Yield batches of segments with the current delimiters until the text ends or they change."""
        delimiters = self.delimiters
        assert delimiters is not None
        terminator = delimiters.segment
        element = delimiters.element
        strip_characters = "".join(c for c in _WHITESPACE if c not in (element, terminator))

        while True:
            if not exhausted:
                chunk = self._read_chunk()
                if chunk is None:
                    exhausted = True
                else:
                    buffer += chunk
            may_hold_isa = "ISA" in buffer
            pieces = buffer.split(terminator)
            # The last piece has no terminator yet, unless the text has ended.
            buffer = "" if exhausted else pieces.pop()
            stripped = [piece.strip(strip_characters) for piece in pieces]

            # An ISA with the same delimiters is an ordinary segment here. One with other
            # delimiters, or one that is not a valid header, ends the batch: the text from it on
            # goes back to _seek_isa, which reads its header afresh.
            stop = _first_delimiter_change(stripped, terminator, delimiters) if may_hold_isa else None
            end = len(stripped) if stop is None else stop
            # Small batches let the segments of a batch be freed before the garbage collector
            # scans them: a batch of a whole chunk made the collector several times slower.
            for begin in range(0, end, BATCH_SIZE):
                pieces_of_batch = filter(None, stripped[begin : min(begin + BATCH_SIZE, end)])
                batch = [(index, piece.split(element)) for index, piece in enumerate(pieces_of_batch, self.segment_index + 1)]
                if batch:
                    self.segment_index = batch[-1][0]
                    yield batch
            if stop is not None:
                rest = terminator.join(pieces[stop:])
                self.delimiters = None
                return (rest + terminator + buffer) if not exhausted else rest, exhausted
            if exhausted:
                return "", True


def _first_delimiter_change(pieces: list[str], terminator: str, delimiters: Delimiters) -> int | None:
    """Return the position of the first piece that starts an interchange with other delimiters, or None."""
    for number in [number for number, piece in enumerate(pieces) if piece[:3] == "ISA"]:
        piece = pieces[number]
        if len(piece) <= 3 or piece[3].isalnum():
            continue
        header = parse_isa_header(piece + terminator)
        if header is None or header[2] != len(piece) + 1 or header[1] != delimiters:
            return number
    return None


def _find_isa_candidate(text: str, start: int) -> int:
    # An ISA is only an interchange start when no letter or digit sits right before it, so
    # ``ISAAC`` or ``DISABLED`` in a preamble is not taken for a header.
    position = text.find("ISA", start)
    while position >= 0:
        if position == 0 or not text[position - 1].isalnum():
            return position
        position = text.find("ISA", position + 1)
    return -1


def iter_segments(text: str | Iterable[str]) -> Iterator[list[str]]:
    """Yield the segments of X12 text as lists of elements, the segment id first.

    ``text`` is one string or an iterable of text chunks. Composite elements are not split:
    split them on the component separator of the interchange.
    """
    chunks = [text] if isinstance(text, str) else text
    return iter(SegmentTokenizer(chunks))


CHUNK_SIZE = 1 << 20
"""Bytes decoded at a time: large enough that per-chunk overhead is small, small enough to stream."""


def sniff_encoding(head: bytes) -> str:
    """Return the codec name for X12 bytes that start with ``head``.

    UTF-16 is recognised by its byte order mark or by NUL bytes between ASCII letters. Anything
    else is read as UTF-8 with a per-byte Latin-1 fallback, which cannot fail.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:400]
    if sample.count(0) * 3 >= len(sample) > 0:
        odd_nuls = sample[1::2].count(0)
        even_nuls = sample[0::2].count(0)
        return "utf-16-le" if odd_nuls >= even_nuls else "utf-16-be"
    return "utf-8"


def decode_chunks(byte_chunks: Iterable[bytes]) -> Iterator[str]:
    """Decode a stream of byte chunks to text chunks, sniffing the encoding from the first one."""
    decoder: codecs.IncrementalDecoder | None = None
    for chunk in byte_chunks:
        if not chunk:
            continue
        if decoder is None:
            encoding = sniff_encoding(chunk)
            errors = _LATIN1_FALLBACK if encoding.startswith("utf-8") else "replace"
            decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
        yield decoder.decode(chunk)
    if decoder is not None:
        yield decoder.decode(b"", final=True)
