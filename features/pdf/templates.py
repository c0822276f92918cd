"""Per-vendor extraction templates, stored as YAML data in ``features/pdf/templates/``.

A template names its vendor, a ``match`` regex that recognises the vendor's documents on page 1,
optional conventions (``decimal``, ``day_first``) and, per field, one way to find the value:

- ``anchor``: a label regex. The value is right of the label or below it.
- ``pattern``: a regex searched line by line; its first group (or the whole match) is the value;
- ``region``: ``[x0, top, x1, bottom]`` in points on ``page`` (1-based, -1 for the last page);
  the text inside is the value, or what ``pattern`` finds in it.

Fields a template does not name are read by the general label rules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from features.pdf.document import ExtractedField
from features.pdf.fields import FieldRule, INVOICE_RULES, ReadingContext, find_labels, read_field, union_bbox
from features.pdf.layout import Line
from workflow.errors import PdfError

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_TEMPLATE_DIR", "FieldTemplate", "Template", "TemplateError", "apply_template",
           "find_template", "load_templates"]

DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_CONFIDENCE = 0.95
FIELD_KINDS = {rule.name: rule.kind for rule in INVOICE_RULES} | {"vendor": "text", "currency": "text"}


class TemplateError(PdfError):
    """A template file that cannot be used: invalid YAML, a missing key or a bad regex."""


@dataclass(frozen=True, slots=True)
class FieldTemplate:
    """The rule that finds one field in one vendor's layout."""

    anchor: str | None = None
    pattern: str | None = None
    region: tuple[float, float, float, float] | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class Template:
    """One vendor's layout."""

    name: str
    vendor: str
    match: str
    fields: dict[str, FieldTemplate] = field(default_factory=dict)
    decimal: str | None = None
    day_first: bool | None = None
    source: str = ""


def _compile_check(pattern: Any, where: str) -> str:
    if not isinstance(pattern, str):
        raise TemplateError(f"{where}: expected a regex string, found {pattern!r}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise TemplateError(f"{where}: invalid regex {pattern!r} ({exc}); fix the pattern") from exc
    return pattern


def _field_template(name: str, spec: Any, path: Path) -> FieldTemplate:
    where = f"{path}: field {name!r}"
    if name not in FIELD_KINDS:
        raise TemplateError(f"{where}: unknown field; use one of {', '.join(sorted(FIELD_KINDS))}")
    if not isinstance(spec, dict) or not ({"anchor", "pattern", "region"} & spec.keys()):
        raise TemplateError(f"{where}: expected a mapping with anchor, pattern or region, found {spec!r}")
    region = spec.get("region")
    if region is not None:
        if not (isinstance(region, list) and len(region) == 4 and all(isinstance(v, (int, float)) for v in region)):
            raise TemplateError(f"{where}: region must be [x0, top, x1, bottom] in points, found {region!r}")
        region = tuple(float(v) for v in region)
    return FieldTemplate(
        anchor=_compile_check(spec["anchor"], where) if "anchor" in spec else None,
        pattern=_compile_check(spec["pattern"], where) if "pattern" in spec else None,
        region=region,
        page=int(spec.get("page", 1)),
    )


def _template_from_file(path: Path) -> Template:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path}: the template cannot be read ({exc}); fix or remove the file") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: expected a YAML mapping with vendor, match and fields")
    for key in ("vendor", "match"):
        if not isinstance(data.get(key), str):
            raise TemplateError(f"{path}: missing the {key!r} key (a string)")
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        raise TemplateError(f"{path}: 'fields' must map field names to how each is found")
    decimal = data.get("decimal")
    if decimal not in (None, ".", ","):
        raise TemplateError(f"{path}: decimal must be '.' or ',', found {decimal!r}")
    return Template(
        name=str(data.get("name") or path.stem),
        vendor=data["vendor"],
        match=_compile_check(data["match"], f"{path}: match"),
        fields={name: _field_template(name, spec, path) for name, spec in fields.items()},
        decimal=decimal,
        day_first=data.get("day_first"),
        source=str(path),
    )


