#!/usr/bin/python3
"""Seeded draw of MTSamples notes for blind11 search set.

Draw order: all note_ids (ints, ascending) -> random.Random(13102).sample(ids, len(ids))
(one full permutation, nothing else is drawn from this RNG). Walk the permutation in order and
skip a note when (a) its note_id is in skip.json, (b) its transcription is identical to that of
a skip.json note (same text under another id), (c) its transcription is empty, (d) its
transcription is identical to an earlier accepted note of this set, (e) it is listed in
NO_CASE below (no real patient case: template/letter/general info; decided by reading it).
First 60 accepted -> Part A (blind-i), next 30 -> Part B (desc-i).
"""
import csv, json, random, sys
DATA = '/work/shared/data/mtsamples/mtsamples.csv'
SKIP = '/work/brief/blind11/skip.json'
# decided by hand while reading the candidates (see README.md)
NO_CASE = {int(x) for x in open('/work/brief/blind11/search/no_case.txt').read().split() if x.strip()} \
    if __import__('os').path.exists('/work/brief/blind11/search/no_case.txt') else set()

def load():
    rows = list(csv.DictReader(open(DATA, newline='', encoding='utf-8')))
    return {int(r['note_id']): r for r in rows}

def draw():
    rows = load()
    skip = {int(x) for x in json.load(open(SKIP))['mtsamples_note_ids']}
    skip_txt = {rows[i]['transcription'].strip() for i in skip if i in rows}
    ids = sorted(rows)
    perm = random.Random(13102).sample(ids, len(ids))
    accepted, log, seen = [], [], set()
    for nid in perm:
        r = rows[nid]; t = r['transcription'].strip()
        if nid in skip: why = 'skip.json'
        elif not t: why = 'empty'
        elif t in skip_txt: why = 'same text as a skip.json note'
        elif t in seen: why = 'same text as an accepted note'
        elif nid in NO_CASE: why = 'no patient case'
        else:
            why = None; accepted.append(nid); seen.add(t)
        log.append((nid, why))
        if len(accepted) == 90: break
    return rows, accepted, log

if __name__ == '__main__':
    rows, acc, log = draw()
    if len(sys.argv) > 1 and sys.argv[1] == 'log':
        for nid, why in log: print(nid, why or 'ACCEPT')
    else:
        for k, nid in enumerate(acc):
            r = rows[nid]
            print(k, nid, '|', r['medical_specialty'], '|', r['sample_name'], '|', r['description'][:150])
