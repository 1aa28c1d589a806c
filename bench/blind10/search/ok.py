import sys, wordcheck as w
rows, by_tx = w.load()
nid = sys.argv[1]; q = ' '.join(sys.argv[2:])
words, ids = w.note_words(rows, by_tx, nid)
f, wa = w.check_query(q, words)
print(nid, 'FAIL', f, 'WARN', wa, len(w.tokens(q)))
