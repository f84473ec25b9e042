#!/usr/bin/env python3
"""Check question-set JSONL files against the text of the plan document.

Usage:
    python3 data/eval/verify_facts.py [--pdf PATH] FILE.jsonl [FILE.jsonl ...]

The PDF defaults to data/sample/scan_classic_hmo.pdf in this repository. Its text is
extracted with `pdftotext -layout`; page N is the N-th form-feed-separated segment
(counting from 1), which is the PDF page number, not the number printed in the footer.

Every row that has a "question" field is checked:

* Fields: id, question, lang, answer_facts, pages, section, kind, topic, answer_type,
  in that order and no others. Rows whose id starts with "dev-" (the older dev set) may
  leave out topic and answer_type.
* Allowed values: lang en/es; kind lookup, yes_no, multi_part, procedure, negative
  ("multi-part" is also accepted on dev- rows); topic benefits_chart, drugs, appeals,
  enrollment, contacts, other; answer_type amount, time_limit, phone, yes_no, procedure,
  name_or_place, other, or "" on negative rows. kind yes_no goes with answer_type yes_no
  and kind procedure with answer_type procedure.
* ids are unique, and no question text occurs twice (compared case-insensitively after
  collapsing whitespace), across all files given.
* Negative rows have empty answer_facts and pages and an empty section.
* Answerable rows have 1-3 facts of at most 6 words each (dev- rows: at least one fact,
  any length), a sorted list of distinct pages inside the document, and a section of the
  form "Chapter X, Section Y[.Z]" (several joined with "; ").
* Each fact occurs in the whitespace-normalised text of at least one listed page (every
  run of whitespace collapsed to one space; the fact is normalised the same way), and
  every listed page holds at least one fact.
* A fact that starts or ends with a digit must not be part of a longer number: "$5"
  does not match "$50", "$5,000" or "$5.20", and "60 days" does not match "160 days".

Rows without a "question" field (for example the guard set security-dev.jsonl, whose
rows have "text" and "label") are not question rows; they are counted and skipped.

Exits 0 when every row passes, 1 when any row fails (one message per problem), and 2 on
usage errors.
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PDF = REPO_ROOT / "data" / "sample" / "scan_classic_hmo.pdf"

FIELD_ORDER = ["id", "question", "lang", "answer_facts", "pages", "section", "kind",
               "topic", "answer_type"]
DEV_OPTIONAL = {"topic", "answer_type"}
LANGS = {"en", "es"}
KINDS = {"lookup", "yes_no", "multi_part", "procedure", "negative"}
DEV_EXTRA_KINDS = {"multi-part"}
TOPICS = {"benefits_chart", "drugs", "appeals", "enrollment", "contacts", "other"}
ANSWER_TYPES = {"amount", "time_limit", "phone", "yes_no", "procedure", "name_or_place",
                "other"}
MAX_FACTS = 3
MAX_FACT_WORDS = 6
SECTION_RE = re.compile(r"Chapter \d+, Section \d+(\.\d+)?")


def normalise(text):
    """Collapse every run of whitespace to one space and trim the ends."""
    return re.sub(r"\s+", " ", text).strip()


def load_pages(pdf_path):
    """Return {page number: normalised text} for the PDF, pages counted from 1."""
    try:
        result = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"],
                                check=True, capture_output=True)
    except FileNotFoundError:
        sys.exit("error: pdftotext not found (install poppler-utils)")
    except subprocess.CalledProcessError as err:
        sys.exit(f"error: pdftotext failed on {pdf_path}: "
                 f"{err.stderr.decode('utf-8', 'replace').strip()}")
    segments = result.stdout.decode("utf-8", "replace").split("\f")
    if segments and not segments[-1].strip():
        segments.pop()  # pdftotext ends the last page with a form feed
    return {number: normalise(text) for number, text in enumerate(segments, start=1)}


def _is_digit(text, index):
    return 0 <= index < len(text) and text[index].isdigit()


def fact_on_page(fact, page_text):
    """True if fact occurs in page_text without being part of a longer number."""
    start = page_text.find(fact)
    while start != -1:
        end = start + len(fact)
        ok = True
        if fact[0].isdigit():
            before = start - 1
            if _is_digit(page_text, before) or (
                    before >= 0 and page_text[before] in ".," and
                    _is_digit(page_text, before - 1)):
                ok = False
        if fact[-1].isdigit():
            if _is_digit(page_text, end) or (
                    end < len(page_text) and page_text[end] in ".," and
                    _is_digit(page_text, end + 1)):
                ok = False
        if ok:
            return True
        start = page_text.find(fact, start + 1)
    return False


def check_row(row, pages, errors):
    """Append a message to errors for every rule the row breaks."""
    row_id = row.get("id")
    is_dev = isinstance(row_id, str) and row_id.startswith("dev-")

    # Fields and their order.
    required = [f for f in FIELD_ORDER if not (is_dev and f in DEV_OPTIONAL)]
    missing = [f for f in required if f not in row]
    unknown = [f for f in row if f not in FIELD_ORDER]
    if missing:
        errors.append(f"missing field(s): {', '.join(missing)}")
    if unknown:
        errors.append(f"unknown field(s): {', '.join(unknown)}")
    if not missing and not unknown:
        expected = [f for f in FIELD_ORDER if f in row]
        if list(row) != expected:
            errors.append(f"fields out of order: {list(row)} (expected {expected})")

    if not isinstance(row_id, str) or not row_id:
        errors.append("id must be a non-empty string")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        errors.append("question must be a non-empty string")

    lang = row.get("lang")
    if lang not in LANGS:
        errors.append(f"lang {lang!r} not in {sorted(LANGS)}")
    kind = row.get("kind")
    allowed_kinds = KINDS | DEV_EXTRA_KINDS if is_dev else KINDS
    if kind not in allowed_kinds:
        errors.append(f"kind {kind!r} not in {sorted(allowed_kinds)}")
    if "topic" in row and row["topic"] not in TOPICS:
        errors.append(f"topic {row['topic']!r} not in {sorted(TOPICS)}")

    negative = kind == "negative"
    if "answer_type" in row:
        answer_type = row["answer_type"]
        if negative:
            if answer_type != "":
                errors.append("negative row must have answer_type \"\"")
        else:
            if answer_type not in ANSWER_TYPES:
                errors.append(f"answer_type {answer_type!r} not in {sorted(ANSWER_TYPES)}")
            for paired in ("yes_no", "procedure"):
                if (kind == paired) != (answer_type == paired):
                    errors.append(f"kind {kind!r} and answer_type {answer_type!r} disagree "
                                  f"(kind {paired} goes with answer_type {paired})")

    facts = row.get("answer_facts")
    row_pages = row.get("pages")
    section = row.get("section")
    if not isinstance(facts, list) or not all(isinstance(f, str) and f.strip() for f in facts):
        errors.append("answer_facts must be a list of non-empty strings")
        return
    if not isinstance(row_pages, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in row_pages):
        errors.append("pages must be a list of integers")
        return
    if not isinstance(section, str):
        errors.append("section must be a string")
        return

    if negative:
        if facts or row_pages or section:
            errors.append("negative row must have empty answer_facts, pages and section")
        return

    if not facts:
        errors.append("answerable row needs at least one answer fact")
    if not is_dev:
        if len(facts) > MAX_FACTS:
            errors.append(f"{len(facts)} answer facts (at most {MAX_FACTS})")
        for fact in facts:
            if len(fact.split()) > MAX_FACT_WORDS:
                errors.append(f"fact {fact!r} has more than {MAX_FACT_WORDS} words")
    if not row_pages:
        errors.append("answerable row needs at least one page")
    if row_pages != sorted(set(row_pages)):
        errors.append(f"pages {row_pages} must be sorted and distinct")
    bad_pages = [p for p in row_pages if p not in pages]
    if bad_pages:
        errors.append(f"page(s) {bad_pages} outside the document (1-{len(pages)})")
    if not all(SECTION_RE.fullmatch(part) for part in section.split("; ")):
        errors.append(f"section {section!r} is not 'Chapter X, Section Y[.Z]' "
                      "(several joined with '; ')")

    good_pages = [p for p in row_pages if p in pages]
    pages_with_fact = set()
    for fact in facts:
        needle = normalise(fact)
        found = [p for p in good_pages if fact_on_page(needle, pages[p])]
        if not found:
            inside_number = [p for p in good_pages if needle in pages[p]]
            if inside_number:
                errors.append(f"fact {fact!r} occurs on page(s) {inside_number} only as part "
                              "of a longer number")
            else:
                errors.append(f"fact {fact!r} not found on page(s) {row_pages}")
        pages_with_fact.update(found)
    empty = [p for p in good_pages if p not in pages_with_fact]
    if empty:
        errors.append(f"page(s) {empty} hold none of the facts")


def main():
    parser = argparse.ArgumentParser(
        description="Verify answer facts and fields of question-set JSONL files.")
    parser.add_argument("files", nargs="+", type=Path, help="JSONL files to check")
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF,
                        help=f"plan document (default: {DEFAULT_PDF.relative_to(REPO_ROOT)})")
    args = parser.parse_args()

    if not args.pdf.is_file():
        print(f"error: PDF not found: {args.pdf}", file=sys.stderr)
        return 2
    pages = load_pages(args.pdf)

    failures = 0
    checked = 0
    skipped = 0
    seen_ids = {}
    seen_questions = {}
    for path in args.files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            print(f"error: cannot read {path}: {err}", file=sys.stderr)
            return 2
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            errors = []
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                print(f"FAIL {where}: invalid JSON: {err}")
                failures += 1
                continue
            if not isinstance(row, dict):
                print(f"FAIL {where}: row is not a JSON object")
                failures += 1
                continue
            if "question" not in row and "text" in row and "label" in row:
                skipped += 1  # guard-set row, not a question row
                continue
            checked += 1
            row_id = row.get("id")
            if isinstance(row_id, str):
                if row_id in seen_ids:
                    errors.append(f"duplicate id (first at {seen_ids[row_id]})")
                else:
                    seen_ids[row_id] = where
            question = row.get("question")
            if isinstance(question, str):
                key = normalise(question).lower()
                if key in seen_questions:
                    errors.append(f"duplicate question text (first at {seen_questions[key]})")
                else:
                    seen_questions[key] = where
            check_row(row, pages, errors)
            for message in errors:
                print(f"FAIL {where} [{row_id}]: {message}")
            if errors:
                failures += 1

    summary = f"{checked} question rows checked in {len(args.files)} file(s)"
    if skipped:
        summary += f"; {skipped} non-question rows skipped"
    if failures:
        print(f"{summary}; {failures} row(s) failed")
        return 1
    print(f"{summary}; all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