def load_templates(paths: Path | Iterable[Path] | None = None) -> list[Template]:
    """Load templates from YAML files or folders of them; None loads the templates shipped here."""
    if paths is None:
        paths = [DEFAULT_TEMPLATE_DIR]
    elif isinstance(paths, (str, Path)):
        paths = [Path(paths)]
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.glob("*.y*ml")))
        elif path.is_file():
            files.append(path)
        else:
            raise TemplateError(f"{path}: template file or folder not found")
    return [_template_from_file(file) for file in files]


def find_template(templates: Sequence[Template], first_page_text: str) -> Template | None:
    """Return the first template whose ``match`` regex occurs in the first page's text."""
    for template in templates:
        if re.search(template.match, first_page_text, re.IGNORECASE):
            return template
    return None


def _page_lines(lines: Sequence[Line], page: int) -> list[Line]:
    pages = sorted({line.page for line in lines})
    if not pages:
        return []
    number = pages[page] if page < 0 and -page <= len(pages) else page
    return [line for line in lines if line.page == number]


def _words_in_region(lines: Sequence[Line], region: tuple[float, float, float, float]):
    x0, top, x1, bottom = region
    return [w for line in lines for w in line.words
            if w.x0 >= x0 - 1 and w.x1 <= x1 + 1 and w.top >= top - 1 and w.bottom <= bottom + 1]


def _parse_value(name: str, text: str, context: ReadingContext) -> ExtractedField | None:
    from features.pdf.numbers import parse_amount, parse_date

    kind = FIELD_KINDS[name]
    if kind == "amount":
        amount = parse_amount(text, decimal_hint=context.decimal)
        return None if amount is None else ExtractedField(text, None, None, 1.0, amount=amount)
    if kind == "date":
        date = parse_date(text, day_first=context.day_first)
        return None if date is None else ExtractedField(text, None, None, 1.0, date=date)
    return ExtractedField(text, None, None, 1.0) if text else None


def _by_pattern(name: str, spec: FieldTemplate, lines: Sequence[Line], context: ReadingContext):
    for line in lines:
        found = re.search(spec.pattern, line.text, re.IGNORECASE)
        if found:
            text = (found.group(1) if found.groups() else found.group(0)).strip()
            value = _parse_value(name, text, context)
            if value is not None:
                covering = [w for w in line.words if w.text in text or text in w.text]
                bbox = union_bbox(covering) if covering else line.bbox
                return ExtractedField(value.value, line.page, bbox, TEMPLATE_CONFIDENCE,
                                      value.amount, value.date, "template")
    return None


def _by_region(name: str, spec: FieldTemplate, lines: Sequence[Line], context: ReadingContext):
    page_lines = _page_lines(lines, spec.page)
    words = _words_in_region(page_lines, spec.region)
    if not words:
        return None
    text = " ".join(w.text for w in words)
    if spec.pattern:
        found = re.search(spec.pattern, text, re.IGNORECASE)
        if not found:
            return None
        text = (found.group(1) if found.groups() else found.group(0)).strip()
    value = _parse_value(name, text, context)
    if value is None:
        return None
    return ExtractedField(value.value, page_lines[0].page, union_bbox(words), TEMPLATE_CONFIDENCE,
                          value.amount, value.date, "template")


def apply_template(template: Template, lines: Sequence[Line], context: ReadingContext) -> dict[str, ExtractedField]:
    """Read the fields a template names; a field the template cannot find is left to the general rules."""
    found: dict[str, ExtractedField] = {}
    for name, spec in template.fields.items():
        value = None
        if spec.region is not None:
            value = _by_region(name, spec, lines, context)
        elif spec.anchor is not None:
            rule = FieldRule(name, FIELD_KINDS[name], (spec.anchor,),
                             pick="last" if FIELD_KINDS[name] == "amount" else "first")
            value = read_field(rule, find_labels(lines, [rule]), lines, context)
            if value is not None:
                value = ExtractedField(value.value, value.page, value.bbox, TEMPLATE_CONFIDENCE,
                                       value.amount, value.date, "template")
        elif spec.pattern is not None:
            value = _by_pattern(name, spec, lines, context)
        if value is None:
            logger.info("template %s found no %s; the general rules will try", template.name, name)
            continue
        found[name] = value
    return found
