package store

// Truncate cuts s to at most n bytes, never inside a UTF-8 sequence, and
// marks a cut with "…" (so the result may exceed n by the three bytes of the
// mark). It bounds text from outside (a provider's error, a whole HTML page)
// before it is stored, so that a Turkish letter at the edge is never
// broken into invalid UTF-8.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // a continuation byte: back off to the start of its rune
		n--
	}
	return s[:n] + "…"
}
