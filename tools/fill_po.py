"""Fill msgstr entries of a .po file from a JSON mapping {msgid: msgstr} (maintainer helper)."""
import json
import sys

from babel.messages.pofile import read_po, write_po

po_path, mapping_path = sys.argv[1], sys.argv[2]
with open(po_path, "rb") as handle:
    catalog = read_po(handle)
mapping = json.load(open(mapping_path, encoding="utf-8"))
for message in catalog:
    if message.id and message.id in mapping:
        message.string = mapping[message.id]
        message.flags.discard("fuzzy")
with open(po_path, "wb") as handle:
    write_po(handle, catalog, width=100)
missing = [m.id for m in catalog if m.id and not m.string]
print(f"{len(missing)} untranslated", *missing, sep="\n  ")
