package store

import "strings"

// searchMatch is the condition that the columns contain the text bound to
// param (already escaped with escapeLike), compared by Turkish case rules
// through search_fold: ÇAMLICA finds Çamlıca, İSTANBUL and ISTANBUL find
// İstanbul. prefix qualifies the columns ("t." for an aliased table).
func searchMatch(prefix string, columns []string, param string) string {
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = prefix + c
	}
	return "search_fold(" + strings.Join(cols, ` || E'\n' || `) + ") LIKE '%' || search_fold(" + param + ") || '%'"
}
